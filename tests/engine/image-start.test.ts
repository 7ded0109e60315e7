import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateParams } from '../../electron/api/validate';
import { INITIAL_NOISE_STREAM, seededNormal } from '../../electron/engine/rng';
import { parseRun, serializeRun } from '../../electron/engine/runs';
import { Engine } from '../../electron/engine/service';
import { FIXTURES, loadAnalytic } from '../helpers/fixtures';

const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-image-')) });
afterAll(() => engine.dispose());

describe('a run from an image (SDEdit)', () => {
  it('records the image under the seed\'s noise before the start step, then the model\'s own steps (exact on the Gaussian fixture)', async () => {
    const image = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) * 0.8);
    const request = { modelId: 'fixture-gaussian', seed: 12, steps: 10, sampler: 'euler' as const, classLabel: null, guidance: 1 };
    const summary = await engine.call('generateFromImage', { jobId: 'i', ...request, image, startStep: 6, name: 'shirt.png' });
    expect(summary.origin).toEqual({ kind: 'image', name: 'shirt.png', step: 6 });
    expect(summary.settings).toEqual(request);
    const run = engine.getRunRecord(summary.runId);
    const denoiser = loadAnalytic('gauss16');
    const sigmas = denoiser.schedule.samplingSigmas(10, 'euler');
    const noise = seededNormal(12, INITIAL_NOISE_STREAM, 16);
    // σ-form fixture: states are x0 + σ ε as they are; x̂0 is the image until the start step.
    for (const j of [0, 3, 6]) {
      for (let i = 0; i < 16; i++) expect(run.xt[j * 16 + i]).toBeCloseTo(image[i]! + sigmas[j]! * noise[i]!, 4);
    }
    expect(Array.from(run.x0Hat.subarray(5 * 16, 6 * 16))).toEqual(Array.from(image));
    // At the start step the model takes over: its x̂0 is D(x, σ) of that state.
    const denoised = await denoiser.denoise(run.xt.subarray(6 * 16, 7 * 16), Float64Array.of(sigmas[6]!));
    for (let i = 0; i < 16; i++) expect(run.x0Hat[6 * 16 + i]).toBeCloseTo(denoised[i]!, 5);
    expect(summary.evaluations.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(summary.evaluations.at(-1)).toBe(4);
    // The origin survives the run file.
    expect(parseRun(serializeRun(run), 'r').summary.origin).toEqual(summary.origin);
  });

  it('refuses an image of the wrong size and a start past the last step', async () => {
    const request = { jobId: 'j', modelId: 'fixture-gaussian', seed: 1, steps: 5, sampler: 'euler' as const, classLabel: null, guidance: 1, name: 'x.png' };
    await expect(engine.call('generateFromImage', { ...request, image: new Float32Array(9), startStep: 1 })).rejects.toThrow(/9 values; model "fixture-gaussian" takes 16/);
    await expect(engine.call('generateFromImage', { ...request, jobId: 'k', image: new Float32Array(16), startStep: 5 })).rejects.toThrow(/step 0 to 4/);
    expect(() => validateParams('generateFromImage', { ...request, image: [1, 2], startStep: 1 })).toThrow(/Float32Array/);
  });
});
