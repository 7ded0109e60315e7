/**
 * Gaussian statistics of a diffusers pipeline's latents (issue 10), for the
 * Gaussian ghost and the theory lab: the mean, the top-K eigenvectors and
 * eigenvalues of the covariance and the residual variance of the rest, in
 * the layout of a manifest's `stats` file (manifest.ts: `mean` [D],
 * `eigvecs` [D, K] (columns), `eigvals` [K], `residual_variance` [1]).
 *
 * The latents come from the user's images (resized to cover the model's
 * size, centre-cropped, encoded by vae_encoder and multiplied by the scaling
 * factor) or from the final latents of N generated samples. The file is
 * kept in Painter's data folder beside the model's registration
 * (`<data>/diffusers/<id>/stats.safetensors`), never in the model's folder,
 * with the folder and the registration hash it was computed for, so a
 * changed or different folder under the same id does not pick it up.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { SamplerName } from '../../api/contract';
import { PainterError, quoteText, throwIfCancelled } from '../errors';
import { symmetricEigen } from '../linalg';
import { readRegularFile } from '../files';
import { decodePng, type DecodedPng } from '../png';
import { readSafetensorsMetadata, serializeSafetensors, writeFileAtomic } from '../safetensors';
import { sample } from '../samplers';
import type { DiffusersPipeline } from './pipeline';

/** The statistics file's name in a model's data folder. */
export const LATENT_STATS_FILE = 'stats.safetensors';
/** The eigen-decomposition runs on a min(N, D)-square matrix (Jacobi, O(n³)); this bounds n. */
export const MAX_STATS_SAMPLES = 1000;

export interface GaussianStatistics {
  count: number;
  dim: number;
  mean: Float32Array;
  /** [D, K] row-major: column k is the k-th eigenvector, eigenvalues descending. */
  eigvecs: Float32Array;
  eigvals: Float64Array;
  /** Mean variance per dimension outside span(eigvecs): (trace − Σλ_k)/(D − K). */
  residualVariance: number;
  /** trace of the sample covariance. */
  totalVariance: number;
}

/**
 * Mean and the top `rank` principal directions of N samples ([N·D] row-major)
 * with the unbiased sample covariance S = XᵀX/(N − 1), X centred (when
 * N ≤ D, at most (N − 1)/2 directions, see below). When
 * N < D the eigenvectors come from the N×N Gram matrix G = XXᵀ/(N − 1):
 * G v = λ v gives S (Xᵀv) = λ (Xᵀv), u = Xᵀv/√((N − 1)λ).
 * @see Bishop, "Pattern Recognition and Machine Learning", §12.1.4 (PCA for high-dimensional data)
 */
export function gaussianStatistics(samples: ArrayLike<number>, count: number, dim: number, rank: number): GaussianStatistics {
  if (!(Number.isInteger(count) && count >= 2)) throw new PainterError('BAD_ARGUMENT', `Gaussian statistics need at least 2 samples; got ${count}.`, { count });
  if (samples.length !== count * dim) throw new PainterError('INTERNAL', `gaussianStatistics: ${count}×${dim} samples need ${count * dim} values; got ${samples.length}.`);
  const mean = new Float64Array(dim);
  for (let n = 0; n < count; n++) for (let d = 0; d < dim; d++) mean[d]! += samples[n * dim + d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= count;
  const centred = new Float64Array(count * dim);
  for (let n = 0; n < count; n++) for (let d = 0; d < dim; d++) centred[n * dim + d] = samples[n * dim + d]! - mean[d]!;
  const scale = 1 / (count - 1);
  let totalVariance = 0;
  for (let i = 0; i < centred.length; i++) totalVariance += centred[i]! * centred[i]!;
  totalVariance *= scale;

  let values: Float64Array;
  let directions: (k: number) => Float64Array;
  if (dim <= count) {
    const covariance = new Float64Array(dim * dim);
    for (let n = 0; n < count; n++) {
      const row = centred.subarray(n * dim, (n + 1) * dim);
      for (let i = 0; i < dim; i++) {
        const xi = row[i]! * scale;
        for (let j = i; j < dim; j++) covariance[i * dim + j]! += xi * row[j]!;
      }
    }
    for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) covariance[i * dim + j] = covariance[j * dim + i]!;
    const eigen = symmetricEigen(covariance, dim);
    values = eigen.values;
    directions = (k) => Float64Array.from({ length: dim }, (_, i) => eigen.vectors[i * dim + k]!);
  } else {
    const gram = new Float64Array(count * count);
    for (let a = 0; a < count; a++) {
      for (let b = a; b < count; b++) {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += centred[a * dim + d]! * centred[b * dim + d]!;
        gram[a * count + b] = gram[b * count + a] = dot * scale;
      }
    }
    const eigen = symmetricEigen(gram, count);
    values = eigen.values;
    directions = (k) => {
      const u = new Float64Array(dim);
      for (let n = 0; n < count; n++) {
        const weight = eigen.vectors[n * count + k]!;
        for (let d = 0; d < dim; d++) u[d]! += weight * centred[n * dim + d]!;
      }
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += u[d]! * u[d]!;
      norm = Math.sqrt(norm);
      for (let d = 0; d < dim; d++) u[d]! /= norm;
      return u;
    };
  }
  // With fewer samples than dimensions the N − 1 sample directions hold the whole trace, so
  // keeping them all would leave a residual variance of 0 (a Gaussian flat outside their span).
  // At most (N − 1)/2 are kept: the rest of the sample variance estimates the residual.
  const limit = Math.min(rank, values.length, count > dim ? dim : Math.max(1, Math.floor((count - 1) / 2)));
  // Directions with no variance carry no information: stop at the numerical zero.
  const floor = 1e-12 * Math.max(values[0]!, 1e-300);
  let kept = 0;
  while (kept < limit && values[kept]! > floor) kept++;
  const eigvecs = new Float32Array(dim * kept);
  for (let k = 0; k < kept; k++) {
    const u = directions(k);
    for (let d = 0; d < dim; d++) eigvecs[d * kept + k] = u[d]!;
  }
  const eigvals = values.slice(0, kept);
  const captured = eigvals.reduce((sum, v) => sum + v, 0);
  const residualVariance = dim > kept ? Math.max(0, totalVariance - captured) / (dim - kept) : 0;
  return { count, dim, mean: Float32Array.from(mean), eigvecs, eigvals, residualVariance, totalVariance };
}

