import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Brush } from '../../electron/api/contract';
import { brushDelta, contentChange, strokeMask } from '../../electron/engine/branch';
import { closedFormWithEstimates } from '../../electron/engine/ghost';
import { Engine } from '../../electron/engine/service';
import type { ImageSpec } from '../../electron/engine/manifest';
import { FIXTURES, loadAnalytic } from '../helpers/fixtures';

const home = mkdtempSync(join(tmpdir(), 'painter-branch-'));
const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
afterAll(() => engine.dispose());

const image4: ImageSpec = { channels: 1, height: 4, width: 4, range: [-1, 1] };
const gaussian = loadAnalytic('gauss16').gaussian!;

function norm(values: ArrayLike<number>, offset = 0, length = values.length): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += values[offset + i]! ** 2;
  return Math.sqrt(sum);
}

describe('brushes', () => {
  it('a stroke mask is 1 under a pixel-centred point and 0 at the radius and beyond', () => {
    const image: ImageSpec = { channels: 1, height: 9, width: 9, range: [-1, 1] };
    const mask = strokeMask(image, [{ x: 4.5, y: 4.5 }], 3);
    expect(mask[4 * 9 + 4]).toBeCloseTo(1, 12);
    expect(mask[4 * 9 + 7]).toBe(0); // d = 3 = radius
    expect(mask[0]).toBe(0);
    // raised cosine at d = 1.5 = r/2 is ½
    expect(strokeMask(image, [{ x: 4.5, y: 6 }], 3)[4 * 9 + 4]).toBeCloseTo(0.5, 12);
  });

  it('every kind of kick has norm exactly `strength` and stays inside the stroke', () => {
    const image: ImageSpec = { channels: 1, height: 4, width: 4, range: [-1, 1] };
    const brushes: Brush[] = [
      { kind: 'noise', points: [{ x: 1, y: 1 }], radius: 1.5, strength: 2.5, seed: 3 },
      { kind: 'intensity', points: [{ x: 1, y: 1 }], radius: 1.5, strength: 2.5, color: [-1] },
      { kind: 'direction', points: [{ x: 1, y: 1 }], radius: 1.5, strength: 2.5, direction: { kind: 'gaussian-pc', index: 0 } },
    ];
    for (const brush of brushes) {
      const delta = brushDelta(brush, image, gaussian);
      expect(norm(delta)).toBeCloseTo(2.5, 5);
      expect(Math.abs(delta[15]!)).toBe(0); // far corner, outside the radius
    }
    const darken = brushDelta(brushes[1]!, image, null);
    expect(Math.max(...darken)).toBeLessThanOrEqual(0);
    // The same seed paints the same patch.
    expect(brushDelta(brushes[0]!, image, null)).toEqual(brushDelta(brushes[0]!, image, null));
  });

  it('grained noise keeps its norm and is smoother than pixel noise', () => {
    const image: ImageSpec = { channels: 1, height: 16, width: 16, range: [-1, 1] };
    const roughness = (delta: Float32Array): number => {
      let sum = 0;
      for (let y = 0; y < 16; y++) for (let x = 0; x + 1 < 16; x++) sum += (delta[y * 16 + x + 1]! - delta[y * 16 + x]!) ** 2;
      return sum;
    };
    const base: Brush = { kind: 'noise', points: [{ x: 8, y: 8 }], radius: 8, strength: 3, seed: 5 };
    const fine = brushDelta(base, image, null);
    const coarse = brushDelta({ ...base, grain: 2 }, image, null);
    expect(norm(coarse)).toBeCloseTo(3, 5);
    expect(roughness(coarse)).toBeLessThan(0.25 * roughness(fine));
  });

  it('refuses a stroke that misses the image and a direction without statistics', () => {
    expect(() => brushDelta({ kind: 'intensity', points: [{ x: 50, y: 50 }], radius: 2, strength: 1 }, image4, null)).toThrow(/does not touch/);
    expect(() =>
      brushDelta({ kind: 'direction', points: [{ x: 2, y: 2 }], radius: 2, strength: 1, direction: { kind: 'gaussian-pc', index: 0 } }, image4, null),
    ).toThrow(/no Gaussian statistics/);
  });

  it('content change is the RMS difference over the data range', () => {
    expect(contentChange([1, 1, 1, 1], 0, [0, 0, 0, 0], 0, 4, [-1, 1])).toBeCloseTo(0.5, 12);
  });
});

