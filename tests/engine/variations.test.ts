import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/service';
import { FIXTURES, loadAnalytic } from '../helpers/fixtures';

const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-variations-')) });
afterAll(() => engine.dispose());
const gaussian = loadAnalytic('gauss16').gaussian!;

function maxDifference(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, n: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(a[aOffset + i]! - b[bOffset + i]!));
  return max;
}

describe('variation grid', () => {
  it('finds the Gaussian Jacobian spectrum λ/(λ+σ²) and a grid whose amplitude-0 column is the run itself', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 4, steps: 20, sampler: 'euler', classLabel: null, guidance: 1 });
    const step = 10;
    const grid = await engine.call('variations', { jobId: 'v', runId: run.runId, step, family: 'jacobian', directions: 4, amplitudes: [-2, 0, 2] });
    const sigma = run.sigmas[step]!;
    // The Gaussian denoiser is linear, so central differences are exact and 16-D Krylov spaces complete: 1e-3 relative.
    grid.values.forEach((value, k) => {
      const lambda = gaussian.eigvals[k]!;
      expect(Math.abs(value / (lambda / (lambda + sigma * sigma)) - 1)).toBeLessThan(1e-3);
    });
    expect(grid.images.length).toBe(4 * 3 * 16);
    const record = engine.getRunRecord(run.runId);
    for (let d = 0; d < 4; d++) expect(maxDifference(grid.images, (d * 3 + 1) * 16, record.x0Hat, 20 * 16, 16)).toBeLessThan(1e-5);
    // Kicks of opposite sign move the image in opposite directions.
    expect(maxDifference(grid.images, 0, grid.images, 2 * 16, 16)).toBeGreaterThan(1e-3);

    // Keeping a cell as a branch re-makes that cell's image.
    const direction = grid.directions.slice(0, 16);
    const kept = await engine.call('branch', {
      jobId: 'keep',
      runId: run.runId,
      step,
      brush: { kind: 'direction', global: true, points: [], radius: 1, strength: 2, direction: { kind: 'vector', label: 'J1', values: direction } },
    });
    expect(maxDifference(engine.getRunRecord(kept.runId).x0Hat, 20 * 16, grid.images, 2 * 16, 16)).toBeLessThan(1e-4);
    expect(kept.branch?.perturbation).toMatch(/whole image/);
  });

  it('offers x̂0-trajectory PCs and the generator map, and refuses the generator for DDPM runs', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 5, steps: 60, sampler: 'heun', classLabel: null, guidance: 1 });
    const pcs = await engine.call('variations', { jobId: 'p', runId: run.runId, step: 4, family: 'x0-pcs', directions: 3, amplitudes: [-1, 0, 1] });
    expect(pcs.values[0]).toBeGreaterThan(0.5);
    expect(pcs.values.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-9);
    const generator = await engine.call('variations', { jobId: 'g', runId: run.runId, step: 4, family: 'generator', directions: 3, amplitudes: [0, 1] });
    expect(generator.step).toBe(0);
    // Gaussian generator map: singular values sqrt(λ/(σ_T² + λ)) (σ form); Heun-60 on the linear ODE is within 2%; 3% allowed.
    generator.values.forEach((value, k) => {
      const lambda = gaussian.eigvals[k]!;
      expect(Math.abs(value / Math.sqrt(lambda / (run.sigmas[0]! ** 2 + lambda)) - 1)).toBeLessThan(0.03);
    });
    const ddpm = await engine.generate({ modelId: 'fixture-gaussian', seed: 5, steps: 6, sampler: 'ddpm', classLabel: null, guidance: 1 });
    await expect(engine.call('variations', { jobId: 'd', runId: ddpm.runId, step: 2, family: 'generator', directions: 2, amplitudes: [1] })).rejects.toThrow(/deterministic/);
  });

  it('local family: directions for a region, the share of each cell\'s change inside; applied to another run; an empty region refused', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 4, steps: 20, sampler: 'euler', classLabel: null, guidance: 1 });
    const mask = Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const amplitudes = [-2, 0, 2];
    const grid = await engine.call('variations', { jobId: 'l', runId: run.runId, step: 8, family: 'local', directions: 2, amplitudes, mask, nullSpaceRank: 3 });
    expect(grid.count).toBe(2);
    expect(grid.local).toMatchObject({ nullSpaceRank: 3, rankChosenBy: 'user' });
    expect(Array.from(grid.local!.mask)).toEqual(Array.from(mask));
    expect(grid.search!.forwardPasses).toBeLessThanOrEqual(grid.search!.budget);
    expect(grid.search!.convergenceDeg.every((a) => a < 10)).toBe(true);
    // Amplitude 0 is the run itself (no change, null); kicks move the image, partly inside the region.
    expect(grid.inside).toHaveLength(2 * 3);
    expect(grid.inside![1]).toBeNull();
    for (const share of [grid.inside![0], grid.inside![2]]) expect(share).toBeGreaterThan(0);
    // Any family reports the share inside when given a region.
    const global = await engine.call('variations', { jobId: 'g', runId: run.runId, step: 8, family: 'jacobian', directions: 1, amplitudes, mask });
    expect(global.inside).toHaveLength(3);

    // Applied to another run of the same model: the same direction, the other run's images.
    const other = await engine.generate({ modelId: 'fixture-gaussian', seed: 9, steps: 20, sampler: 'euler', classLabel: null, guidance: 1 });
    const apply = { directions: grid.directions.slice(0, 16), labels: ['L1 · seed 4, step 8'], sourceRunId: run.runId, sourceStep: 8 };
    const applied = await engine.call('variations', { jobId: 'a', runId: other.runId, step: 8, family: 'local', directions: 1, amplitudes, mask, apply });
    expect(applied.applied).toEqual({ sourceRunId: run.runId, sourceStep: 8, labels: ['L1 · seed 4, step 8'] });
    expect(applied.count).toBe(1);
    expect(maxDifference(applied.directions, 0, grid.directions, 0, 16)).toBeLessThan(1e-6);
    expect(maxDifference(applied.images, 16, engine.getRunRecord(other.runId).x0Hat, 20 * 16, 16)).toBe(0);
    expect(applied.inside![2]).toBeGreaterThan(0);
    await expect(engine.call('variations', { jobId: 'w', runId: other.runId, step: 8, family: 'local', directions: 1, amplitudes, apply: { ...apply, directions: new Float32Array(8) } })).rejects.toThrow(/8 values each; this run's model has 16/);
    const gmm = await engine.generate({ modelId: 'fixture-gmm', seed: 1, steps: 20, sampler: 'euler', classLabel: 0, guidance: 1 });
    await expect(engine.call('variations', { jobId: 'm', runId: gmm.runId, step: 8, family: 'local', directions: 1, amplitudes, apply })).rejects.toThrow(/found on model "fixture-gaussian"/);

    await expect(engine.call('variations', { jobId: 'z', runId: run.runId, step: 8, family: 'local', directions: 2, amplitudes, mask: new Float32Array(16) })).rejects.toThrow(/region is empty/);
    await expect(engine.call('variations', { jobId: 'n', runId: run.runId, step: 8, family: 'local', directions: 2, amplitudes })).rejects.toThrow(/need a region/);
  });
});
