import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateParams } from '../../electron/api/validate';
import { ganLatent } from '../../electron/engine/gan';
import { readRun } from '../../electron/engine/runs';
import { Engine } from '../../electron/engine/service';
import { FIXTURES } from '../helpers/fixtures';

const home = mkdtempSync(join(tmpdir(), 'painter-gan-studio-'));
const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
afterAll(() => engine.dispose());
const reference = JSON.parse(readFileSync(join(FIXTURES, 'fixture-gan-linear', 'gan_reference.json'), 'utf-8')) as { A: number[][]; B: number[][]; singularValues: number[] };

function linear(z: ArrayLike<number>, label: number): number[] {
  return reference.A.map((row, p) => row.reduce((sum, a, i) => sum + a * z[i]!, reference.B[label]![p]!));
}

describe('a GAN model in the studio', () => {
  it('generates a one-state run G(z) from the seed, with z in its settings, autosaved and readable', async () => {
    const info = (await engine.call('listModels', {})).find((m) => m.id === 'fixture-gan-linear')!;
    expect(info.kind).toBe('gan');
    const summary = await engine.generate({ modelId: 'fixture-gan-linear', seed: 9, steps: 1, sampler: 'euler', classLabel: 2, guidance: 1 });
    expect(summary.stepCount).toBe(1);
    expect(summary.sigmas).toEqual([0]);
    const z = ganLatent(9, 6);
    expect(summary.settings.latent).toEqual(Array.from(z));
    const run = engine.getRunRecord(summary.runId);
    const expected = linear(z, 2);
    expected.forEach((v, p) => expect(Math.abs(run.x0Hat[p]! - v)).toBeLessThan(1e-5));
    const saved = readRun(join(home, 'runs', `${summary.runId}.safetensors`));
    expect(saved.summary.stepCount).toBe(1);
    expect(saved.summary.settings.latent).toHaveLength(6);
    expect((await engine.call('gaussianGhost', { runId: summary.runId })).available).toBe(false);
  });

  it('finds the latent directions (A\'s right singular vectors), and a kept cell is the run from z + a·v, a branch of it', async () => {
    const parent = await engine.generate({ modelId: 'fixture-gan-linear', seed: 3, steps: 1, sampler: 'euler', classLabel: 0, guidance: 1 });
    const grid = await engine.call('variations', { jobId: 'g', runId: parent.runId, step: 0, family: 'gan-latent', directions: 3, amplitudes: [-2, 0, 2] });
    expect(grid.family).toBe('gan-latent');
    expect(grid.count).toBe(3);
    grid.values.forEach((s, j) => expect(Math.abs(s - reference.singularValues[j]!)).toBeLessThan(2e-5));
    const z = Float32Array.from(parent.settings.latent!);
    const v = grid.latentDirections!.subarray(6, 12);
    const kept = Array.from(z, (zi, i) => zi + 2 * v[i]!);
    const child = await engine.call('generate', { jobId: 'k', modelId: 'fixture-gan-linear', seed: 3, steps: 1, sampler: 'euler', classLabel: 0, guidance: 1, latent: kept, branchOf: { runId: parent.runId, perturbation: '+2 along G2' } });
    expect(child.branch).toEqual({ parentRunId: parent.runId, step: 0, perturbation: '+2 along G2' });
    const image = engine.getRunRecord(child.runId).x0Hat;
    // The grid cell (direction 2, amplitude +2) is exactly the kept run.
    for (let p = 0; p < 16; p++) expect(Math.abs(image[p]! - grid.images[(1 * 3 + 2) * 16 + p]!)).toBeLessThan(1e-6);
  });

  it('refuses diffusion families on a GAN run, GAN directions on a diffusion run, and a latent of the wrong size', async () => {
    const gan = await engine.generate({ modelId: 'fixture-gan-linear', seed: 1, steps: 1, sampler: 'euler', classLabel: 1, guidance: 1 });
    await expect(engine.call('variations', { jobId: 'a', runId: gan.runId, step: 0, family: 'jacobian', directions: 2, amplitudes: [1] })).rejects.toThrow(/GAN run has no denoising steps/);
    const diffusion = await engine.generate({ modelId: 'fixture-gaussian', seed: 1, steps: 8, sampler: 'euler', classLabel: null, guidance: 1 });
    await expect(engine.call('variations', { jobId: 'b', runId: diffusion.runId, step: 2, family: 'gan-latent', directions: 2, amplitudes: [1] })).rejects.toThrow(/need a run of a GAN model/);
    await expect(engine.generate({ modelId: 'fixture-gan-linear', seed: 1, steps: 1, sampler: 'euler', classLabel: 1, guidance: 1, latent: [1, 2] })).rejects.toThrow(/latent of 6 values; got 2/);
    await expect(engine.generate({ modelId: 'fixture-gan-linear', seed: 1, steps: 1, sampler: 'euler', classLabel: null, guidance: 1 })).rejects.toThrow(/needs a class/);
    await expect(engine.generate({ modelId: 'fixture-gaussian', seed: 1, steps: 8, sampler: 'euler', classLabel: null, guidance: 1, latent: [1] })).rejects.toThrow(/are for GAN models/);
    expect(() => validateParams('generate', { jobId: 'j', modelId: 'm', seed: 1, steps: 1, sampler: 'euler', classLabel: 0, guidance: 1, latent: [1, Number.NaN] })).toThrow(/"latent" must be finite/);
  });

  it('the Theory tab charts the GAN analogy for a diffusion run: the registered GAN of its size beside its generator map and the Gaussian', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 2, steps: 40, sampler: 'heun', classLabel: null, guidance: 1 });
    const chart = await engine.call('theory', { jobId: 't', runId: run.runId, analysis: 'gan-analogy', seeds: 2 });
    if (chart.analysis !== 'gan-analogy') throw new Error('wrong chart');
    expect(chart.gan).toBe('fixture-gan-linear');
    expect(chart.k).toBe(6);
    expect(chart.maps.map((m) => m.name)).toEqual(['gan', 'diffusion', 'gaussian']);
    chart.maps[0]!.normalized.forEach((v, j) => expect(Math.abs(v - reference.singularValues[j]! / reference.singularValues[0]!)).toBeLessThan(2e-5));
    // The fixture's network is the Gaussian: its generator map through 40 Heun steps has the exact map's spectrum (2 Krylov blocks of 14 span 16-D).
    chart.maps[1]!.normalized.forEach((v, j) => expect(Math.abs(v - chart.maps[2]!.normalized[j]!)).toBeLessThan(5e-3));
  });
});
