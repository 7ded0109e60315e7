/**
 * Diffusers ONNX folders (issue 10) against the fixture script's own PyTorch
 * computation (tests/fixtures/make_diffusers_fixture.py → expected.json):
 * tokens, text states, and the first step's x̂0 for the prompt, the negative
 * prompt and CFG 7.5, on int64-, float- and float16-timestep/UNet variants,
 * and the unconditional DDPM pixel pipeline.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDiffusersFolder } from '../../electron/engine/diffusers/folder';
import { DiffusersPipeline } from '../../electron/engine/diffusers/pipeline';
import { ClipTokenizer } from '../../electron/engine/diffusers/tokenizer';
import { floatsToHalf, floatToHalf, halfToFloat, halvesToFloats, OnnxPart } from '../../electron/engine/diffusers/onnx-part';
import { Vae } from '../../electron/engine/diffusers/vae';
import { onnxModel } from '../helpers/onnx-writer';

const ROOT = join(__dirname, '..', 'fixtures', 'diffusers');
interface Tensor {
  shape: number[];
  data: number[];
}
interface PipelineCase {
  predictionType: string;
  timestepDtype: string;
  unetDtype: string;
  prompt: string;
  negativePrompt: string;
  guidance: number;
  idsCond: number[];
  idsUncond: number[];
  timestep: number;
  alphaCumprod: number;
  sigma: number;
  latent: Tensor;
  textEncoderCond: Tensor;
  textEncoderUncond: Tensor;
  x0Cond: Tensor;
  x0Uncond: Tensor;
  x0Cfg: Tensor;
}
const expected = JSON.parse(readFileSync(join(ROOT, 'expected.json'), 'utf8')) as {
  tokens: Array<{ text: string; idsPadEos: number[]; idsPadBang: number[] }>;
  pipelines: Record<string, PipelineCase>;
  vaeDecode: { latentSample: Tensor; sample: Tensor };
  vaeEncode: { latentSample: Tensor };
  scalingFactor: number;
};

/** max |a − b| relative to max |b|: the fixture script's own measure (1e-4 float32, 2e-3 float16). */
function relativeError(actual: ArrayLike<number>, reference: readonly number[]): number {
  expect(actual.length).toBe(reference.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - reference[i]!));
  }
  return worst / scale;
}

const pipelines = new Map<string, Promise<DiffusersPipeline>>();
function pipeline(name: string): Promise<DiffusersPipeline> {
  if (!pipelines.has(name)) pipelines.set(name, DiffusersPipeline.load(readDiffusersFolder(join(ROOT, name)), { provider: 'cpu' }));
  return pipelines.get(name)!;
}
afterAll(async () => {
  for (const pending of pipelines.values()) await (await pending).dispose();
});

describe('CLIP tokenizer from the folder\'s own files', () => {
  it.each([
    ['tiny-sd', 'vocab.json + merges.txt, pad <|endoftext|>', 'idsPadEos'],
    ['tiny-sd-float-t', 'vocab.json + merges.txt, pad "!" (SD 2.x)', 'idsPadBang'],
    ['tiny-sd-fp16', 'tokenizer.json', 'idsPadEos'],
  ] as const)('%s (%s) gives the script\'s independent BPE ids for every fixed string', (name, _what, key) => {
    const tokenizer = ClipTokenizer.load(join(ROOT, name, 'tokenizer'));
    expect(tokenizer.maxLength).toBe(77);
    for (const entry of expected.tokens) expect(tokenizer.encode(entry.text).ids, entry.text).toEqual(entry[key]);
  });

  it('truncates a long prompt to 77 ids that still end in EOS, and says how much it cut', () => {
    const tokenizer = ClipTokenizer.load(join(ROOT, 'tiny-sd', 'tokenizer'));
    const long = expected.tokens.find((entry) => entry.text.split(' ').length > 60)!;
    const { ids, truncated } = tokenizer.encode(long.text);
    expect(ids).toHaveLength(77);
    expect(ids[76]).toBe(tokenizer.eosId);
    expect(truncated).toBeGreaterThan(0);
  });
});

