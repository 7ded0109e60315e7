import { afterAll, describe, expect, it } from 'vitest';
import { manifoldAnalysis } from '../../../electron/engine/analysis/manifold';
import { principalAngles } from '../../../electron/engine/analysis/linalg';
import type { OnnxDenoiser } from '../../../electron/engine/denoisers/onnx';
import { loadAnalytic, loadOnnx } from '../../helpers/fixtures';

const analytic = loadAnalytic('gauss16');
const gaussian = analytic.gaussian!;
const dim = 16;
const opened: OnnxDenoiser[] = [];
afterAll(async () => Promise.all(opened.map((d) => d.dispose())));

function topEigenvectors(k: number): Float64Array {
  const out = new Float64Array(k * dim);
  for (let c = 0; c < k; c++) for (let i = 0; i < dim; i++) out[c * dim + i] = gaussian.eigvecs[i * dim + c]!;
  return out;
}

describe('Jacobian and generator directions on the Gaussian', () => {
  it('the Jacobian top-k subspace is the data\'s top-k eigenvectors, eigenvalues λ/(λ + σ²)', async () => {
    const k = 4;
    // 6 blocks of 2: a 12-dimensional Krylov space of the 16-D Jacobian (polynomial degree 5), 24 forward passes.
    // (Fewer, larger blocks of the same budget converge worse: 4 blocks of 3 leave the 4th direction 2e-2 rad off.)
    const result = await manifoldAnalysis(analytic, gaussian, { steps: 40, seeds: [2], step: 20, k, budget: 24, toleranceDeg: 0, blockSize: 2, generatorK: 0, gridDirections: 2, amplitudes: [-1, 0, 1] });
    const { sigma } = result.settings;
    // Tolerance 0: the whole budget, 6 blocks of 2, and every direction counts as found.
    expect(result.jacobian.first.forwardPasses).toBe(24);
    expect(result.jacobian.first.found).toBe(k);
    const values = result.jacobian.first.eigenvalues;
    values.forEach((value, c) => {
      const lambda = gaussian.eigvals[c]!;
      // Measured error ≤ 4e-7 (Krylov error plus float32 output rounding over 2h in the central difference): 1e-5.
      expect(Math.abs(value - lambda / (lambda + sigma * sigma))).toBeLessThan(1e-5);
    });
    const angles = principalAngles(result.jacobian.first.directions, k, topEigenvectors(k), k, dim);
    // Measured ≤ 3.4e-5 rad (sin θ ≲ residual / eigen-gap): below 1e-3 rad.
    expect(Math.max(...angles)).toBeLessThan(1e-3);
    expect(result.jacobian.anglesToData.every((a) => a < 0.06)).toBe(true);
    // The Gaussian Jacobian is symmetric: the projected operator has no skew part beyond rounding.
    expect(result.jacobian.first.asymmetry).toBeLessThan(1e-5);
    expect(result.grids.jacobian.length).toBe(2 * 3 * dim);
  });

  it('the same through an ONNX network that is the Gaussian (VP, float32, σ snapped to a timestep)', async () => {
    const network = await loadOnnx('fixture-eps-int64');
    opened.push(network);
    const k = 3;
    const result = await manifoldAnalysis(network, gaussian, { steps: 20, seeds: [1], step: 12, k, budget: 40, blockSize: 5, generatorK: 0, gridDirections: 0 });
    const sigma = result.settings.effectiveSigma;
    result.jacobian.first.eigenvalues.forEach((value, c) => {
      const lambda = gaussian.eigvals[c]!;
      // float32 ε̂ (~5e-5) divided by 2h = 0.1σ: ~1e-3 error in a JVP; tolerance 5e-3.
      expect(Math.abs(value - lambda / (lambda + sigma * sigma))).toBeLessThan(5e-3);
    });
    const angles = principalAngles(result.jacobian.first.directions, k, topEigenvectors(k), k, dim);
    expect(Math.max(...angles)).toBeLessThan(0.05);
  });

  it('the generator map x_T → x0 has singular values sqrt(λ_k/(σ_T² + λ_k))', async () => {
    const k = 4;
    // 3 blocks of k + 2 = 6 cover all 16 dimensions: this checks the finite-difference flow map and the SVD
    // (the Krylov convergence is the Jacobian test's subject).
    const result = await manifoldAnalysis(analytic, gaussian, { sampler: 'heun', steps: 300, seeds: [3], k: 2, budget: 8, generatorK: k, generatorBlocks: 3, gridDirections: 2, amplitudes: [0, 1] });
    const generator = result.generator!;
    expect(generator.singularValues).toHaveLength(k);
    generator.singularValues.forEach((value, c) => {
      // Heun with 300 steps reproduces the linear flow map to ~1.5e-4 relative (1.3e-3 at 100 steps): 1e-3.
      expect(Math.abs(value / generator.theory[c]! - 1)).toBeLessThan(1e-3);
    });
    const angles = principalAngles(generator.latentDirections, k, topEigenvectors(k), k, dim);
    expect(Math.max(...angles)).toBeLessThan(1e-3);
    expect(result.grids.generator!.length).toBe(2 * 2 * dim);
  });
});
