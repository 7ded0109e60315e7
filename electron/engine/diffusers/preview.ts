/**
 * The linear latent → RGB preview of a latent pipeline: rgb = W·z + b per
 * latent cell, fitted once per model by least squares on a few decoded
 * samples (each latent cell against the mean colour of the pixels it decodes
 * to), so scrubbing shows an image at once while the VAE decodes in the
 * engine. Its pseudo-inverse turns a colour push painted on the image into a
 * push on the latent channels (brushes on latent runs).
 */
import { applyPreviewMap, type LinearPreviewMap } from '../../api/preview-map';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PainterError } from '../errors';
import { readJsonFile } from '../files';
import type { ImageSpec } from '../manifest';
import { seededNormal } from '../rng';
import { writeFileAtomic } from '../safetensors';
import type { Vae } from './vae';

export interface PreviewMap extends LinearPreviewMap {
  /** Mean squared error of the fit, per colour value (how far the preview is from the decode). */
  residual: number;
  /** Identifies the model the map was fitted on (the registration's hash). */
  modelHash: string;
}

/** RNG stream of the fitting latents; apart from the samplers' (0 and 1 + step). */
const FIT_STREAM = 0x50000000;

/** Solves the symmetric positive (semi)definite system A x = b (n×n, row-major) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = row;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    const diagonal = m[col * n + col]!;
    if (Math.abs(diagonal) < 1e-12) continue;
    for (let row = col + 1; row < n; row++) {
      const factor = m[row * n + col]! / diagonal;
      if (factor === 0) continue;
      for (let k = col; k < n; k++) m[row * n + k]! -= factor * m[col * n + k]!;
      x[row]! -= factor * x[col]!;
    }
  }
  for (let col = n - 1; col >= 0; col--) {
    let sum = x[col]!;
    for (let k = col + 1; k < n; k++) sum -= m[col * n + k]! * x[k]!;
    const diagonal = m[col * n + col]!;
    x[col] = Math.abs(diagonal) < 1e-12 ? 0 : sum / diagonal;
  }
  return x;
}

/**
 * Least-squares fit of rgb = W·z + b from latents [count·C·h·w] and their
 * decodes [count·3·(h·s)·(w·s)] (each cell against its s×s block's mean).
 */
export function fitPreviewMap(latents: Float32Array, decoded: Float32Array, latent: ImageSpec, scale: number, modelHash: string): PreviewMap {
  const { channels: c, height: h, width: w } = latent;
  const cells = h * w;
  const count = latents.length / (c * cells);
  const n = c + 1;
  const gram = new Float64Array(n * n);
  const targets = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const feature = new Float64Array(n);
  const H = h * scale;
  const W = w * scale;
  const colours = new Float64Array(3 * count * cells);
  for (let b = 0; b < count; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) feature[k] = latents[((b * c + k) * h + y) * w + x]!;
        feature[c] = 1;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gram[i * n + j]! += feature[i]! * feature[j]!;
        for (let ch = 0; ch < 3; ch++) {
          let sum = 0;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) sum += decoded[((b * 3 + ch) * H + y * scale + dy) * W + x * scale + dx]!;
          const mean = sum / (scale * scale);
          colours[(b * cells + y * w + x) * 3 + ch] = mean;
          for (let i = 0; i < n; i++) targets[ch]![i]! += feature[i]! * mean;
        }
      }
    }
  }
  // A small ridge keeps the fit defined for a latent channel that never varies.
  for (let i = 0; i < c; i++) gram[i * n + i]! += 1e-6 * count * cells;
  const solutions = targets.map((target) => solve(gram, target, n));
  let squared = 0;
  for (let b = 0; b < count; b++) {
    for (let cell = 0; cell < cells; cell++) {
      for (let ch = 0; ch < 3; ch++) {
        let value = solutions[ch]![c]!;
        for (let k = 0; k < c; k++) value += solutions[ch]![k]! * latents[(b * c + k) * cells + cell]!;
        squared += (value - colours[(b * cells + cell) * 3 + ch]!) ** 2;
      }
    }
  }
  return {
    weights: solutions.map((s) => Array.from(s.subarray(0, c))),
    bias: solutions.map((s) => s[c]!),
    residual: squared / (3 * count * cells),
    modelHash,
  };
}

/**
 * Fits a pipeline's preview map on `samples` decodes of seeded standard
 * normal latents (the distribution the scaled latents have) on a grid of
 * `grid` cells a side.
 */
export async function fitPreviewFromVae(vae: Vae, channels: number, grid: number, samples: number, modelHash: string): Promise<PreviewMap> {
  const latent: ImageSpec = { channels, height: grid, width: grid, range: [-1, 1] };
  const dim = channels * grid * grid;
  const latents = new Float32Array(samples * dim);
  for (let b = 0; b < samples; b++) latents.set(seededNormal(b, FIT_STREAM, dim), b * dim);
  const decoded = await vae.decode(latents, latent);
  return fitPreviewMap(latents, decoded, latent, vae.scale, modelHash);
}

/** The RGB preview [count·3·h·w] of latents [count·C·h·w]. */
export function applyPreview(map: PreviewMap, latents: Float32Array, latent: ImageSpec): Float32Array {
  return applyPreviewMap(map, latents, latent);
}

/**
 * The latent push (C values) whose preview is the colour push `rgb` with the
 * least latent norm: Wᵀ(WWᵀ)⁻¹·rgb, the pseudo-inverse of the 3×C map.
 */
export function latentColourPush(map: PreviewMap, rgb: readonly number[]): number[] {
  const colour = rgb.length === 1 ? [rgb[0]!, rgb[0]!, rgb[0]!] : rgb;
  if (colour.length !== 3) throw new PainterError('BAD_ARGUMENT', `A colour push on a latent run has 1 (brightness) or 3 (RGB) values; got ${rgb.length}.`);
  const W = map.weights;
  const c = W[0]!.length;
  const gram = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < c; k++) gram[i * 3 + j]! += W[i]![k]! * W[j]![k]!;
  const y = solve(gram, Float64Array.from(colour), 3);
  return Array.from({ length: c }, (_, k) => W[0]![k]! * y[0]! + W[1]![k]! * y[1]! + W[2]![k]! * y[2]!);
}

export function readPreviewMap(path: string, modelHash: string): PreviewMap | null {
  if (!existsSync(path)) return null;
  try {
    const value = readJsonFile(path, 'settings') as PreviewMap;
    if (value.modelHash !== modelHash || !Array.isArray(value.weights) || value.weights.length !== 3 || !Array.isArray(value.bias)) return null;
    return value;
  } catch {
    return null;
  }
}

export function writePreviewMap(path: string, map: PreviewMap): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, Buffer.from(JSON.stringify(map, null, 2)));
}
