import { afterAll, describe, expect, it } from 'vitest';
import { agreementAnalysis, evAt } from '../../../electron/engine/analysis/agreement';
import type { OnnxDenoiser } from '../../../electron/engine/denoisers/onnx';
import { localTrainingOverlap, probeImages } from '../../../electron/engine/analysis/resources';
import { LocalPatchModel } from '../../../electron/engine/denoisers/local';
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

  it('r²: a reference that is the network scores 1 everywhere — the local model with whole-image patches against the delta mixture', async () => {
    const training = delta.delta!;
    const whole = new LocalPatchModel(training.images, training.labels, { channels: 1, height: 4, width: 4, shiftWindow: 0, patchSchedule: { sigmas: [1], patchSizes: [7] } });
    const result = await agreementAnalysis(delta, gaussian, [{ name: 'whole-image local', kind: 'local', denoise: (x, s) => whole.denoise(x, s) }], {
      steps: 10,
      seeds: [1, 2],
      probes: gaussianSamples(12),
      evSigmas: [0.05, 0.5, 5],
    });
    const local = result.ev.references.find((r) => r.kind === 'local')!;
    local.ev.forEach((v) => expect(1 - v.mean).toBeLessThan(1e-6));
    local.r2.forEach((v) => expect(1 - v.mean).toBeLessThan(1e-6));
    // The Gaussian is not the 12-image delta mixture: its r² falls at small σ.
    const g = result.ev.references.find((r) => r.kind === 'gaussian')!;
    expect(g.r2[0]!.mean).toBeLessThan(0.99);
    // The probe picture: noisy input, network, then each reference, one column per σ.
    expect(result.probeExample.rows.map((r) => r.name)).toEqual(['noisy input', 'network', 'gaussian', 'whole-image local']);
    expect(result.probeExample.rows[1]!.images.length).toBe(3 * 16);
  });

  it('median r² is the median over probe images of 1 − ‖a − b‖²/‖a − ā‖² (independent recomputation)', async () => {
    const probes = gaussianSamples(7);
    const sigma = 0.3;
    const result = await agreementAnalysis(delta, gaussian, [], { steps: 10, seeds: [4], probes, evSigmas: [sigma] });
    const noise = new Random(4, 0x5e1f).fillNormal(new Float32Array(probes.length));
    const x = probes.map((v, i) => v + sigma * noise[i]!);
    const sigmas = new Array<number>(7).fill(sigma);
    const a = await delta.denoise(x, sigmas);
    const b = gaussian.denoise(x, sigmas);
    const perImage = Array.from({ length: 7 }, (_, n) => {
      const rows = Array.from({ length: 16 }, (_, i) => [a[n * 16 + i]!, b[n * 16 + i]!] as const);
      const mean = rows.reduce((sum, [v]) => sum + v, 0) / 16;
      return 1 - rows.reduce((sum, [u, v]) => sum + (u - v) ** 2, 0) / rows.reduce((sum, [u]) => sum + (u - mean) ** 2, 0);
    }).sort((p, q) => p - q);
    expect(result.ev.references[0]!.r2[0]!.mean).toBeCloseTo(perImage[3]!, 10);
  });

  it('probes are held out from the local model: it was built on the delta set\'s first 8 images, so probes come after them', () => {
    const local = loadAnalytic('gauss16-local');
    expect(local.local!.count).toBe(8);
    expect(localTrainingOverlap(local, delta)).toBe(8);
    expect(localTrainingOverlap(local, mixture)).toBe(0);
    const held = probeImages(delta, 4, null, 0, 8);
    const training = delta.delta!.images;
    for (let k = 0; k < 4; k++) {
      const probe = held.subarray(k * 16, (k + 1) * 16);
      const index = [8, 9, 10, 11].find((n) => probe.every((v, i) => v === training[n * 16 + i]));
      expect(index, `probe ${k}`).toBeDefined();
    }
    // Its calibration file: patch side 1 / 3 / 7 at σ 0.05 / 0.5 / 5.
    expect([0.01, 0.3, 100].map((s) => local.local!.patchSizeAt(s))).toEqual([1, 3, 7]);
  });
});
