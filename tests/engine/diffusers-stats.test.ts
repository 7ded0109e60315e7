/**
 * Latent statistics of diffusers pipelines (engine/diffusers/stats.ts): the
 * Gaussian estimate against its definition, the image preparation, the VAE
 * encoding of the fixture against PyTorch, and the file the ghost finds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGaussian } from '../../electron/engine/analysis/resources';
import type { DiffusersPipeline } from '../../electron/engine/diffusers/pipeline';
import {
  coverAndCrop,
  gaussianStatistics,
  imageFiles,
  latentStatsPath,
  latentsOfImages,
  latentsOfSamples,
  savedLatentStats,
  writeLatentStats,
} from '../../electron/engine/diffusers/stats';
import { ModelRegistry, type RegisteredModel } from '../../electron/engine/models';
import { encodePng } from '../../electron/engine/png';
import { seededNormal } from '../../electron/engine/rng';
import { sample } from '../../electron/engine/samplers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'diffusers');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  scalingFactor: number;
  vaeEncode: { latentSample: { shape: number[]; data: number[] } };
};

function randomData(count: number, dim: number, seed: number): Float64Array {
  // Anisotropic: coordinate d scaled by 1/(1 + d), plus a shared offset.
  const data = new Float64Array(count * dim);
  for (let n = 0; n < count; n++) {
    const z = seededNormal(seed + n, 0, dim);
    for (let d = 0; d < dim; d++) data[n * dim + d] = 0.5 + z[d]! / (1 + d) + (d % 3 === 0 ? 0.4 * z[0]! : 0);
  }
  return data;
}

/** S = XᵀX/(N − 1) of the centred data, written out here independently. */
function covariance(data: Float64Array, count: number, dim: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(dim);
  for (let n = 0; n < count; n++) for (let d = 0; d < dim; d++) mean[d]! += data[n * dim + d]! / count;
  const cov = new Float64Array(dim * dim);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i * dim + j]! += ((data[n * dim + i]! - mean[i]!) * (data[n * dim + j]! - mean[j]!)) / (count - 1);
  }
  return { mean, cov };
}

describe('gaussianStatistics', () => {
  // Both routes (D×D covariance when D ≤ N, N×N Gram matrix when N < D): every kept u_k satisfies
  // S u_k = λ_k u_k, the u_k are orthonormal, λ descends, and the residual is (tr S − Σλ)/(D − K).
  for (const [count, dim, rank] of [
    [40, 12, 5],
    [9, 30, 20],
  ] as const) {
    it(`N = ${count}, D = ${dim}, K = ${rank}`, () => {
      const data = randomData(count, dim, 3);
      const stats = gaussianStatistics(data, count, dim, rank);
      const { mean, cov } = covariance(data, count, dim);
      for (let d = 0; d < dim; d++) expect(Math.abs(stats.mean[d]! - mean[d]!)).toBeLessThan(1e-6);
      // D ≤ N: up to D directions; N < D: at most (N − 1)/2, the rest of the sample variance being the residual
      const kept = Math.min(rank, count > dim ? dim : Math.floor((count - 1) / 2));
      expect(stats.eigvals.length).toBe(kept);
      let trace = 0;
      for (let d = 0; d < dim; d++) trace += cov[d * dim + d]!;
      expect(Math.abs(stats.totalVariance - trace) / trace).toBeLessThan(1e-12);
      for (let k = 0; k < kept; k++) {
        if (k > 0) expect(stats.eigvals[k]!).toBeLessThanOrEqual(stats.eigvals[k - 1]!);
        const u = Array.from({ length: dim }, (_, d) => stats.eigvecs[d * kept + k]!);
        // float32 eigenvectors: residual of S u − λ u relative to λ₁
        for (let i = 0; i < dim; i++) {
          let su = 0;
          for (let j = 0; j < dim; j++) su += cov[i * dim + j]! * u[j]!;
          expect(Math.abs(su - stats.eigvals[k]! * u[i]!)).toBeLessThan(1e-5 * stats.eigvals[0]!);
        }
        for (let l = 0; l <= k; l++) {
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += u[d]! * stats.eigvecs[d * kept + l]!;
          expect(Math.abs(dot - (l === k ? 1 : 0))).toBeLessThan(1e-5);
        }
      }
      const captured = stats.eigvals.reduce((s, v) => s + v, 0);
      expect(Math.abs(stats.residualVariance - (trace - captured) / (dim - kept))).toBeLessThan(1e-12 * trace);
    });
  }

  it('refuses fewer than 2 samples', () => {
    expect(() => gaussianStatistics(new Float32Array(4), 1, 4, 2)).toThrow(/at least 2 samples/);
  });
});

