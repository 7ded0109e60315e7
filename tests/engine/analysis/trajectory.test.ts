import { describe, expect, it } from 'vitest';
import { trajectoryAnalysis } from '../../../electron/engine/analysis/trajectory';
import { symmetricEigen } from '../../../electron/engine/linalg';
import { initialNoise } from '../../../electron/engine/samplers';
import { vpAlpha } from '../../../electron/engine/schedules';
import { loadAnalytic } from '../../helpers/fixtures';

/**
 * Reference geometry from the exact closed-form trajectory (DESIGN.md §2),
 * computed here by other routes: PCA from the D×D covariance of the states,
 * the plane residual by 2×2 normal equations.
 */
function exactGeometry(states: Float32Array, x0Hat: Float32Array, sigmas: Float64Array, dim: number): { explained: number[]; residual: number[]; rotation: number[] } {
  const n = sigmas.length;
  const xt = Float64Array.from(states, (v, k) => v * vpAlpha(sigmas[Math.floor(k / dim)]!));
  const mean = new Float64Array(dim);
  for (let j = 0; j < n; j++) for (let i = 0; i < dim; i++) mean[i]! += xt[j * dim + i]! / n;
  const cov = new Float64Array(dim * dim);
  for (let j = 0; j < n; j++) for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b]! += (xt[j * dim + a]! - mean[a]!) * (xt[j * dim + b]! - mean[b]!);
  const { values } = symmetricEigen(cov, dim);
  const total = values.reduce((s, v) => s + v, 0);
  const explained = Array.from(values.subarray(0, 5), (v) => v / total);
  const first = xt.subarray(0, dim);
  const last = xt.subarray((n - 1) * dim, n * dim);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from({ length: dim }, (_, i) => a[i]! * b[i]!).reduce((s, v) => s + v, 0);
  const g11 = dot(first, first);
  const g12 = dot(first, last);
  const g22 = dot(last, last);
  const det = g11 * g22 - g12 * g12;
  const residual: number[] = [];
  const rotation: number[] = [];
  for (let j = 0; j < n; j++) {
    const x = xt.subarray(j * dim, (j + 1) * dim);
    const r1 = dot(first, x);
    const r2 = dot(last, x);
    const a = (g22 * r1 - g12 * r2) / det;
    const b = (g11 * r2 - g12 * r1) / det;
    let res = 0;
    let rot = 0;
    const alpha = vpAlpha(sigmas[j]!);
    for (let i = 0; i < dim; i++) {
      res += (x[i]! - a * first[i]! - b * last[i]!) ** 2;
      rot += (x[i]! - alpha * x0Hat[j * dim + i]! - sigmas[j]! * alpha * first[i]!) ** 2;
    }
    residual.push(Math.sqrt(res / dot(x, x)));
    rotation.push(Math.sqrt(rot / dot(x, x)));
  }
  return { explained, residual, rotation };
}

describe('trajectory geometry on the analytic Gaussian', () => {
  const denoiser = loadAnalytic('gauss16');
  const gaussian = denoiser.gaussian!;

  it('PCA shares, plane residual and rotation error match the exact closed-form trajectory', async () => {
    const steps = 200;
    const seeds = [3, 4];
    const result = await trajectoryAnalysis(denoiser, { sampler: 'heun', steps, seeds });
    const sigmas = denoiser.schedule.samplingSigmas(steps, 'heun');
    expect(result.settings).toMatchObject({ sampler: 'heun', steps, seeds, view: 'vp' });
    expect(result.sigmas).toHaveLength(steps + 1);
    seeds.forEach((seed, b) => {
      const start = initialNoise(denoiser, seed, sigmas[0]!);
      const states = gaussian.closedFormTrajectory(start, sigmas[0]!, sigmas);
      const x0Hat = new Float32Array(states.length);
      for (let j = 0; j < sigmas.length; j++) {
        const state = states.subarray(j * 16, (j + 1) * 16);
        x0Hat.set(sigmas[j] === 0 ? state : gaussian.denoise(state, [sigmas[j]!]), j * 16);
      }
      const exact = exactGeometry(states, x0Hat, sigmas, 16);
      const measured = result.perSeed[b]!;
      // Heun with 200 steps (its tuned grid) is accurate to ~1e-5 relative (tests/engine/gaussian.test.ts), so the
      // variance shares agree to ~1e-5 and the relative residuals to ~1e-4 absolute; tolerances 1e-4 / 1e-3.
      measured.explained.forEach((share, c) => expect(Math.abs(share - exact.explained[c]!)).toBeLessThan(1e-4));
      measured.spanResidual.forEach((r, j) => expect(Math.abs(r - exact.residual[j]!)).toBeLessThan(1e-3));
      measured.rotationError.forEach((r, j) => expect(Math.abs(r - exact.rotation[j]!)).toBeLessThan(1e-3));
    });
    // Endpoints lie in the plane by construction; the largest residual is inside the run.
    expect(result.spanResidual[0]!.mean).toBeLessThan(1e-6);
    expect(result.spanResidual[steps]!.mean).toBeLessThan(1e-6);
    expect(result.peakResidual.state).toBeGreaterThan(0);
    expect(result.peakResidual.state).toBeLessThan(steps);
    expect(result.top2.n).toBe(2);
  });

  it('reports progress and can be cancelled', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const promise = trajectoryAnalysis(denoiser, { steps: 100, seeds: [1] }, {
      signal: controller.signal,
      onProgress: (done) => {
        seen.push(done);
        if (done >= 10) controller.abort();
      },
    });
    await expect(promise).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen.length).toBeGreaterThan(0);
  });
});
