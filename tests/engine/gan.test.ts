import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffusionMapSpectrum, ganAnalogyAnalysis, ganAnalogyPicture, gaussianMapSpectrum } from '../../electron/engine/analysis/gan-analogy';
import { ProgressMeter, resolveRunSettings } from '../../electron/engine/analysis/context';
import { OnnxGenerator } from '../../electron/engine/denoisers/onnx';
import { coarseShare, effectiveRank, ganLatent, ganLatentDirections, ganVariationGrid } from '../../electron/engine/gan';
import type { GanManifest } from '../../electron/engine/manifest';
import { ModelRegistry, readManifest } from '../../electron/engine/models';
import { fixtureFolder, loadAnalytic } from '../helpers/fixtures';

const folder = fixtureFolder('fixture-gan-linear');
const manifest = readManifest(folder).manifest as GanManifest;
const reference = JSON.parse(readFileSync(join(folder, 'gan_reference.json'), 'utf-8')) as { A: number[][]; B: number[][]; singularValues: number[]; rightSingularVectors: number[][] };
const opened: Array<{ dispose(): Promise<void> }> = [];
afterAll(async () => Promise.all(opened.map((o) => o.dispose())));

async function linearGan(): Promise<OnnxGenerator> {
  const generator = await OnnxGenerator.load(manifest, join(folder, manifest.gan.file));
  opened.push(generator);
  return generator;
}

describe('GAN generator (manifest kind gan)', () => {
  it('generates A z + B[y] for a batch, with one label each', async () => {
    const generator = await linearGan();
    expect(generator.latentDim).toBe(6);
    expect(generator.unconditional).toBe(false);
    const z = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
    const x = await generator.generate(z, [2, 0]);
    for (let b = 0; b < 2; b++) {
      const label = [2, 0][b]!;
      for (let p = 0; p < 16; p++) {
        let expected = reference.B[label]![p]!;
        for (let i = 0; i < 6; i++) expected += reference.A[p]![i]! * z[b * 6 + i]!;
        // float32 matmul of 6 terms: ~1e-7.
        expect(Math.abs(x[b * 16 + p]! - expected)).toBeLessThan(1e-5);
      }
    }
    await expect(generator.generate(z, [null, 0])).rejects.toThrow(/class-conditional only/);
    await expect(generator.generate(z, [3, 0])).rejects.toThrow(/Class 3 is not valid/);
    await expect(generator.generate(z.subarray(0, 7), [0])).rejects.toThrow(/latents of 6 values/);
  });

  it('its latent directions are the eigenvectors of AᵀA: singular values and right vectors of A', async () => {
    const generator = await linearGan();
    const z = ganLatent(3, 6);
    const result = await ganLatentDirections(generator, z, 1);
    expect(result.forwardPasses).toBe(12);
    result.singularValues.forEach((s, j) => {
      // A linear map: the central difference is exact but for float32 rounding (1e-7 / 2h = 1e-6).
      expect(Math.abs(s - reference.singularValues[j]!)).toBeLessThan(2e-5);
      let dot = 0;
      for (let i = 0; i < 6; i++) dot += result.latentDirections[j * 6 + i]! * reference.rightSingularVectors[j]![i]!;
      expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-6);
      // u_j = A v_j / s_j is a unit vector.
      let norm = 0;
      for (let p = 0; p < 16; p++) norm += result.imageDirections[j * 16 + p]! ** 2;
      expect(Math.abs(norm - 1)).toBeLessThan(1e-5);
    });
    const grid = await ganVariationGrid(generator, z, 1, result.latentDirections, 2, [-1, 0, 1]);
    expect(grid.length).toBe(2 * 3 * 16);
    // G(z + v) − G(z) = A v = s u.
    for (let p = 0; p < 16; p++) expect(Math.abs(grid[2 * 16 + p]! - grid[16 + p]! - result.singularValues[0]! * result.imageDirections[p]!)).toBeLessThan(1e-5);
  });

  it('the registry opens a gan folder as a generator and refuses it as a denoiser, by name', async () => {
    const registry = new ModelRegistry({ bundledFolder: join(folder, 'none'), userFolders: [folder, fixtureFolder('gauss16')] });
    opened.push(registry);
    const info = await registry.info('fixture-gan-linear');
    expect(info.kind).toBe('gan');
    expect(info.defaultSteps).toBe(1);
    expect(info.unconditional).toBe(false);
    expect((await registry.loadGenerator('fixture-gan-linear')).latentDim).toBe(6);
    await expect(registry.load('fixture-gan-linear')).rejects.toThrow(/GAN generator: it makes an image in one step/);
    expect(() => registry.loadGenerator('fixture-gaussian')).toThrow(/is a gaussian model, not a GAN generator/);
  });

  it('refuses a manifest whose latent size or output does not fit the graph', async () => {
    const wrongLatent: GanManifest = { ...manifest, gan: { ...manifest.gan, latent: { name: 'z', dim: 8 } } };
    await expect(OnnxGenerator.load(wrongLatent, join(folder, 'model.onnx'))).rejects.toThrow(/latent tensor "z" has shape \[batch, 6\]; the manifest says \[batch, 8\]/);
    const wrongImage: GanManifest = { ...manifest, image: { ...manifest.image, height: 5 } };
    await expect(OnnxGenerator.load(wrongImage, join(folder, 'model.onnx'))).rejects.toThrow(/needs \[batch, 1, 5, 4\]/);
    const noLabel: GanManifest = { ...manifest, gan: { file: 'model.onnx', latent: manifest.gan.latent, output: manifest.gan.output } };
    await expect(OnnxGenerator.load(noLabel, join(folder, 'model.onnx'))).rejects.toThrow(/graph input "y" not described/);
  });
});