describe('coverAndCrop', () => {
  it('averages whole blocks when it shrinks by an integer factor', () => {
    // 4×4 RGB, value = 16·y + 4·x + channel
    const pixels = new Uint8Array(4 * 4 * 3).map((_, i) => 16 * Math.floor(i / 12) + 4 * (Math.floor(i / 3) % 4) + (i % 3));
    const out = coverAndCrop({ width: 4, height: 4, channels: 3, pixels }, 2, 2, 3);
    // block (0,0) holds x, y ∈ {0, 1}: mean 16·0.5 + 4·0.5 = 10 (+ channel)
    const want = (by: number, bx: number, c: number): number => ((16 * (2 * by + 0.5) + 4 * (2 * bx + 0.5) + c) / 255) * 2 - 1;
    for (let c = 0; c < 3; c++) for (let by = 0; by < 2; by++) for (let bx = 0; bx < 2; bx++) expect(out[c * 4 + by * 2 + bx]).toBeCloseTo(want(by, bx, c), 6);
  });

  it('covers and centre-crops a wide image (no stretching)', () => {
    // 6×2 grey: columns 0..5 valued 0, 50, 100, 150, 200, 250; a 2×2 target keeps the middle 2×2 region
    const pixels = new Uint8Array(12).map((_, i) => 50 * (i % 6));
    const out = coverAndCrop({ width: 6, height: 2, channels: 1, pixels }, 2, 2, 1);
    expect(Array.from(out, (v) => Math.round(((v + 1) / 2) * 255))).toEqual([100, 150, 100, 150]);
  });
});