describe('first step against PyTorch', () => {
  it.each(['tiny-sd', 'tiny-sd-float-t', 'tiny-sd-fp16'])('%s: text states, and x̂0 for the prompt, the negative prompt and CFG 7.5', async (name) => {
    const reference = expected.pipelines[name]!;
    const loaded = await pipeline(name);
    // float16 UNet: the fixture's own tolerance for its float16 graph (2e-3); float32: 1e-4.
    const tolerance = reference.unetDtype === 'float16' ? 2e-3 : 1e-4;
    expect(loaded.tokenizer!.encode(reference.prompt).ids).toEqual(reference.idsCond);
    expect(loaded.tokenizer!.encode(reference.negativePrompt).ids).toEqual(reference.idsUncond);
    const text = await loaded.textCondition(reference.prompt, reference.negativePrompt);
    expect(relativeError(text.cond, reference.textEncoderCond.data)).toBeLessThan(1e-4);
    expect(relativeError(text.uncond, reference.textEncoderUncond.data)).toBeLessThan(1e-4);

    const [, channels, height, width] = reference.latent.shape as [number, number, number, number];
    const denoiser = loaded.denoiser({ height, width });
    expect(denoiser.image.channels).toBe(channels);
    // The stored latent is x_t; in σ form x = x_t / α with α = sqrt(ᾱ_t).
    const alpha = Math.sqrt(reference.alphaCumprod);
    const x = Float32Array.from(reference.latent.data, (v) => v / alpha);
    expect(loaded.schedule.networkSigma(reference.sigma)).toBeCloseTo(reference.sigma, 9);
    const cond = await denoiser.denoise(x, [reference.sigma], { labels: [null], guidance: 1, text: { ...text, uncond: text.cond } });
    const uncond = await denoiser.denoise(x, [reference.sigma], { labels: [null], guidance: 1, text: { ...text, cond: text.uncond } });
    const cfg = await denoiser.denoise(x, [reference.sigma], { labels: [null], guidance: reference.guidance, text });
    expect(relativeError(cond, reference.x0Cond.data)).toBeLessThan(tolerance);
    expect(relativeError(uncond, reference.x0Uncond.data)).toBeLessThan(tolerance);
    expect(relativeError(cfg, reference.x0Cfg.data)).toBeLessThan(tolerance);
  });

  it('batches the prompt and the negative prompt into one UNet call (dynamic batch)', async () => {
    const reference = expected.pipelines['tiny-sd']!;
    const loaded = await pipeline('tiny-sd');
    const text = await loaded.textCondition(reference.prompt, reference.negativePrompt);
    const denoiser = loaded.denoiser(undefined, text);
    const before = loaded.forwardCalls;
    await denoiser.denoise(new Float32Array(denoiser.dim).fill(0.5), [reference.sigma], { labels: [null], guidance: 7.5 });
    expect(loaded.forwardCalls - before).toBe(1);
    expect(loaded.fixedBatch).toBeNull();
  });

  it("runs x again under extra states (guidance's pair) exactly as a copied batch, with the pair's states stacked once", async () => {
    const reference = expected.pipelines['tiny-sd']!;
    const loaded = await pipeline('tiny-sd');
    const text = await loaded.textCondition(reference.prompt, reference.negativePrompt);
    const image = loaded.gridImage();
    const dim = image.channels * image.height * image.width;
    const x = Float32Array.from({ length: 2 * dim }, (_, i) => Math.sin(i) * 3);
    const sigmas = [reference.sigma, reference.sigma];
    const states = [text.cond, text.cond, text.uncond, text.uncond];
    const doubled = new Float32Array(2 * x.length);
    doubled.set(x);
    doubled.set(x, x.length);
    // Same inputs to the same graph: equal to the last bit.
    expect(await loaded.predict(x, sigmas, image, states)).toEqual(await loaded.predict(doubled, [...sigmas, ...sigmas], image, states));
    const first = loaded.unetFeeds(x, sigmas, image, states, 0, 4).feeds['encoder_hidden_states']!;
    const again = loaded.unetFeeds(x, sigmas, image, states, 0, 4).feeds['encoder_hidden_states']!;
    expect(again.values).toBe(first.values);
    expect(first.constant).toBe(true);
    expect(Array.from(first.values as Float32Array).slice(2 * text.cond.length)).toEqual(Array.from(text.uncond).concat(Array.from(text.uncond)));
    // One row: the prompt's own states, no copy.
    expect(loaded.unetFeeds(x, sigmas, image, [text.uncond], 0, 1).feeds['encoder_hidden_states']!.values).toBe(text.uncond);
  });

  it('tiny-ddpm: the unconditional pixel pipeline gives PyTorch\'s x̂0', async () => {
    const reference = expected.pipelines['tiny-ddpm']!;
    const loaded = await pipeline('tiny-ddpm');
    expect(loaded.vae).toBeNull();
    expect(loaded.tokenizer).toBeNull();
    const [, , height, width] = reference.latent.shape as [number, number, number, number];
    const denoiser = loaded.denoiser({ height, width });
    const alpha = Math.sqrt(reference.alphaCumprod);
    const x0 = await denoiser.denoise(Float32Array.from(reference.latent.data, (v) => v / alpha), [reference.sigma]);
    // clip_sample: diffusers' DDPM step clips x̂0 to ±clip_sample_range, and so does the pipeline's denoiser.
    expect(loaded.clipSample).toBe(1);
    const clipped = reference.x0Cond.data.map((v) => Math.min(1, Math.max(-1, v)));
    expect(reference.x0Cond.data.some((v) => Math.abs(v) > 1)).toBe(true);
    expect(relativeError(x0, clipped)).toBeLessThan(1e-4);
  });

  it('VAE decode divides by the scaling factor and matches PyTorch; encode multiplies by it', async () => {
    const loaded = await pipeline('tiny-sd');
    const { latentSample: latent, sample } = expected.vaeDecode;
    const [, channels, height, width] = latent.shape as [number, number, number, number];
    // decode() takes scaled latents (what the sampler holds); the stored latent is what the decoder sees.
    const scaled = Float32Array.from(latent.data, (v) => v * expected.scalingFactor);
    const image = await loaded.vae!.decode(scaled, { channels, height, width, range: [-1, 1] });
    expect(relativeError(image, sample.data)).toBeLessThan(1e-4);

    // The encoder's input: 0.9·(u, v, u·v) over a 64×64 grid (expected.json's note).
    const size = 64;
    const smooth = new Float32Array(3 * size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const u = -1 + (2 * x) / (size - 1);
        const v = -1 + (2 * y) / (size - 1);
        [u, v, u * v].forEach((value, c) => (smooth[(c * size + y) * size + x] = 0.9 * value));
      }
    }
    const encoded = await loaded.vae!.encode(smooth, { channels: 3, height: size, width: size, range: [-1, 1] }, 4);
    const mean = expected.vaeEncode.latentSample.data.map((v) => v * expected.scalingFactor);
    expect(relativeError(encoded, mean)).toBeLessThan(1e-4);
  });
});

