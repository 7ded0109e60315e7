/**
 * Latent runs through the engine's API (issue 10): generate with a prompt
 * and a size, previews through the fitted linear map, decodeState and its
 * cache, brushes painted on the decoded image, variations shown decoded, run
 * files keeping latents and prompt settings, removeModel. The user's folder
 * is never written.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo, RunSummary } from '../../electron/api/contract';
import { applyPreview, fitPreviewMap, latentColourPush } from '../../electron/engine/diffusers/preview';
import { gaussianStatistics, latentStatsPath, latentsOfSamples, writeLatentStats } from '../../electron/engine/diffusers/stats';
import { decodePng } from '../../electron/engine/png';
import { readRun } from '../../electron/engine/runs';
import { Engine } from '../../electron/engine/service';

const FOLDER = join(__dirname, '..', 'fixtures', 'diffusers', 'tiny-sd');
const home = mkdtempSync(join(tmpdir(), 'painter-dstudio-'));
let engine: Engine;
let info: ModelInfo;
let run: RunSummary;

function snapshot(folder: string): string[] {
  return readdirSync(folder, { recursive: true })
    .map(String)
    .sort()
    .map((name) => `${name} ${statSync(join(folder, name)).size} ${statSync(join(folder, name)).mtimeMs}`);
}
const before = snapshot(FOLDER);

beforeAll(async () => {
  engine = new Engine({ nativeModelsDir: join(home, 'no-bundled'), userDataDir: home, provider: 'cpu' });
  info = await engine.call('addModelFolder', { folder: FOLDER });
  run = await engine.call('generate', { jobId: 'g', modelId: info.id, seed: 3, steps: 8, sampler: 'euler', classLabel: null, guidance: 7.5, prompt: 'a watercolor fox', negativePrompt: 'blurry, dark photo', width: 96, height: 64 });
});
afterAll(async () => {
  await engine.dispose();
});

describe('the linear preview map', () => {
  it('recovers an exactly linear decoder (each cell a flat block of W·z + b) to rounding', () => {
    const W = [
      [0.3, -0.2, 0.1, 0.05],
      [-0.1, 0.25, 0.0, 0.2],
      [0.15, 0.05, -0.3, 0.1],
    ];
    const b = [0.1, -0.05, 0.2];
    const latent = { channels: 4, height: 3, width: 5, range: [-1, 1] as [number, number] };
    const scale = 2;
    const count = 3;
    const latents = Float32Array.from({ length: count * 4 * 15 }, (_, i) => Math.sin(i * 1.7) + 0.3 * Math.cos(i * 0.31));
    const decoded = new Float32Array(count * 3 * 15 * scale * scale);
    const rgb = applyPreview({ weights: W, bias: b, residual: 0, modelHash: '' }, latents, latent);
    for (let n = 0; n < count; n++) {
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) decoded[((n * 3 + c) * 6 + y) * 10 + x] = rgb[((n * 3 + c) * 3 + (y >> 1)) * 5 + (x >> 1)]!;
      }
    }
    const map = fitPreviewMap(latents, decoded, latent, scale, 'h');
    // The fit's ridge (1e-6 per sample against latent second moments ≈ 0.5) shrinks weights by
    // a few 1e-5 relative; agreement to 5e-5, residual at that bias's square.
    map.weights.forEach((row, c) => row.forEach((w, k) => expect(w).toBeCloseTo(W[c]![k]!, 4)));
    map.bias.forEach((value, c) => expect(value).toBeCloseTo(b[c]!, 4));
    expect(map.residual).toBeLessThan(1e-8);
    // The colour push's preview is the colour asked for (W·W⁺ = I on RGB).
    const push = latentColourPush(map, [1, -0.5, 0.25]);
    const seen = [0, 1, 2].map((c) => map.weights[c]!.reduce((sum, w, k) => sum + w * push[k]!, 0));
    seen.forEach((value, c) => expect(value).toBeCloseTo([1, -0.5, 0.25][c]!, 9));
  });
});

describe('a latent run in the studio', () => {
  it('records latents on the grid of the asked size, the prompt settings, and each step on the scheduler\'s grid', () => {
    const record = engine.getRunRecord(run.runId);
    expect(record.image).toMatchObject({ channels: 4, height: 8, width: 12 });
    expect(run.settings).toMatchObject({ prompt: 'a watercolor fox', negativePrompt: 'blurry, dark photo', width: 96, height: 64, guidance: 7.5 });
    expect(run.stepCount).toBe(9);
    expect(run.evaluations.at(-1)).toBe(8);
    expect(info).toMatchObject({ kind: 'diffusers', defaultGuidance: 7.5, decoded: { sizeMultiple: 16 } });
  });

  it('getRun gives an RGB preview of every state through the map fitted once and kept in Painter\'s data folder', async () => {
    const tensors = await engine.call('getRun', { runId: run.runId });
    expect(tensors.preview?.image).toMatchObject({ channels: 3, height: 8, width: 12 });
    expect(tensors.preview?.x0Hat).toHaveLength(9 * 3 * 8 * 12);
    const saved = join(home, 'diffusers', info.id, 'preview.json');
    expect(existsSync(saved)).toBe(true);
    const map = JSON.parse(readFileSync(saved, 'utf8')) as { weights: number[][]; bias: number[] };
    expect(map.weights).toHaveLength(3);
    expect(tensors.preview!.x0Hat).toEqual(applyPreview({ ...map, residual: 0, modelHash: '' }, tensors.x0Hat, tensors.image));
  });

  it('decodeState decodes a recorded state with the VAE and serves it again from the cache', async () => {
    const first = await engine.call('decodeState', { runId: run.runId, step: 8, which: 'x0Hat' });
    expect(first.image).toEqual({ channels: 3, height: 64, width: 96, range: [-1, 1] });
    const pipeline = await engine.registry.loadPipeline(info.id);
    const record = engine.getRunRecord(run.runId);
    const dim = 4 * 8 * 12;
    expect(first.values).toEqual(await pipeline.vae!.decode(record.x0Hat.slice(8 * dim, 9 * dim), record.image));
    const again = await engine.call('decodeState', { runId: run.runId, step: 8, which: 'x0Hat' });
    expect(again).toBe(first);
    await expect(engine.call('decodeState', { runId: run.runId, step: 9, which: 'xt' })).rejects.toThrow(/has states 0 to 8; got 9/);
  });

  it('a brush painted on the decoded image changes the latent where it was painted', async () => {
    const branch = await engine.call('branch', {
      jobId: 'b',
      runId: run.runId,
      step: 2,
      brush: { kind: 'noise', points: [{ x: 80, y: 16 }], radius: 12, strength: 3, seed: 4 },
    });
    const parent = engine.getRunRecord(run.runId);
    const child = engine.getRunRecord(branch.runId);
    const dim = 4 * 8 * 12;
    // At the branch step, the kick sits around latent cell (10, 2) = pixel (80, 16) / 8, radius 1.5 cells.
    let inside = 0;
    let outside = 0;
    for (let c = 0; c < 4; c++) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 12; x++) {
          const i = 2 * dim + (c * 8 + y) * 12 + x;
          const change = Math.abs(child.xt[i]! - parent.xt[i]!);
          if (Math.hypot(x + 0.5 - 10, y + 0.5 - 2) < 1.5) inside += change;
          else outside += change;
        }
      }
    }
    expect(inside).toBeGreaterThan(0.5);
    expect(outside).toBe(0);
    expect(branch.branch?.contentChange).toBeGreaterThan(0);
    // Described as painted, in the decoded image's pixels.
    expect(branch.branch?.perturbation).toContain('radius 12 px');
  });

  it('variations run in latent space and come back decoded at the run\'s size', async () => {
    const grid = await engine.call('variations', { jobId: 'v', runId: run.runId, step: 3, family: 'x0-pcs', directions: 2, amplitudes: [-2, 0, 2] });
    expect(grid.directions).toHaveLength(grid.count * 4 * 8 * 12);
    expect(grid.decoded?.image).toEqual({ channels: 3, height: 64, width: 96, range: [-1, 1] });
    expect(grid.decoded?.images).toHaveLength(grid.count * 3 * 3 * 64 * 96);
  });

  it('run files keep the latents and the prompt settings; the user\'s folder is never written', async () => {
    const path = join(home, 'latent-run.safetensors');
    await engine.call('saveRun', { runId: run.runId, path });
    const read = readRun(path);
    expect(read.summary.settings).toMatchObject({ prompt: 'a watercolor fox', negativePrompt: 'blurry, dark photo', width: 96, height: 64 });
    expect(read.x0Hat).toEqual(engine.getRunRecord(run.runId).x0Hat);
    expect(snapshot(FOLDER)).toEqual(before);
  });

  it('strips and animations of a latent run show VAE decodes at the decoded size', async () => {
    const strip = join(home, 'strip.png');
    await engine.call('exportStrip', { runId: run.runId, path: strip, layer: 'both', frames: 3, scale: 1 });
    const png = decodePng(readFileSync(strip));
    expect([png.width, png.height]).toEqual([3 * 96 + 4 * 2, 2 * 64 + 3 * 2]);
    const gif = join(home, 'run.gif');
    await engine.call('exportAnimation', { runId: run.runId, path: gif, layer: 'x0Hat', frameMs: 80, scale: 1 });
    const bytes = readFileSync(gif);
    // GIF logical screen: width and height, little-endian, after the 6-byte signature.
    expect([bytes.readUInt16LE(6), bytes.readUInt16LE(8)]).toEqual([96, 64]);
  });

  it('refuses prompts and sizes the model cannot take, naming why', async () => {
    const base = { jobId: 'r', modelId: info.id, seed: 1, steps: 2, sampler: 'euler' as const, classLabel: null, guidance: 7.5 };
    await expect(engine.call('generate', base)).rejects.toThrow(/needs a prompt/);
    await expect(engine.call('generate', { ...base, prompt: 'x', width: 72 })).rejects.toThrow(/width must be a multiple of 16/);
    await expect(engine.call('generate', { ...base, prompt: 'x', classLabel: 2 })).rejects.toThrow(/takes no class/);
  });

  it('removeModel forgets the folder (models.json too) and leaves its files', async () => {
    expect(JSON.parse(readFileSync(join(home, 'models.json'), 'utf8'))).toEqual([FOLDER]);
    expect(await engine.call('removeModel', { modelId: info.id })).toEqual({ removed: info.id });
    expect((await engine.call('listModels', {})).map((m) => m.id)).not.toContain(info.id);
    expect(JSON.parse(readFileSync(join(home, 'models.json'), 'utf8'))).toEqual([]);
    expect(snapshot(FOLDER)).toEqual(before);
    // Runs of it stay readable; a new engine does not list it.
    expect(engine.getRunRecord(run.runId).summary.modelId).toBe(info.id);
    const fresh = new Engine({ nativeModelsDir: join(home, 'no-bundled'), userDataDir: home, provider: 'cpu' });
    expect((await fresh.call('listModels', {})).map((m) => m.id)).toEqual([]);
    await fresh.dispose();
  });
});

describe('a latent run from an image', () => {
  it('encodes the decoded-size image with the VAE and starts from it (SDEdit) at the asked step', async () => {
    const local = new Engine({ nativeModelsDir: join(home, 'no-bundled'), userDataDir: mkdtempSync(join(tmpdir(), 'painter-dstudio-img-')), provider: 'cpu' });
    const { id } = await local.call('addModelFolder', { folder: FOLDER });
    const size = 64;
    const image = Float32Array.from({ length: 3 * size * size }, (_, i) => 0.8 * Math.sin(i / 97));
    const summary = await local.call('generateFromImage', {
      jobId: 'i',
      modelId: id,
      seed: 2,
      steps: 6,
      sampler: 'euler',
      classLabel: null,
      guidance: 5,
      prompt: 'a fox',
      image,
      startStep: 3,
      name: 'waves.png',
    });
    expect(summary.origin).toEqual({ kind: 'image', name: 'waves.png', step: 3 });
    const record = local.getRunRecord(summary.runId);
    const pipeline = await local.registry.loadPipeline(id);
    const latent = await pipeline.vae!.encode(image, { channels: 3, height: size, width: size, range: [-1, 1] }, 4);
    // Before the start step, x̂0 is the encoded image itself.
    expect(record.x0Hat.subarray(0, latent.length)).toEqual(latent);
    await expect(local.call('generateFromImage', { jobId: 'j', modelId: id, seed: 2, steps: 6, sampler: 'euler', classLabel: null, guidance: 5, prompt: 'a fox', image: image.subarray(10), startStep: 3, name: 'x.png' })).rejects.toThrow(/starts from 3×64×64/);
    await local.dispose();
  });
});

describe('the theory lab on latent runs', () => {
  it('with latent statistics saved by painter stats: the Gaussian ghost, the 3-D view and a theory chart of a latent run', async () => {
    const data = mkdtempSync(join(tmpdir(), 'painter-dstudio-theory-'));
    const local = new Engine({ nativeModelsDir: join(data, 'no-bundled'), userDataDir: data, provider: 'cpu' });
    const { id } = await local.call('addModelFolder', { folder: FOLDER });
    // Asked before the statistics exist (the studio is open while painter stats runs): unavailable, and says how to make them.
    const early = await local.call('generate', { jobId: 'g0', modelId: id, seed: 5, steps: 6, sampler: 'euler', classLabel: null, guidance: 3, prompt: 'a fox' });
    const none = await local.call('gaussianGhost', { runId: early.runId });
    expect(none.available).toBe(false);
    if (!none.available) expect(none.reason).toContain(`painter stats --model "${FOLDER}" --from-samples`);
    const pipeline = await local.registry.loadPipeline(id);
    const latents = await latentsOfSamples(pipeline, { count: 24, steps: 4, sampler: 'euler', seed: 100, prompt: 'a fox', negativePrompt: '', guidance: 3 });
    const dim = pipeline.denoiser().dim;
    writeLatentStats(latentStatsPath(data, id), gaussianStatistics(latents, 24, dim, 16), {
      folder: FOLDER,
      registration: local.registry.get(id).manifestHash,
      source: 'samples: 24',
      image: pipeline.gridImage(),
    });
    const summary = await local.call('generate', { jobId: 'g', modelId: id, seed: 5, steps: 6, sampler: 'euler', classLabel: null, guidance: 3, prompt: 'a fox' });
    const ghost = await local.call('gaussianGhost', { runId: summary.runId });
    expect(ghost.available).toBe(true);
    // The run made before the statistics gets its ghost too, without a restart.
    expect((await local.call('gaussianGhost', { runId: early.runId })).available).toBe(true);
    const space = await local.call('trajectorySpace', { jobId: 't', runId: summary.runId, count: 3, basis: 'run' });
    expect(space.seeds).toHaveLength(3);
    expect(space.ghost).not.toBeNull();
    const chart = await local.call('theory', { jobId: 'e', runId: summary.runId, analysis: 'emergence', seeds: 2 });
    expect(chart).toMatchObject({ runId: summary.runId, modelId: id });
    await local.dispose();
  });
});

describe('browser mode (confined)', () => {
  it('runs a diffusers folder named on the command line, and refuses one outside its workspace and model folders', async () => {
    const data = mkdtempSync(join(tmpdir(), 'painter-dstudio-serve-'));
    const workspace = join(data, 'workspace');
    mkdirSync(join(data, 'no-bundled'));
    const confined = new Engine({ nativeModelsDir: join(data, 'no-bundled'), userDataDir: data, provider: 'cpu', confine: { workspace, readOnly: [FOLDER] }, modelFolders: [FOLDER] });
    const [model] = await confined.call('listModels', {});
    expect(model).toMatchObject({ id: 'tiny-sd', kind: 'diffusers' });
    const summary = await confined.call('generate', { jobId: 'g', modelId: 'tiny-sd', seed: 1, steps: 2, sampler: 'euler', classLabel: null, guidance: 2, prompt: 'a fox' });
    expect((await confined.call('decodeState', { runId: summary.runId, step: 2, which: 'x0Hat' })).image.width).toBe(64);
    const other = join(__dirname, '..', 'fixtures', 'diffusers', 'tiny-sd-fp16');
    await expect(confined.call('addModelFolder', { folder: other })).rejects.toMatchObject({ code: 'OUTSIDE_WORKSPACE' });
    await confined.dispose();
  });
});