describe('statistics of the fixture pipeline', () => {
  const home = mkdtempSync(join(tmpdir(), 'painter-stats-'));
  const images = join(home, 'images');
  let registry: ModelRegistry;
  let model: RegisteredModel;
  let pipeline: DiffusersPipeline;

  beforeAll(async () => {
    registry = new ModelRegistry({ bundledFolder: join(home, 'none'), userFolders: [], provider: 'cpu', dataDir: join(home, 'data') });
    model = await registry.addFolder(join(FIXTURES, 'tiny-sd'));
    pipeline = await registry.loadPipeline(model.manifest.id);
    // The fixture's smooth test image (expected.json vaeEncode.note) and three more, as 8-bit PNGs.
    mkdirSync(images);
    for (let k = 0; k < 4; k++) {
      const size = k === 0 ? 64 : 96 + 16 * k;
      const data = new Uint8Array(size * size * 3);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const u = -1 + (2 * x) / (size - 1);
          const v = -1 + (2 * y) / (size - 1);
          const rgb = k === 0 ? [0.9 * u, 0.9 * v, 0.9 * u * v] : [Math.sin(k * u), Math.cos(k * v), u * v * k * 0.3];
          rgb.forEach((value, c) => (data[(y * size + x) * 3 + c] = Math.round(((value + 1) / 2) * 255)));
        }
      }
      writeFileSync(join(images, `image-${k}.png`), encodePng({ width: size, height: size, channels: 3, pixels: data }));
    }
    writeFileSync(join(images, 'notes.txt'), 'not an image');
  });
  afterAll(async () => {
    await registry.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('encodes images with vae_encoder × scaling factor (the smooth image against PyTorch)', async () => {
    const files = imageFiles(images);
    expect(files.map((f) => f.slice(images.length + 1))).toEqual(['image-0.png', 'image-1.png', 'image-2.png', 'image-3.png']);
    const latents = await latentsOfImages(pipeline, files);
    expect(latents.length).toBe(4 * 256);
    // The PNG holds the image to 8 bits (±1/255 in [−1, 1]); the tiny encoder passes that on at most ~2×.
    const want = expected.vaeEncode.latentSample.data.map((v) => v * expected.scalingFactor);
    let worst = 0;
    for (let i = 0; i < 256; i++) worst = Math.max(worst, Math.abs(latents[i]! - want[i]!));
    expect(worst).toBeLessThan(4e-3);
  });

  it('writes statistics the registry and the Gaussian ghost find, and ignores them for another registration', async () => {
    const latents = await latentsOfImages(pipeline, imageFiles(images));
    const stats = gaussianStatistics(latents, 4, 256, 64);
    expect(stats.eigvals.length).toBe(1); // 4 images: (N − 1)/2 directions
    expect(stats.residualVariance).toBeGreaterThan(0);
    const path = latentStatsPath(registry.dataDir!, model.manifest.id);
    expect(path.startsWith(join(home, 'data'))).toBe(true);
    writeLatentStats(path, stats, { folder: model.folder, registration: model.manifestHash, source: `images: ${images}`, image: pipeline.gridImage() });
    expect(registry.statsPath(model.manifest.id)).toBe(path);
    const found = await findGaussian(registry, model, await registry.load(model.manifest.id));
    expect(found.source).toBe(path);
    expect(found.gaussian.dim).toBe(256);
    expect(savedLatentStats(registry.dataDir!, model.manifest.id, model.folder, 'another-hash')).toBeNull();
    expect(savedLatentStats(registry.dataDir!, model.manifest.id, '/elsewhere', model.manifestHash)).toBeNull();
  });

  it('takes the final latents of generated samples (the last state of each run)', async () => {
    const options = { count: 3, steps: 3, sampler: 'euler' as const, seed: 5, prompt: 'a watercolor fox', negativePrompt: '', guidance: 7.5, batch: 2 };
    const latents = await latentsOfSamples(pipeline, options);
    expect(latents.length).toBe(3 * 256);
    // the third sample (second batch) against a run of its own
    const denoiser = pipeline.denoiser();
    const text = await pipeline.textCondition(options.prompt, options.negativePrompt);
    const sigmas = pipeline.schedule.samplingSigmas(3, 'euler');
    const run = await sample({ denoiser, sampler: 'euler', sigmas, seeds: [7], condition: { labels: [null], guidance: 7.5, text } });
    const last = run.states.subarray(3 * 256, 4 * 256);
    for (let i = 0; i < 256; i++) expect(latents[2 * 256 + i]).toBe(last[i]);
  });

  it('refuses a FIFO named like a PNG in one line, without blocking', async () => {
    const hostile = join(home, 'hostile-images');
    mkdirSync(hostile);
    writeFileSync(join(hostile, 'a.png'), readFileSync(imageFiles(images)[0]!));
    execFileSync('mkfifo', [join(hostile, 'b.png')]);
    const started = performance.now();
    await expect(latentsOfImages(pipeline, imageFiles(hostile))).rejects.toThrow(/b\.png"? is a pipe \(FIFO\); Painter reads only regular files/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses a folder with fewer than 2 PNGs, and says why other images are skipped', () => {
    const sparse = join(home, 'sparse');
    mkdirSync(sparse);
    writeFileSync(join(sparse, 'a.jpg'), 'x');
    expect(() => imageFiles(sparse)).toThrow(/holds 0 PNG images; statistics need at least 2 \(1 other images there are not read: convert them to PNG\)/);
  });
});
