import { afterAll, describe, expect, it } from 'vitest';
import { agreementAnalysis, evAt } from '../../../electron/engine/analysis/agreement';
import type { OnnxDenoiser } from '../../../electron/engine/denoisers/onnx';
import { Random } from '../../../electron/engine/rng';
import { loadAnalytic, loadOnnx } from '../../helpers/fixtures';

const analytic = loadAnalytic('gauss16');
const gaussian = analytic.gaussian!;
const mixture = loadAnalytic('gauss16-gmm');
const delta = loadAnalytic('gauss16-delta');
const opened: OnnxDenoiser[] = [];
afterAll(async () => Promise.all(opened.map((d) => d.dispose())));

/** Probe "data": samples of the fixture Gaussian, μ + U sqrt(λ) z. */
function gaussianSamples(count: number): Float32Array {
  const random = new Random(99);
  const out = new Float32Array(count * 16);
  for (let n = 0; n < count; n++) {
    const z = Array.from({ length: 16 }, () => random.normal());
    for (let i = 0; i < 16; i++) {
      let v = gaussian.mean[i]!;
      for (let k = 0; k < 16; k++) v += gaussian.eigvecs[i * 16 + k]! * Math.sqrt(gaussian.eigvals[k]!) * z[k]!;
      out[n * 16 + i] = v;
    }
  }
  return out;
}

describe('Gaussian–network agreement', () => {
  it('an ONNX network that is the Gaussian has EV(σ) = 1 and follows the closed-form trajectory', async () => {
    const network = await loadOnnx('fixture-eps-int64');
    opened.push(network);
    const result = await agreementAnalysis(network, gaussian, [{ name: 'gmm', denoise: (x, s) => mixture.denoise(x, s) }], {
      sampler: 'heun',
      steps: 200,
      seeds: [1, 2],
      probes: gaussianSamples(32),
      evSigmas: [0.02, 0.1, 1, 10, 50],
    });
    // EV is computed at the σ the network evaluates (its nearest timestep), so only float32 error remains
    // (x̂0 to ~3e-5 against ‖D − x‖ ≥ 0.02·‖ε‖): 1 − EV below 1e-4.
    const ev = result.ev.references.find((r) => r.name === 'gaussian')!.ev;
    ev.forEach((value) => expect(1 - value.mean).toBeLessThan(1e-4));
    expect(result.ev.sigmas[2]).not.toBe(1); // snapped to a timestep's σ
    expect(Math.abs(Math.log(result.ev.sigmas[2]! / 1))).toBeLessThan(0.01);
    // The mixture (class means offset by 0.3·N(0, I)) is a worse description at small σ than at large σ.
    const gmm = result.ev.references.find((r) => r.name === 'gmm')!.ev;
    expect(gmm[0]!.mean).toBeLessThan(0.99);
    expect(gmm[4]!.mean).toBeGreaterThan(gmm[0]!.mean);
    expect(evAt(result, 'gaussian', 10)!.mean).toBeGreaterThan(0.9999);
    // Trajectory: Heun (200 steps on the VP grid) against the exact flow, float32 network: RMS well under 1e-3.
    result.trajectory.stateDistance.forEach((d) => expect(d.mean).toBeLessThan(1e-3));
    result.trajectory.x0Distance.forEach((d) => expect(d.mean).toBeLessThan(1e-3));
  });

  it('EV is 1 − Σ‖D_nn − D_ref‖² / Σ‖D_nn − x‖² at data + σ·noise (independent recomputation)', async () => {
    const probes = gaussianSamples(8);
    const sigma = 0.5;
    const result = await agreementAnalysis(delta, gaussian, [], { steps: 10, seeds: [4], probes, evSigmas: [sigma] });
    const noise = new Random(4, 0x5e1f).fillNormal(new Float32Array(probes.length));
    const x = probes.map((v, i) => v + sigma * noise[i]!);
    const sigmas = new Array<number>(8).fill(sigma);
    const dNet = await delta.denoise(x, sigmas);
    const dRef = gaussian.denoise(x, sigmas);
    let error = 0;
    let score = 0;
    for (let i = 0; i < x.length; i++) {
      error += (dNet[i]! - dRef[i]!) ** 2;
      score += (dNet[i]! - x[i]!) ** 2;
    }
    expect(result.ev.references[0]!.ev[0]!.mean).toBeCloseTo(1 - error / score, 10);
  });
});
