import { describe, expect, it } from 'vitest';
import type { ModelInfo, RunSummary, RunTensors } from '../../electron/api/contract';
import { applyPreviewMap, decodedImage, differenceImage, previewMapOf, shownStates } from '../../renderer/lib/latent-view';
import { promptTooltip, quotedPrompt } from '../../renderer/lib/run-text';
import { history } from '../../renderer/lib/state/history.svelte';
import { models } from '../../renderer/lib/state/models.svelte';
import { nextRun, sizeProblem } from '../../renderer/lib/state/next-run.svelte';

/** A text-conditional latent pipeline as the engine lists one (the tiny-sd fixture's shape: 4×8×8 latents, 64×64 images). */
const sd: ModelInfo = {
  id: 'tiny-sd',
  name: 'tiny-sd',
  description: '',
  kind: 'diffusers',
  image: { channels: 4, height: 8, width: 8, range: [-4, 4] },
  classes: null,
  unconditional: true,
  defaultGuidance: 7.5,
  defaultSteps: 30,
  provider: 'cpu',
  source: 'user',
  folder: '/models/tiny-sd',
  space: 'latent',
  decoded: { image: { channels: 3, height: 64, width: 64, range: [-1, 1] }, scale: 8, sizeMultiple: 16, minSize: 32, maxSize: 256 },
  prompt: { maxTokens: 77, defaultNegativePrompt: '' },
};
const pixel: ModelInfo = {
  id: 'pixel',
  name: 'pixel',
  description: '',
  kind: 'onnx',
  image: { channels: 1, height: 4, width: 4, range: [-1, 1] },
  classes: ['a', 'b'],
  unconditional: true,
  defaultGuidance: 2,
  defaultSteps: 30,
  provider: 'cpu',
  source: 'bundled',
  folder: '',
};

describe('next-run settings of a prompt pipeline', () => {
  models.list = [sd, pixel];

  it('asks for a prompt, a negative prompt, guidance from the model and its default size; a class model gets none of these', () => {
    models.select('tiny-sd');
    nextRun.set('prompt', 'a watercolor fox');
    const request = nextRun.takeRequest(sd);
    expect(request).toMatchObject({ modelId: 'tiny-sd', prompt: 'a watercolor fox', negativePrompt: '', guidance: 7.5, width: 64, height: 64, classLabel: null });
    models.select('pixel');
    const other = nextRun.takeRequest(pixel);
    expect(other).not.toHaveProperty('prompt');
    expect(other).not.toHaveProperty('width');
    expect(other.guidance).toBe(2); // a class and the unconditional model: guidance applies
  });

  it('keeps the size per model and the prompt across models, undoably', async () => {
    models.select('tiny-sd');
    nextRun.set('width', 96);
    nextRun.set('negativePrompt', 'blurry');
    models.select('pixel');
    expect(nextRun.width).toBeNull();
    models.select('tiny-sd');
    expect(nextRun.takeRequest(sd)).toMatchObject({ width: 96, height: 64, negativePrompt: 'blurry', prompt: 'a watercolor fox' });
    await history.undo(); // the negative prompt
    await history.undo(); // the width
    expect(nextRun.takeRequest(sd)).toMatchObject({ width: 64, negativePrompt: '' });
  });

  it('says what is wrong with a width or height, naming the multiple and the limits', () => {
    expect(sizeProblem(sd, 'Width', 64)).toBeNull();
    expect(sizeProblem(sd, 'Width', 72)).toBe("Width must be a multiple of 16 (this model's latent grid); 64 or 80 would do.");
    expect(sizeProblem(sd, 'Height', 16)).toBe('Height must be between 32 and 256 pixels; got 16.');
    expect(sizeProblem(sd, 'Height', 512)).toMatch(/between 32 and 256/);
    expect(sizeProblem(sd, 'Width', 64.5)).toMatch(/whole number/);
    expect(sizeProblem(pixel, 'Width', 7)).toBeNull(); // a pixel model has no size to choose
  });

  it("takes over a prompt run's prompt, negative prompt, guidance and size", () => {
    const run = { modelId: 'tiny-sd', settings: { modelId: 'tiny-sd', seed: 5, steps: 12, sampler: 'euler', classLabel: null, guidance: 4, prompt: 'a castle', negativePrompt: 'fog', width: 128, height: 32 } } as unknown as RunSummary;
    nextRun.useRunSettings(run);
    expect(nextRun.takeRequest(sd)).toMatchObject({ seed: 5, steps: 12, guidance: 4, prompt: 'a castle', negativePrompt: 'fog', width: 128, height: 32 });
  });
});

