import { describe, expect, it } from 'vitest';
import { teleportAnalysis } from '../../../electron/engine/analysis/teleport';
import { loadAnalytic } from '../../helpers/fixtures';

describe('analytical teleportation on the Gaussian', () => {
  const denoiser = loadAnalytic('gauss16');
  const gaussian = denoiser.gaussian!;

  it('starting from the closed-form state at σ_skip gives the full run\'s final image and saves the skipped evaluations', async () => {
    const steps = 200;
    const result = await teleportAnalysis(denoiser, gaussian, { sampler: 'heun', steps, seeds: [1, 2, 3, 4, 5, 6, 7, 8], skips: [0.15, 0.3, 0.6] });
    expect(result.rows.map((r) => r.startStep)).toEqual([0, 30, 60, 120]);
    const full = result.rows[0]!;
    // Heun: 2 evaluations per step except the last, which lands on D.
    expect(full.evaluations).toBe(2 * steps - 1);
    for (const row of result.rows.slice(1)) {
      expect(row.saved).toBe(2 * row.startStep);
      // The closed form is the exact flow, so the only difference is the full run's own Heun error over the
      // skipped part (measured 2e-7, 1e-6 and 1e-4 RMS for these skips, on images of RMS ~0.5): below 5e-4.
      expect(row.difference.mean).toBeLessThan(5e-4);
      expect(row.withinNoise).toBe(true);
      expect(Math.abs(row.quality.pcFrechet - full.quality.pcFrechet)).toBeLessThan(1e-3);
    }
    expect(result.largestSafe.startStep).toBe(120);
    expect(result.largestSafe.savedFraction).toBeCloseTo(240 / 399, 10);
    expect(result.noise.pcFrechet).toBeGreaterThan(0);
    expect(result.noise.judgeFrechet).toBeNull();
  });

  it('refuses the stochastic sampler and too few seeds', async () => {
    await expect(teleportAnalysis(denoiser, gaussian, { sampler: 'ddpm', steps: 10, seeds: [1, 2, 3, 4] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(teleportAnalysis(denoiser, gaussian, { steps: 10, seeds: [1, 2] })).rejects.toThrow(/at least 4 seeds/);
  });

  it('a class-conditional run teleports with its own class Gaussian: exact for a mixture, not with the all-data Gaussian', async () => {
    // Conditioned on class c, the mixture's flow is exactly component c's Gaussian flow, so teleporting with the
    // class Gaussians reproduces the full run; the all-data Gaussian (same covariance, other mean) does not.
    const gmm = loadAnalytic('gauss16-gmm');
    const classGaussians = gmm.classGaussians!;
    expect(classGaussians).toHaveLength(3);
    const settings = { sampler: 'heun' as const, steps: 100, seeds: [1, 2, 3, 4, 5, 6], skips: [0.3], classCycle: true };
    const own = await teleportAnalysis(gmm, gaussian, { ...settings, classGaussians });
    const shared = await teleportAnalysis(gmm, gaussian, settings);
    expect(own.settings.classGaussians).toBe(true);
    expect(shared.settings.classGaussians).toBe(false);
    expect(own.rows[1]!.difference.mean).toBeLessThan(1e-3);
    expect(shared.rows[1]!.difference.mean).toBeGreaterThan(20 * own.rows[1]!.difference.mean);
    await expect(teleportAnalysis(denoiser, gaussian, { ...settings, classGaussians })).rejects.toThrow(/class-conditional model with 3 classes/);
  });
});
