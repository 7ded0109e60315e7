import { describe, expect, it } from 'vitest';
import { commitmentSigma, emergenceAnalysis } from '../../../electron/engine/analysis/emergence';
import { KarrasSchedule } from '../../../electron/engine/schedules';
import { loadAnalytic } from '../../helpers/fixtures';

describe('feature emergence on the analytic Gaussian', () => {
  // On the ρ = 7 grid, dense at small σ, so that every direction's ratio (λ = 1e-3 included) is integrated to
  // ~1.5e-4: the default (tuned) grid spends its steps by variance, and is 3.5× less exact for the smallest λ here.
  const denoiser = loadAnalytic('gauss16').withSchedule(new KarrasSchedule(0.002, 80, 7, 'karras'));
  const gaussian = denoiser.gaussian!;

  it('commits direction k at σ_k = sqrt(λ_k) and follows 1/sqrt(1 + σ²/λ_k)', async () => {
    const result = await emergenceAnalysis(denoiser, gaussian, { sampler: 'heun', steps: 200, seeds: [1, 2, 3], directions: 16, region: { top: 1, left: 1, height: 2, width: 2 } });
    expect(result.directions).toHaveLength(16);
    // The sampler's final image is x̂0 at the last σ > 0 (σ_min, the standard last step), not x(0); relative to
    // it the exact ratio is sqrt((λ + σ_min²)/(λ + σ²)) and the commitment sqrt(λ + 2σ_min²) — within 0.4 % of
    // the paper's 1/sqrt(1 + σ²/λ) and sqrt(λ) even for the smallest λ = 1e-3, σ_min = 0.002.
    const sigmaMin = result.sigmas.at(-2)!;
    for (const direction of result.directions) {
      const lambda = direction.lambda;
      // Heun with 200 steps leaves ~1.5e-4 error in the ratio (it quarters at 400 steps): tolerance 5e-4.
      // (The last state, σ = 0, is the final image itself: ratio 1.)
      const exactRatio = (sigma: number): number => (sigma === 0 ? 1 : Math.sqrt((lambda + sigmaMin ** 2) / (lambda + sigma ** 2)));
      direction.curve.forEach((r, j) => expect(Math.abs(r - exactRatio(result.sigmas[j]!))).toBeLessThan(5e-4));
      direction.curve.forEach((r, j) => expect(Math.abs(r - direction.theory[j]!)).toBeLessThan(3e-3));
      // The crossing is interpolated in log σ between Karras grid points ~0.05 apart in log σ, where the curve is
      // smooth: within 0.1 % of the exact σ (measured ≤ 4e-4); and within 1 % of sqrt(λ_k).
      const exact = Math.sqrt(lambda + 2 * sigmaMin ** 2);
      expect(Math.abs(direction.pooledCommitment / exact - 1)).toBeLessThan(1e-3);
      expect(Math.abs(direction.commitment.mean / exact - 1)).toBeLessThan(1e-3);
      expect(Math.abs(direction.pooledCommitment / direction.sqrtLambda - 1)).toBeLessThan(0.01);
    }
    expect(result.rankCorrelation.mean).toBeCloseTo(1, 10);
    expect(result.pooledRankCorrelation).toBeCloseTo(1, 10);
    // The region's content ends at its final value and starts near 0.
    expect(result.region!.pooledCurve.at(-1)).toBeCloseTo(1, 10);
    expect(Math.abs(result.region!.pooledCurve[0]!)).toBeLessThan(0.1);
  });

  it('commitmentSigma interpolates, in log σ, where the ratio last enters the band |r − 1| ≤ 1 − 1/√2', () => {
    const sigmas = [10, 1, 0.1, 0];
    expect(commitmentSigma([0.1, 0.5, 0.9, 1], sigmas)).toBeCloseTo(Math.exp(Math.log(1) + ((Math.SQRT1_2 - 0.5) / 0.4) * Math.log(0.1)), 12);
    // A dip below the level late counts: the last crossing wins.
    expect(commitmentSigma([0.9, 0.9, 0.5, 1], sigmas)).toBeCloseTo(0.1 * (1 - (Math.SQRT1_2 - 0.5) / 0.5), 12);
    expect(commitmentSigma([0.9, 0.9, 0.9, 1], sigmas)).toBe(10);
    // Overshooting the final value by more than 1 − 1/√2 is uncommitted too (|r − 1| leaves the band).
    expect(commitmentSigma([3, 1.5, 1.1, 1], sigmas)).toBeCloseTo(Math.exp(((1.5 - 1 - (1 - Math.SQRT1_2)) / 0.4) * Math.log(0.1)), 12);
  });
});

describe('log-spaced direction choice', () => {
  it('keeps the head dense, reaches the limit and returns exactly the count asked for', async () => {
    const { logSpacedIndices } = await import('../../../electron/engine/analysis/emergence');
    for (const [count, limit] of [[32, 256], [10, 784], [16, 16], [5, 6]] as const) {
      const indices = logSpacedIndices(count, limit);
      expect(indices).toHaveLength(Math.min(count, limit));
      expect(indices[0]).toBe(0);
      expect(indices.at(-1)).toBe(limit - 1);
      expect(new Set(indices).size).toBe(indices.length);
      indices.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(indices[i]!));
    }
  });
});