/** Where a model's latent statistics live in Painter's data folder. */
export function latentStatsPath(dataDir: string, modelId: string): string {
  return join(dataDir, 'diffusers', modelId, LATENT_STATS_FILE);
}

/**
 * The saved statistics of a registered diffusers folder, or null when there
 * are none or they were computed for another folder or other files
 * (`registration`: the registry's hash of the folder's files).
 */
export function savedLatentStats(dataDir: string, modelId: string, folder: string, registration: string): string | null {
  const path = latentStatsPath(dataDir, modelId);
  if (!existsSync(path)) return null;
  let metadata: Record<string, string> | null;
  try {
    metadata = readSafetensorsMetadata(path);
  } catch {
    return null;
  }
  return metadata !== null && metadata['folder'] === folder && metadata['registration'] === registration ? path : null;
}

export interface StatsProvenance {
  /** The model folder and its registration hash (checked when the file is read back). */
  folder: string;
  registration: string;
  /** What the latents are: "images: DIR" or "samples: …". */
  source: string;
  /** Latent grid (or pixel) size the statistics are for. */
  image: { channels: number; height: number; width: number };
}

/** Writes the statistics (F32 tensors) atomically, creating the model's data folder. */
export function writeLatentStats(path: string, stats: GaussianStatistics, provenance: StatsProvenance): void {
  const rank = stats.eigvals.length;
  const bytes = serializeSafetensors(
    {
      mean: { dtype: 'F32', shape: [stats.dim], data: stats.mean },
      eigvecs: { dtype: 'F32', shape: [stats.dim, rank], data: stats.eigvecs },
      eigvals: { dtype: 'F32', shape: [rank], data: Float32Array.from(stats.eigvals) },
      residual_variance: { dtype: 'F32', shape: [1], data: Float32Array.of(stats.residualVariance) },
    },
    {
      generator: 'painter stats',
      folder: provenance.folder,
      registration: provenance.registration,
      source: provenance.source,
      count: String(stats.count),
      image: `${provenance.image.channels}x${provenance.image.height}x${provenance.image.width}`,
    },
  );
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, bytes);
}

/**
 * An image resized to cover `width`×`height` (area averaging, so a large
 * photo is not aliased) and centre-cropped, as [channels·H·W] in [−1, 1]
 * (channels 3: RGB; 1: the mean of R, G, B; alpha is ignored).
 */
export function coverAndCrop(png: DecodedPng, width: number, height: number, channels: 1 | 3): Float32Array {
  const scale = Math.max(width / png.width, height / png.height);
  // The crop window in source pixels.
  const cropWidth = width / scale;
  const cropHeight = height / scale;
  const left = (png.width - cropWidth) / 2;
  const top = (png.height - cropHeight) / 2;
  const rgb = (x: number, y: number, c: number): number => {
    const base = (y * png.width + x) * png.channels;
    return png.channels >= 3 ? png.pixels[base + c]! : png.pixels[base]!;
  };
  const out = new Float32Array(channels * width * height);
  const sum = new Float64Array(3);
  for (let oy = 0; oy < height; oy++) {
    const y0 = top + oy / scale;
    const y1 = top + (oy + 1) / scale;
    for (let ox = 0; ox < width; ox++) {
      const x0 = left + ox / scale;
      const x1 = left + (ox + 1) / scale;
      sum.fill(0);
      let area = 0;
      for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), png.height); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), png.width); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          if (w <= 0) continue;
          area += w;
          for (let c = 0; c < 3; c++) sum[c]! += w * rgb(x, y, c);
        }
      }
      const pixel = oy * width + ox;
      if (channels === 3) for (let c = 0; c < 3; c++) out[c * width * height + pixel] = (sum[c]! / area / 255) * 2 - 1;
      else out[pixel] = ((sum[0]! + sum[1]! + sum[2]!) / 3 / area / 255) * 2 - 1;
    }
  }
  return out;
}