describe('branching', () => {
  it('a branch keeps the parent before its step, records its kick, and links to its parent', async () => {
    const parent = await engine.generate({ modelId: 'fixture-gaussian', seed: 11, steps: 20, sampler: 'euler', classLabel: null, guidance: 1 });
    const brush: Brush = { kind: 'noise', points: [{ x: 2, y: 2 }], radius: 3, strength: 1, seed: 1 };
    const child = await engine.call('branch', { jobId: 'b1', runId: parent.runId, step: 8, brush });
    expect(child.branch?.parentRunId).toBe(parent.runId);
    expect(child.branch?.step).toBe(8);
    expect(child.branch?.perturbation).toMatch(/noise patch/);
    const p = engine.getRunRecord(parent.runId);
    const c = engine.getRunRecord(child.runId);
    expect(c.xt.subarray(0, 8 * 16)).toEqual(p.xt.subarray(0, 8 * 16));
    expect(c.x0Hat.subarray(0, 8 * 16)).toEqual(p.x0Hat.subarray(0, 8 * 16));
    // σ-form model: the kick at step 8 is √(1+σ²)·δ, δ of norm 1.
    const sigma = p.summary.sigmas[8]!;
    const kick = Float32Array.from(c.xt.subarray(8 * 16, 9 * 16), (v, i) => v - p.xt[8 * 16 + i]!);
    expect(norm(kick) / Math.sqrt(1 + sigma * sigma)).toBeCloseTo(1, 4);
    expect(child.evaluations[8]).toBe(p.summary.evaluations[8]);
    expect(child.branch?.contentChange).toBeGreaterThan(0);

    const deleted = await engine.call('deleteRuns', { runIds: [child.runId] });
    expect(deleted.deleted).toEqual([child.runId]);
    expect(() => engine.getRunRecord(child.runId)).toThrow(/No run/);
  });

  it('matches the Gaussian transfer √(1+σ²)·√(λ/(σ²+λ)) of a kick along u_0, and early kicks change more (DESIGN.md §2)', async () => {
    // Heun with 200 steps integrates the linear PF-ODE to well under 1%; 2% tolerance.
    const parent = await engine.generate({ modelId: 'fixture-gaussian', seed: 5, steps: 200, sampler: 'heun', classLabel: null, guidance: 1 });
    const brush: Brush = { kind: 'direction', points: [{ x: 2, y: 2 }], radius: 1000, strength: 0.5, direction: { kind: 'gaussian-pc', index: 0 } };
    const changes: number[] = [];
    for (const step of [20, 100, 180]) {
      const child = await engine.call('branch', { jobId: `t${step}`, runId: parent.runId, step, brush });
      const c = engine.getRunRecord(child.runId);
      const p = engine.getRunRecord(parent.runId);
      const last = 200 * 16;
      const moved = norm(Float32Array.from(c.x0Hat.subarray(last, last + 16), (v, i) => v - p.x0Hat[last + i]!));
      const sigma = parent.sigmas[step]!;
      const lambda = gaussian.eigvals[0]!;
      // The soft mask of radius 1000 over a 4×4 image is 1 to within 1e-5, so δ is along u_0.
      const expected = 0.5 * Math.sqrt(1 + sigma * sigma) * Math.sqrt(lambda / (sigma * sigma + lambda));
      expect(Math.abs(moved / expected - 1)).toBeLessThan(0.02);
      changes.push(child.branch!.contentChange!);
    }
    expect(changes[0]).toBeGreaterThan(changes[1]!);
    expect(changes[1]).toBeGreaterThan(changes[2]!);
  });
});

