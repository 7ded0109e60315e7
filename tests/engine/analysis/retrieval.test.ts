import { describe, expect, it } from 'vitest';
import { retrievalAnalysis } from '../../../electron/engine/analysis/retrieval';
import { loadAnalytic } from '../../helpers/fixtures';

describe('retrieval along delta-mixture and Gaussian trajectories', () => {
  const delta = loadAnalytic('gauss16-delta');
  const gaussian = loadAnalytic('gauss16');

  it('the exact delta mixture starts with a uniform posterior (entropy ln N) and ends on a training image', async () => {
    const result = await retrievalAnalysis(delta, delta, { sampler: 'heun', steps: 100, seeds: [1, 2, 3] });
    expect(result.settings.trainingImages).toBe(12);
    expect(result.maxEntropy).toBeCloseTo(Math.log(12), 12);
    // At σ = 80 the logits −‖x − y_i‖²/2σ² differ by about ‖ε‖·‖y_i − y_j‖/σ ≈ 4·1/80 = 0.05, which lowers the
    // entropy below ln N by about half their variance, ~1e-3: tolerance 3e-3.
    expect(Math.abs(result.delta.entropy[0]!.mean - Math.log(12))).toBeLessThan(3e-3);
    // Late the posterior collapses onto one image, which the run lands on exactly.
    expect(result.delta.entropy.at(-1)!.mean).toBeLessThan(1e-3);
    result.delta.finalNearest.forEach((f) => expect(f.distance).toBeLessThan(1e-4));
    expect(result.delta.collapse!.position).toBeGreaterThan(0.5);
    // Network = the delta mixture itself, from the same x_T: identical curves.
    result.network.entropy.forEach((e, j) => expect(e.mean).toBeCloseTo(result.delta.entropy[j]!.mean, 6));
  });

  it('a Gaussian "network" does not retrieve: its samples stay away from the training images', async () => {
    const result = await retrievalAnalysis(gaussian, delta, { steps: 30, seeds: [1, 2, 3] });
    result.network.finalNearest.forEach((f) => expect(f.distance).toBeGreaterThan(0.05));
  });

  it('a class restricts the posterior to that class', async () => {
    const result = await retrievalAnalysis(delta, delta, { steps: 20, seeds: [1], classLabel: 2 });
    expect(result.settings.trainingImages).toBe(4);
    expect(result.maxEntropy).toBeCloseTo(Math.log(4), 12);
    expect(result.delta.finalNearest[0]!.index).toBeGreaterThanOrEqual(8);
  });
});