/** The PNG files of a folder (sorted by name, not recursive). */
export function imageFiles(folder: string): string[] {
  let entries: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new PainterError('BAD_ARGUMENT', `--images: ${quoteText(folder)} is not a folder.`, { path: folder });
    entries = readdirSync(folder).sort();
  } catch (error) {
    if (error instanceof PainterError) throw error;
    throw new PainterError('BAD_FILE', `--images: cannot read the folder ${quoteText(folder)}.`, { path: folder });
  }
  const pngs = entries.filter((name) => extname(name).toLowerCase() === '.png').map((name) => join(folder, name));
  if (pngs.length < 2) {
    const others = entries.filter((name) => /\.(jpe?g|webp|gif|bmp|tiff?)$/i.test(name)).length;
    throw new PainterError(
      'BAD_ARGUMENT',
      `--images: ${quoteText(folder)} holds ${pngs.length} PNG image${pngs.length === 1 ? '' : 's'}; statistics need at least 2${others > 0 ? ` (${others} other images there are not read: convert them to PNG)` : ''}.`,
      { path: folder },
    );
  }
  return pngs;
}

export interface Progress {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The latents of image files at the pipeline's default size ([N·D]): each
 * image covered and cropped to the decoded size, then vae_encoder × scaling
 * factor; for a pixel pipeline the pixels themselves.
 */
export async function latentsOfImages(pipeline: DiffusersPipeline, files: readonly string[], progress: Progress = {}): Promise<Float32Array> {
  const grid = pipeline.gridImage();
  const dim = grid.channels * grid.height * grid.width;
  const out = new Float32Array(files.length * dim);
  const vae = pipeline.vae;
  const decoded = vae !== null ? vae.imageOf(grid) : grid;
  if (vae === null && grid.channels !== 1 && grid.channels !== 3) {
    throw new PainterError('BAD_ARGUMENT', `Model "${pipeline.folder.id}" works on ${grid.channels}-channel pixels; only 1- or 3-channel images can be read.`);
  }
  for (let n = 0; n < files.length; n++) {
    throwIfCancelled(progress.signal);
    const file = files[n]!;
    let png: DecodedPng;
    try {
      // A regular file only, size-capped before it is read (a FIFO named *.png must not block).
      png = decodePng(readRegularFile(file, 'image'), quoteText(file));
    } catch (error) {
      if (error instanceof PainterError) throw error;
      throw new PainterError('BAD_FILE', `Cannot read the image ${quoteText(file)}.`, { path: file });
    }
    const pixels = coverAndCrop(png, decoded.width, decoded.height, vae !== null ? 3 : (grid.channels as 1 | 3));
    out.set(vae !== null ? await vae.encode(pixels, decoded, grid.channels) : pixels, n * dim);
    progress.onProgress?.(n + 1, files.length);
  }
  return out;
}

export interface SampleLatentsOptions extends Progress {
  count: number;
  steps: number;
  sampler: SamplerName;
  /** Seeds seed, seed + 1, …, seed + count − 1. */
  seed: number;
  prompt: string;
  negativePrompt: string;
  guidance: number;
  /** Trajectories per batch. */
  batch?: number;
}

/** The final latents ([N·D]) of `count` runs of the pipeline at its default size. */
export async function latentsOfSamples(pipeline: DiffusersPipeline, options: SampleLatentsOptions): Promise<Float32Array> {
  const denoiser = pipeline.denoiser();
  const dim = denoiser.dim;
  const text = pipeline.folder.conditioning === 'text' ? await pipeline.textCondition(options.prompt, options.negativePrompt) : undefined;
  const sigmas = pipeline.schedule.samplingSigmas(options.steps, options.sampler);
  const out = new Float32Array(options.count * dim);
  const batch = options.batch ?? 4;
  for (let start = 0; start < options.count; start += batch) {
    const seeds = Array.from({ length: Math.min(batch, options.count - start) }, (_, b) => options.seed + start + b);
    const condition = { labels: seeds.map(() => null), guidance: text !== undefined ? options.guidance : 1, ...(text !== undefined ? { text } : {}) };
    const run = await sample({ denoiser, sampler: options.sampler, sigmas, seeds, condition, ...(options.signal ? { signal: options.signal } : {}) });
    // The last recorded state is σ = 0: the final latent itself.
    const last = (run.sigmas.length - 1) * seeds.length * dim;
    out.set(run.states.subarray(last, last + seeds.length * dim), start * dim);
    options.onProgress?.(start + seeds.length, options.count);
  }
  return out;
}