describe('Gaussian ghost', () => {
  it('one pass over U gives GaussianModel.closedFormTrajectory and .denoise (1e-5: float32 storage)', () => {
    const sigmas = [80, 10, 1, 0.1, 0.01, 0];
    const start = Float32Array.from({ length: 16 }, (_, i) => 80 * Math.sin(i + 1));
    const { states, x0Hat } = closedFormWithEstimates(gaussian, start, sigmas);
    const reference = gaussian.closedFormTrajectory(start, 80, sigmas);
    const estimates = gaussian.denoise(reference.subarray(0, 5 * 16), sigmas.slice(0, 5));
    for (let i = 0; i < states.length; i++) expect(Math.abs(states[i]! - reference[i]!)).toBeLessThan(1e-5 * 80);
    for (let i = 0; i < 5 * 16; i++) expect(Math.abs(x0Hat[i]! - estimates[i]!)).toBeLessThan(1e-5 * 80);
    expect(x0Hat.subarray(5 * 16)).toEqual(states.subarray(5 * 16)); // D(x, 0) = x
  });

  it('follows a Gaussian model\'s own run, and its decided fraction rises from ≈0 to 1', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 2, steps: 200, sampler: 'heun', classLabel: null, guidance: 1 });
    const ghost = await engine.call('gaussianGhost', { runId: run.runId });
    if (!ghost.available) throw new Error(ghost.reason);
    const record = engine.getRunRecord(run.runId);
    // Heun-200 vs the closed form: ≤ 1% relative error on the final image.
    const last = 200 * 16;
    const difference = norm(Float32Array.from(ghost.x0Hat.subarray(last), (v, i) => v - record.x0Hat[last + i]!));
    expect(difference / norm(record.x0Hat, last, 16)).toBeLessThan(0.01);
    expect(ghost.decided[0]).toBeLessThan(0.01);
    expect(ghost.decided[200]).toBeCloseTo(1, 10);
    for (let j = 1; j < ghost.decided.length; j++) expect(ghost.decided[j]).toBeGreaterThanOrEqual(ghost.decided[j - 1]! - 1e-12);
  });

  it('comes from a network\'s statistics or a Gaussian of the same image size, and says why when there is none', async () => {
    const run = await engine.generate({ modelId: 'fixture-eps-int64', seed: 2, steps: 5, sampler: 'euler', classLabel: null, guidance: 1 });
    expect((await engine.call('gaussianGhost', { runId: run.runId })).available).toBe(true); // names gauss16's statistics
    const gmm = await engine.generate({ modelId: 'fixture-gmm', seed: 2, steps: 5, sampler: 'euler', classLabel: 0, guidance: 1 });
    expect((await engine.call('gaussianGhost', { runId: gmm.runId })).available).toBe(true); // fixture-gaussian, same 4×4 images

    // A registry with only the mixture: no Gaussian anywhere.
    const alone = mkdtempSync(join(tmpdir(), 'painter-alone-'));
    symlinkSync(join(FIXTURES, 'gauss16-gmm'), join(alone, 'gauss16-gmm'));
    const lonely = new Engine({ nativeModelsDir: alone, userDataDir: mkdtempSync(join(tmpdir(), 'painter-alone-home-')) });
    try {
      const mixture = await lonely.generate({ modelId: 'fixture-gmm', seed: 2, steps: 5, sampler: 'euler', classLabel: 0, guidance: 1 });
      const none = await lonely.call('gaussianGhost', { runId: mixture.runId });
      expect(none.available).toBe(false);
      if (!none.available) expect(none.reason).toMatch(/no Gaussian statistics/);
    } finally {
      await lonely.dispose();
    }
  });
});