describe('float16 at the boundary', () => {
  it('round-trips halves exactly and rounds floats to the nearest half (ties to even)', () => {
    for (const value of [0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.333251953125]) expect(halfToFloat(floatToHalf(value))).toBe(value);
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // a tie rounds to the even mantissa
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfToFloat(floatToHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });

  it('converts whole arrays as the one-value functions do (every half, and floats between halves)', () => {
    const halves = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
    expect(halvesToFloats(halves)).toEqual(Float32Array.from(halves, halfToFloat));
    // From below the smallest subnormal half to past the largest half, both signs; a view at an offset.
    const floats = Float32Array.from({ length: 20000 }, (_, i) => (i % 2 ? -1 : 1) * 2 ** (i / 700 - 26) * (1 + Math.sin(i) / 3));
    expect(floatsToHalf(floats.subarray(1))).toEqual(Uint16Array.from(floats.subarray(1), floatToHalf));
    expect(Array.from(floatsToHalf([0.5, -2]))).toEqual([floatToHalf(0.5), floatToHalf(-2)]);
  });
});

describe("newer Optimum's VAE encoder output", () => {
  it('takes the posterior mean from "latent_parameters" ([mean; log-variance] on channels)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'painter-latent-parameters-'));
    const encoderPath = join(folder, 'model.onnx');
    // sample [1, 3, 8, 8] → SpaceToDepth(8) [1, 192, 1, 1] → its first 8 channels as latent_parameters [1, 8, 1, 1].
    writeFileSync(
      encoderPath,
      onnxModel({
        inputs: [{ name: 'sample', dims: ['batch', 3, 'height', 'width'] }],
        outputs: [{ name: 'latent_parameters', dims: ['batch', 8, 'h', 'w'] }],
        nodes: [
          { op: 'SpaceToDepth', inputs: ['sample'], outputs: ['blocks'], ints: { blocksize: 8 } },
          { op: 'Slice', inputs: ['blocks', 'starts', 'ends', 'axes'], outputs: ['latent_parameters'] },
        ],
        int64Initializers: { starts: [0], ends: [8], axes: [1] },
      }),
    );
    const decoder = await OnnxPart.open(join(ROOT, 'tiny-sd', 'vae_decoder', 'model.onnx'), 'the VAE decoder', 'cpu');
    const encoder = await OnnxPart.open(encoderPath, 'the VAE encoder', 'cpu');
    const vae = new Vae(decoder, encoder, 0.5, 8);
    const image = Float32Array.from({ length: 3 * 64 }, (_, i) => (i % 17) / 17 - 0.5);
    const latent = await vae.encode(image, { channels: 3, height: 8, width: 8, range: [-1, 1] }, 4);
    // SpaceToDepth's channel k holds pixel (k / 3 / 8, k / 3 % 8) of colour k % 3: the mean's 4 channels are
    // colours 0, 1, 2 at (0, 0) and colour 0 at (0, 1); times the scaling factor.
    const pixel = (c: number, y: number, x: number): number => image[(c * 8 + y) * 8 + x]!;
    expect(Array.from(latent)).toEqual([pixel(0, 0, 0), pixel(1, 0, 0), pixel(2, 0, 0), pixel(0, 0, 1)].map((v) => Math.fround(v) * 0.5));
    await decoder.dispose();
    await encoder.dispose();
  });
});

