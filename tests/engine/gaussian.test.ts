import { describe, expect, it } from 'vitest';
import { KarrasSchedule } from '../../electron/engine/schedules';
import { sample } from '../../electron/engine/samplers';
import { seededNormal } from '../../electron/engine/rng';
import { loadAnalytic, relativeError } from '../helpers/fixtures';

describe('Gaussian denoiser and closed-form probability flow', () => {
  const denoiser = loadAnalytic('gauss16');
  const gaussian = denoiser.gaussian!;

  it('matches the formula D = μ + U diag(λ/(λ+σ²)) Uᵀ (x − μ) computed independently', async () => {
    const x = seededNormal(7, 0, 16).map((v) => v * 3);
    const sigma = 0.7;
    const out = await denoiser.denoise(x, [sigma]);
    // Independent float64 computation via the full covariance Σ and (Σ + σ²I)⁻¹ applied by eigen-sum.
    const expected = new Float64Array(16);
    for (let i = 0; i < 16; i++) {
      let sum = gaussian.mean[i]!;
      for (let k = 0; k < 16; k++) {
        let ck = 0;
        for (let j = 0; j < 16; j++) ck += gaussian.eigvecs[j * 16 + k]! * (x[j]! - gaussian.mean[j]!);
        sum += gaussian.eigvecs[i * 16 + k]! * ck * (gaussian.eigvals[k]! / (gaussian.eigvals[k]! + sigma * sigma));
      }
      expected[i] = sum;
    }
    // Float32 storage of the output bounds the agreement at ~1e-6 relative.
    expect(relativeError(out, expected)).toBeLessThan(1e-5);
  });

  it('closed-form trajectory agrees with a fine-step Heun integration (relative error < 1e-3)', async () => {
    const schedule = new KarrasSchedule(0.002, 80, 7, 'karras');
    const sigmas = schedule.samplingSigmas(400, 'heun');
    const heun = await sample({ denoiser: denoiser.withSchedule(schedule), sampler: 'heun', sigmas, seeds: [11] });
    const start = heun.states.subarray(0, 16);
    const closed = gaussian.closedFormTrajectory(start, sigmas[0]!, sigmas);
    let worst = 0;
    for (let j = 1; j < sigmas.length; j++) {
      const error = relativeError(heun.states.subarray(j * 16, (j + 1) * 16), closed.subarray(j * 16, (j + 1) * 16));
      worst = Math.max(worst, error);
    }
    // Heun is 2nd order; 400 Karras steps put its global error near 1e-5, far inside the target.
    expect(worst).toBeLessThan(1e-3);
  });

  it('a truncated eigenbasis with an isotropic remainder gives the same closed form as the full one when λ_rest equals the remainder', async () => {
    const { GaussianModel } = await import('../../electron/engine/denoisers/gaussian');
    const dim = 16;
    const eigvals = Float64Array.from({ length: dim }, (_, k) => (k < 4 ? 2 / (k + 1) : 0.05));
    const full = new GaussianModel(gaussian.mean, gaussian.eigvecs, eigvals, 0);
    const kept = new Float32Array(dim * 4);
    for (let i = 0; i < dim; i++) for (let k = 0; k < 4; k++) kept[i * 4 + k] = gaussian.eigvecs[i * dim + k]!;
    const truncated = new GaussianModel(gaussian.mean, kept, eigvals.slice(0, 4), 0.05);
    const x = seededNormal(3, 0, dim).map((v) => v * 10);
    const sigmas = [10, 1, 0.1, 0];
    expect(relativeError(truncated.closedFormTrajectory(x, 10, sigmas), full.closedFormTrajectory(x, 10, sigmas))).toBeLessThan(1e-5);
    expect(relativeError(truncated.denoise(x, [0.3]), full.denoise(x, [0.3]))).toBeLessThan(1e-5);
  });
});
