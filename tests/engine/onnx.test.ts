import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { GaussianModel } from '../../electron/engine/denoisers/gaussian';
import type { OnnxDenoiser } from '../../electron/engine/denoisers/onnx';
import { sample, toModelConvention } from '../../electron/engine/samplers';
import { seededNormal } from '../../electron/engine/rng';
import { maxAbsDiff } from '../../electron/engine/tensor';
import { fixtureFolder, loadAnalytic, loadOnnx } from '../helpers/fixtures';

const analytic = loadAnalytic('gauss16');
const gaussian = analytic.gaussian!;
const opened: OnnxDenoiser[] = [];
async function open(name: string): Promise<OnnxDenoiser> {
  const denoiser = await loadOnnx(name);
  opened.push(denoiser);
  return denoiser;
}
afterAll(async () => {
  await Promise.all(opened.map((d) => d.dispose()));
});

describe('ONNX denoiser on the Gaussian fixture networks', () => {
  it('samples step for step like the analytic Gaussian on the same σ grid (max abs difference < 1e-4)', async () => {
    const network = await open('fixture-eps-int64');
    const reference = analytic.withSchedule(network.schedule);
    const sigmas = network.schedule.samplingSigmas(50, 'euler');
    for (const sampler of ['euler', 'heun', 'ddpm'] as const) {
      const a = await sample({ denoiser: network, sampler, sigmas, seeds: [1, 2, 3] });
      const b = await sample({ denoiser: reference, sampler, sigmas, seeds: [1, 2, 3] });
      const batchDim = 3 * 16;
      const xtA = toModelConvention(a.states, sigmas, batchDim, network);
      const xtB = toModelConvention(b.states, sigmas, batchDim, reference);
      // ε̂ is exact to float32 (~4e-5 at worst, see tests/fixtures/README.md); x_t stays O(1) in the VP convention.
      expect(maxAbsDiff(xtA, xtB), `${sampler} x_t`).toBeLessThan(1e-4);
      expect(maxAbsDiff(a.x0Hat, b.x0Hat), `${sampler} x̂0`).toBeLessThan(1e-4);
      expect(Array.from(a.evaluations)).toEqual(Array.from(b.evaluations));
    }
  });

  it('every prediction type and timestep encoding yields the same x̂0', async () => {
    const names = ['fixture-eps-int64', 'fixture-x0', 'fixture-v', 'fixture-eps-float', 'fixture-eps-scalar', 'fixture-eps-fixedbatch', 'fixture-edm-x0'];
    const batch = 5;
    const x = seededNormal(5, 0, batch * 16);
    for (const name of names) {
      const network = await open(name);
      // σ on the network's own grid so VP models see an exact discrete t.
      const grid = network.schedule.samplingSigmas(10, 'euler');
      const sigmas = name === 'fixture-eps-scalar' ? [grid[3]!, grid[3]!, grid[3]!, grid[6]!, grid[6]!] : [grid[0]!, grid[2]!, grid[4]!, grid[6]!, grid[9]!];
      const scaled = x.map((v, i) => v * Math.sqrt(1 + sigmas[Math.floor(i / 16)]! ** 2));
      const got = await network.denoise(scaled, sigmas);
      const expected = gaussian.denoise(scaled, sigmas);
      expect(maxAbsDiff(got, expected), name).toBeLessThan(1e-4);
    }
  });

  it('batches conditional and unconditional passes for classifier-free guidance in one forward call', async () => {
    const network = await open('fixture-eps-class');
    const means = JSON.parse(readFileSync(`${fixtureFolder('')}/class_means.json`, 'utf-8')) as { labelMeans: number[][] };
    const classModel = (label: number): GaussianModel =>
      new GaussianModel(Float32Array.from(means.labelMeans[label]!), gaussian.eigvecs, gaussian.eigvals);
    const sigma = network.schedule.samplingSigmas(20, 'euler')[12]!;
    const x = seededNormal(9, 0, 3 * 16);
    const guidance = 3;
    const before = network.forwardCalls;
    const got = await network.denoise(x, [sigma, sigma, sigma], { labels: [0, 2, null], guidance });
    expect(network.forwardCalls - before).toBe(1);
    const unconditional = classModel(3);
    for (const [b, label] of [[0, 0], [1, 2]] as const) {
      const xb = x.subarray(b * 16, (b + 1) * 16);
      const u = unconditional.denoise(xb, [sigma]);
      const c = classModel(label).denoise(xb, [sigma]);
      const expected = u.map((v, i) => v + guidance * (c[i]! - v));
      expect(maxAbsDiff(got.subarray(b * 16, (b + 1) * 16), expected)).toBeLessThan(2e-4);
    }
    expect(maxAbsDiff(got.subarray(32, 48), unconditional.denoise(x.subarray(32, 48), [sigma]))).toBeLessThan(1e-4);
  });
});