describe('what the studio draws for a latent run', () => {
  const summary = { runId: 'r', modelId: 'tiny-sd', stepCount: 2, settings: { modelId: 'tiny-sd', seed: 1, steps: 1, sampler: 'euler', classLabel: null, guidance: 7.5 } } as unknown as RunSummary;
  const previewImage = { channels: 3, height: 8, width: 8, range: [-1, 1] as [number, number] };
  const tensors = {
    summary,
    image: sd.image,
    xt: new Float32Array(2 * 256),
    x0Hat: new Float32Array(2 * 256),
    preview: { image: previewImage, xt: new Float32Array(2 * 192), x0Hat: new Float32Array(2 * 192).fill(0.5) },
  } as RunTensors;

  it('draws the previews at the decoded size: the size the run asked for, else the latent grid times the VAE scale', () => {
    const shown = shownStates(tensors, [sd]);
    expect(shown.image).toBe(previewImage);
    expect(shown.x0Hat).toBe(tensors.preview!.x0Hat);
    expect(shown.decoded).toEqual({ runId: 'r', image: { channels: 3, height: 64, width: 64, range: [-1, 1] } });
    expect(decodedImage({ ...summary, settings: { ...summary.settings, width: 96, height: 32 } }, { ...previewImage, width: 12, height: 4 }, sd)).toMatchObject({ width: 96, height: 32 });
    // A pixel run is drawn as it is.
    const plain = { ...tensors, preview: undefined } as RunTensors;
    expect(shownStates(plain, [sd])).toMatchObject({ image: sd.image, decoded: null });
  });

  it('draws a difference about mid-grey (half the change, so the full range shows)', () => {
    const image = { channels: 1, height: 1, width: 2, range: [0, 1] as [number, number] };
    const a = Float32Array.from([0, 0, 0.2, 0.4]);
    const b = Float32Array.from([0.6, 0.4, 9, 9]);
    expect(Array.from(differenceImage(a, 1, b, 0, image))).toEqual([expect.closeTo(0.7, 6), expect.closeTo(0.5, 6)]);
    expect(() => differenceImage(a, 2, b, 0, image)).toThrow(RangeError);
  });

  it('quotes a prompt for lists, cut to a length, and gives it whole for a tooltip', () => {
    expect(quotedPrompt({ prompt: 'a watercolor fox in the snow' }, 12)).toBe('“a watercolo…”');
    expect(quotedPrompt({ prompt: '' })).toBe('(empty prompt)');
    expect(quotedPrompt({})).toBeNull();
    expect(promptTooltip({ prompt: 'a fox', negativePrompt: 'blurry' })).toBe('Prompt: a fox\nNegative prompt: blurry');
  });
});

describe("a latent run's preview map, recovered from its own states", () => {
  const latent = { channels: 4, height: 3, width: 5, range: [-4, 4] as [number, number] };
  const previewImage = { channels: 3, height: 3, width: 5, range: [-1, 1] as [number, number] };
  const map = {
    weights: [
      [0.3, -0.2, 0.1, 0.05],
      [-0.1, 0.25, 0, 0.2],
      [0.15, 0.05, -0.3, 0.1],
    ],
    bias: [0.1, -0.05, 0.2],
  };
  // Deterministic, well-spread latents: 3 states of 4×3×5 (a quadratic phase, so the channels are not linearly dependent).
  const states = (offset: number): Float32Array => Float32Array.from({ length: 3 * 60 }, (_, i) => Math.sin(0.37 * i * i + offset) * 2);
  function runOf(previewOf: (z: Float32Array) => Float32Array): RunTensors {
    const xt = states(0);
    const x0Hat = states(0.5);
    return {
      summary: { runId: 'm', modelId: 'tiny-sd', stepCount: 3, settings: { modelId: 'tiny-sd', seed: 1, steps: 2, sampler: 'euler', classLabel: null, guidance: 1 } },
      image: latent,
      xt,
      x0Hat,
      preview: { image: previewImage, xt: previewOf(xt), x0Hat: previewOf(x0Hat), map },
    } as RunTensors;
  }

  it('is the engine\'s affine map to float32 rounding (1e-5), and maps a direction without the bias', () => {
    const found = previewMapOf(runOf((z) => applyPreviewMap(map, z, latent)));
    expect(found).not.toBeNull();
    found!.weights.flat().forEach((w, i) => expect(w).toBeCloseTo(map.weights.flat()[i]!, 5));
    found!.bias.forEach((b, i) => expect(b).toBeCloseTo(map.bias[i]!, 5));
    const direction = new Float32Array(60);
    direction[0] = 1; // channel 0 of cell 0
    const colour = applyPreviewMap(map, direction, latent, false);
    expect([colour[0], colour[15], colour[30]].map((v) => Number(v!.toFixed(6)))).toEqual([0.3, -0.1, 0.15]);
    expect(colour[1]).toBe(0);
  });

  it('is refused when the previews are no affine map of the states (nothing is drawn rather than a wrong picture)', () => {
    const clipped = (z: Float32Array): Float32Array => applyPreviewMap(map, z, latent).map((v) => Math.tanh(3 * v));
    expect(previewMapOf(runOf(clipped))).toBeNull();
  });
});