describe('a UNet exported with a fixed batch of 1', () => {
  it('chunks a CFG batch of 3 (6 rows) into single-row calls and gives the closed-form x̂0', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'painter-fixed-batch-')), 'fixed');
    cpSync(join(ROOT, 'tiny-sd'), folder, { recursive: true });
    rmSync(join(folder, 'unet', 'model.onnx_data'));
    // ε̂ = sample · mean(encoder_hidden_states): a UNet whose output depends on the text, batch fixed to 1.
    writeFileSync(
      join(folder, 'unet', 'model.onnx'),
      onnxModel({
        inputs: [
          { name: 'sample', dims: [1, 4, 'height', 'width'] },
          { name: 'timestep', dims: [1], elemType: 7 },
          { name: 'encoder_hidden_states', dims: [1, 77, 32] },
        ],
        outputs: [{ name: 'out_sample', dims: [1, 4, 'height', 'width'] }],
        nodes: [
          { op: 'ReduceMean', inputs: ['encoder_hidden_states'], outputs: ['mean'], ints: { keepdims: 1 } },
          { op: 'Mul', inputs: ['sample', 'mean'], outputs: ['product'] },
          // The timestep must reach the graph's outputs for ONNX Runtime to accept it: times zero.
          { op: 'Cast', inputs: ['timestep'], outputs: ['t'], ints: { to: 1 } },
          { op: 'Mul', inputs: ['t', 'zero'], outputs: ['t0'] },
          { op: 'Add', inputs: ['product', 't0'], outputs: ['out_sample'] },
        ],
        floatInitializers: { zero: [0] },
      }),
    );
    const loaded = await DiffusersPipeline.load(readDiffusersFolder(folder), { provider: 'cpu' });
    expect(loaded.fixedBatch).toBe(1);
    const text = await loaded.textCondition('a watercolor fox', 'blurry, dark photo');
    const denoiser = loaded.denoiser({ height: 2, width: 3 }, text);
    const sigma = loaded.schedule.samplingSigmas(10, 'euler')[4]!;
    const x = Float32Array.from({ length: 3 * denoiser.dim }, (_, i) => Math.sin(i));
    const before = loaded.forwardCalls;
    const x0 = await denoiser.denoise(x, [sigma, sigma, sigma], { labels: [null, null, null], guidance: 7.5 });
    expect(loaded.forwardCalls - before).toBe(1);
    // The same in closed form: x_t = α·x, ε̂ = m·x_t, x̂0 = (x_t − s·ε̂)/α = x·(1 − s·m), then CFG.
    const mean = (states: Float32Array): number => states.reduce((sum, v) => sum + v, 0) / states.length;
    const alpha = 1 / Math.sqrt(1 + sigma * sigma);
    const s = sigma * alpha;
    const cond = 1 - s * mean(text.cond);
    const uncond = 1 - s * mean(text.uncond);
    const factor = uncond + 7.5 * (cond - uncond);
    x0.forEach((value, i) => expect(value).toBeCloseTo(x[i]! * factor, 4));
    await loaded.dispose();
  });
});

describe('guidance of 1 or less on a text pipeline', () => {
  it('is the prompt alone in one call, as diffusers does (SD-Turbo at guidance 0)', async () => {
    const reference = expected.pipelines['tiny-sd']!;
    const loaded = await pipeline('tiny-sd');
    const text = await loaded.textCondition(reference.prompt, reference.negativePrompt);
    const [, , height, width] = reference.latent.shape as [number, number, number, number];
    const denoiser = loaded.denoiser({ height, width });
    const x = Float32Array.from(reference.latent.data, (v) => v / Math.sqrt(reference.alphaCumprod));
    for (const guidance of [0, 0.5, 1]) {
      const x0 = await denoiser.denoise(x, [reference.sigma], { labels: [null], guidance, text });
      expect(relativeError(x0, reference.x0Cond.data)).toBeLessThan(1e-4);
    }
  });
});
