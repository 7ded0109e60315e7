import { afterAll, describe, expect, it } from 'vitest';
import { perturbationAnalysis } from '../../../electron/engine/analysis/perturbation';
import type { OnnxDenoiser } from '../../../electron/engine/denoisers/onnx';
import { DiscreteVpSchedule } from '../../../electron/engine/schedules';
import { loadAnalytic, loadOnnx } from '../../helpers/fixtures';

const analytic = loadAnalytic('gauss16');
const gaussian = analytic.gaussian!;
const opened: OnnxDenoiser[] = [];
afterAll(async () => Promise.all(opened.map((d) => d.dispose())));

describe('perturbation transfer on the Gaussian', () => {
  it('σ form: a kick a·u_k at σ changes the final image by a·sqrt(λ_k/(σ² + λ_k))', async () => {
    const k = 3;
    const lambda = gaussian.eigvals[k]!;
    const result = await perturbationAnalysis(analytic, gaussian, {
      sampler: 'heun',
      steps: 200,
      seeds: [5, 6],
      injectSteps: [0, 60, 120, 170],
      strengths: [0.5, 2],
      direction: { kind: 'data-pc', index: k },
    });
    expect(result.settings.convention).toBe('sigma');
    for (const row of result.table) {
      for (const cell of row) {
        const expected = cell.strength * Math.sqrt(lambda / (cell.sigma ** 2 + lambda));
        // The Gaussian flow is linear, so the change is exact up to Heun's ~1e-5 relative error: tolerance 1e-3.
        expect(Math.abs(cell.change.mean / expected - 1)).toBeLessThan(1e-3);
        // The kick is stored in float32 (u_k rounded to ~6e-8 relative): tolerance 1e-6.
        expect(Math.abs(cell.theory.mean / expected - 1)).toBeLessThan(1e-6);
        // u_3 lies inside the 16 leading PCs, so all of the change is content.
        expect(Math.abs(cell.contentChange.mean / cell.change.mean - 1)).toBeLessThan(1e-4);
        expect(Math.abs(cell.contentTheory.mean / cell.theory.mean - 1)).toBeLessThan(1e-6);
      }
    }
    expect(result.trend.changeWithStrength).toBeCloseTo(1, 10);
  });

  it('VP-view kicks on a σ-form model follow the VP formula δ·sqrt(λ_k)/sqrt(σ_t² + α_t² λ_k), α = 1/sqrt(1+σ²)', async () => {
    const k = 1;
    const lambda = gaussian.eigvals[k]!;
    const result = await perturbationAnalysis(analytic, gaussian, { sampler: 'heun', steps: 200, seeds: [5], injectSteps: [0, 100, 180], strengths: [1], direction: { kind: 'data-pc', index: k }, convention: 'vp' });
    expect(result.settings.convention).toBe('vp');
    for (const [cell] of result.table) {
      const alpha = 1 / Math.sqrt(1 + cell!.sigma ** 2);
      const expected = Math.sqrt(lambda) / Math.sqrt((cell!.sigma * alpha) ** 2 + alpha ** 2 * lambda);
      // Heun's ~1e-5 relative error on the linear flow: tolerance 1e-3.
      expect(Math.abs(cell!.change.mean / expected - 1)).toBeLessThan(1e-3);
    }
    // In the VP view the top directions' early kicks are amplified (claim iii); in σ form they are damped.
    expect(result.trend.changeWithStep).toBeCloseTo(-1, 10);
  });

  it('VP convention (ONNX network that is the Gaussian): δ·sqrt(λ_k)/sqrt(σ_t² + α_t² λ_k) per direction, random kicks too', async () => {
    const network = await loadOnnx('fixture-eps-int64');
    opened.push(network);
    const schedule = network.schedule as DiscreteVpSchedule;
    const steps = 250;
    const result = await perturbationAnalysis(network, gaussian, {
      sampler: 'heun',
      steps,
      seeds: [1, 2, 3],
      injectSteps: [0, 100, 200, 240],
      strengths: [1, 3],
      direction: { kind: 'random' },
      contentDimensions: 4,
    });
    expect(result.settings.convention).toBe('vp');
    for (const row of result.table) {
      for (const cell of row) {
        expect(cell.theory.n).toBe(3);
        // A random kick's theory is Σ_k over its components (gaussianKickResponse); the measured change follows it:
        // Heun's error on this 250-step VP grid plus float32 network error (~4e-5 on x̂0) stay well under 1 %.
        expect(Math.abs(cell.change.mean / cell.theory.mean - 1)).toBeLessThan(0.01);
        // The same for the part along the 4 leading PCs (contentDimensions below).
        expect(Math.abs(cell.contentChange.mean / cell.contentTheory.mean - 1)).toBeLessThan(0.01);
        expect(cell.contentChange.mean).toBeLessThan(cell.change.mean);
      }
    }
    // Along u_0 the change is DESIGN.md §2's VP formula, evaluated here from ᾱ_t of the discrete schedule.
    const pc = await perturbationAnalysis(network, gaussian, { sampler: 'heun', steps, seeds: [1], injectSteps: [0, 120, 230], strengths: [2], direction: { kind: 'data-pc', index: 0 } });
    for (const row of pc.table) {
      const cell = row[0]!;
      const t = schedule.timestepOf(cell.sigma);
      const abar = schedule.alphasCumprod[t]!;
      const lambda = gaussian.eigvals[0]!;
      // α_t² = ᾱ_t, σ_t² = 1 − ᾱ_t
      const expected = (cell.strength * Math.sqrt(lambda)) / Math.sqrt(1 - abar + abar * lambda);
      expect(Math.abs(cell.theory.mean / expected - 1)).toBeLessThan(1e-6);
      expect(Math.abs(cell.change.mean / expected - 1)).toBeLessThan(0.01);
    }
    // Claim (iii) on the Gaussian: a kick along the top direction changes the final image less the later it comes.
    expect(pc.trend.changeWithStep).toBeCloseTo(-1, 10);
  });
});