describe('coarse share and effective rank', () => {
  const image = { channels: 1, height: 8, width: 8, range: [-1, 1] as [number, number] };
  it('is 1 for a change constant on 4×4 blocks, 0 for a checkerboard, and the block-mean energy otherwise', () => {
    const blocks = Float32Array.from({ length: 64 }, (_, i) => (Math.floor(i / 8) < 4 ? 1 : -2) * ((i % 8) < 4 ? 1 : 3));
    expect(coarseShare(blocks, 0, image)).toBeCloseTo(1, 12);
    const checker = Float32Array.from({ length: 64 }, (_, i) => ((Math.floor(i / 8) + (i % 8)) % 2 === 0 ? 1 : -1));
    expect(coarseShare(checker, 0, image)).toBeCloseTo(0, 12);
    // one pixel: its block mean 1/16 over 16 pixels holds 1/16 of the energy
    const spike = new Float32Array(64);
    spike[9] = 1;
    expect(coarseShare(spike, 0, image)).toBeCloseTo(1 / 16, 12);
  });
  it('effective rank: k for a flat spectrum, 1 for one value, exp(entropy) otherwise', () => {
    expect(effectiveRank([2, 2, 2, 2])).toBeCloseTo(4, 12);
    expect(effectiveRank([3, 0, 0])).toBeCloseTo(1, 12);
    const p = [0.75, 0.25];
    expect(effectiveRank([3, 1])).toBeCloseTo(Math.exp(-p[0]! * Math.log(p[0]!) - p[1]! * Math.log(p[1]!)), 12);
  });
});

describe('the GAN analogy on the Gaussian: closed form', () => {
  const analytic = loadAnalytic('gauss16');
  const gaussian = analytic.gaussian!;

  it('the diffusion generator map of the exact Gaussian denoiser has singular values √(λ/(σ_T² + λ)) along its eigenvectors', async () => {
    const run = resolveRunSettings({ sampler: 'heun', steps: 300, seeds: [4] }, analytic);
    // 3 blocks of 8 span all 16 dimensions: the restricted SVD is the full SVD of the finite-difference flow map.
    const spectrum = await diffusionMapSpectrum(analytic, run, { k: 6, blockSize: 8, blocks: 3, fdStep: 0.05 }, new ProgressMeter({}, 1e6), {});
    const exact = gaussianMapSpectrum(gaussian, spectrum.sigmaStart, 6);
    spectrum.singularValues.forEach((s, j) => {
      // Heun with 300 steps reproduces the linear flow map to ~1.5e-4 relative: 1e-3.
      expect(Math.abs(s / exact.singularValues[j]! - 1)).toBeLessThan(1e-3);
      let dot = 0;
      for (let i = 0; i < 16; i++) dot += spectrum.latentDirections[j * 16 + i]! * exact.directions[j * 16 + i]!;
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-4);
    });
  });

  it('side by side: the Gaussian map is exact, the Gaussian through the sampler agrees with it, the linear GAN gives A\'s spectrum', async () => {
    const generator = await linearGan();
    const result = await ganAnalogyAnalysis(generator, analytic, gaussian, { sampler: 'heun', steps: 200, seeds: [5], k: 6, blocks: 3, compare: 2, amplitude: 1, coarseBlock: 2 });
    expect(result.maps.map((m) => m.name)).toEqual(['gan', 'diffusion', 'gaussian']);
    const [gan, diffusion, exact] = result.maps as [typeof result.maps[0], typeof result.maps[0], typeof result.maps[0]];
    expect(result.settings.ganClass).toBe(0);
    gan.normalized.forEach((v, j) => expect(Math.abs(v - reference.singularValues[j]! / reference.singularValues[0]!)).toBeLessThan(2e-5));
    expect(gan.effectiveRank).toBeCloseTo(effectiveRank(reference.singularValues), 4);
    const sT = result.settings.sigmaStart;
    exact.singularValues.forEach((s, j) => {
      const lambda = gaussian.eigvals[j]!;
      expect(s).toBeCloseTo(Math.sqrt(lambda / (sT * sT + lambda)), 12);
      expect(Math.abs(diffusion.normalized[j]! - exact.normalized[j]!)).toBeLessThan(2e-3);
    });
    // The exact map is linear: a ±a kick along u_j changes x0 by a·σ_T·s_j·u_j, so the coarse share is u_j's own.
    const u = gaussianMapSpectrum(gaussian, sT, 6).directions;
    exact.coarse.directions.forEach((j, r) => {
      expect(exact.coarse.share[r]!).toBeCloseTo(coarseShare(u.subarray(j * 16, (j + 1) * 16), 0, analytic.image, 2), 5);
    });
    const change = result.maps[2]!.change.top;
    const expectedTop = ((sT * (exact.singularValues[0]! + exact.singularValues[1]!)) / 2) / 4; // RMS of a unit vector over 16 pixels is 1/4
    expect(change).toBeCloseTo(expectedTop, 4);
    expect(result.grids.length).toBe(3 * 4 * 3 * 16);
    const picture = ganAnalogyPicture(result, analytic.image);
    expect(picture.height).toBeGreaterThan(0);
  });
});
