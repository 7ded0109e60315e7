/**
 * A latent run's timeline animation (engine/diffusers/animation.ts): every
 * state decoded by the VAE, not the latents drawn as if they were pixels —
 * read from the GIF's own header and frame count.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo, RunSummary } from '../../electron/api/contract';
import { Engine } from '../../electron/engine/service';

const FOLDER = join(__dirname, '..', 'fixtures', 'diffusers', 'tiny-sd');
const home = mkdtempSync(join(tmpdir(), 'painter-danim-'));
let engine: Engine;
let info: ModelInfo;
let run: RunSummary;

beforeAll(async () => {
  engine = new Engine({ nativeModelsDir: join(home, 'no-bundled'), userDataDir: home, provider: 'cpu' });
  info = await engine.call('addModelFolder', { folder: FOLDER });
  run = await engine.call('generate', { jobId: 'g', modelId: info.id, seed: 5, steps: 4, sampler: 'euler', classLabel: null, guidance: 7.5, prompt: 'a castle', negativePrompt: '', width: 64, height: 32 });
});
afterAll(async () => {
  await engine.dispose();
});

/** GIF89a header fields and the number of image descriptors (frames). */
function gifLayout(bytes: Uint8Array): { width: number; height: number; frames: number } {
  const view = Buffer.from(bytes);
  expect(view.subarray(0, 6).toString('ascii')).toBe('GIF89a');
  let frames = 0;
  // Count graphic control extensions (one per frame in this encoder: 0x21 0xF9 0x04).
  for (let i = 13; i + 2 < view.length; i++) if (view[i] === 0x21 && view[i + 1] === 0xf9 && view[i + 2] === 0x04) frames++;
  return { width: view.readUInt16LE(6), height: view.readUInt16LE(8), frames };
}

describe('the timeline animation of a latent run', () => {
  it('is made of VAE decodes at the run\'s decoded size, one frame per state, both layers side by side', async () => {
    const single = join(home, 'x0.gif');
    await engine.call('exportAnimation', { runId: run.runId, path: single, layer: 'x0Hat', frameMs: 80, scale: 4 });
    // The decoded image is 64×32 (the run's width and height), not the 8×4 latent grid times the scale.
    expect(gifLayout(readFileSync(single))).toEqual({ width: 64, height: 32, frames: run.stepCount });
    const both = join(home, 'both.gif');
    await engine.call('exportAnimation', { runId: run.runId, path: both, layer: 'both', frameMs: 80, scale: 4 });
    // Two 64×32 decodes side by side, with rasterGrid's 2-pixel gap around and between them.
    expect(gifLayout(readFileSync(both))).toMatchObject({ width: 2 + 64 + 2 + 64 + 2, height: 2 + 32 + 2 });
  });

  it('of a pixel-space model is unchanged: its states drawn at the scale asked', async () => {
    const gauss = await engine.call('addModelFolder', { folder: join(__dirname, '..', 'fixtures', 'gauss16') });
    const pixelRun = await engine.call('generate', { jobId: 'p', modelId: gauss.id, seed: 1, steps: 3, sampler: 'euler', classLabel: null, guidance: 1 });
    const file = join(home, 'pixel.gif');
    await engine.call('exportAnimation', { runId: pixelRun.runId, path: file, layer: 'x0Hat', frameMs: 80, scale: 2 });
    expect(gifLayout(readFileSync(file))).toMatchObject({ width: 2 * gauss.image.width, frames: pixelRun.stepCount });
  });
});
