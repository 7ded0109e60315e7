/**
 * Mixture data models (DESIGN.md §2): a Gaussian mixture with posterior
 * weights over components, and the delta mixture over training images whose
 * denoiser is the exact score of the training set.
 */
import { PainterError } from '../errors';
import { assertLength } from '../tensor';
import type { GaussianModel } from './gaussian';

function softmaxInPlace(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    logits[i] = Math.exp(logits[i]! - max);
    sum += logits[i]!;
  }
  for (let i = 0; i < logits.length; i++) logits[i]! /= sum;
  return logits;
}

/**
 * D(x, σ) = Σ_c w_c(x, σ) D_c(x, σ), w = softmax(log π_c + log N(x; μ_c, Σ_c + σ²I)).
 */
export class GaussianMixtureModel {
  readonly dim: number;
  constructor(
    readonly components: readonly GaussianModel[],
    readonly weights: Float64Array,
  ) {
    if (components.length === 0) throw new PainterError('BAD_FILE', 'A Gaussian mixture needs at least one component.');
    assertLength(weights, components.length, 'mixture weights');
    this.dim = components[0]!.dim;
  }

  /** Posterior weights over components for one image, restricted to `allowed` (all when null). */
  posterior(x: Float32Array, offset: number, sigma: number, allowed: number | null): Float64Array {
    const logits = new Float64Array(this.components.length);
    this.components.forEach((component, c) => {
      logits[c] = allowed !== null && allowed !== c ? -Infinity : Math.log(this.weights[c]!) + component.logDensity(x, offset, sigma);
    });
    return softmaxInPlace(logits);
  }

  denoise(x: Float32Array, sigmas: ArrayLike<number>, labels: ReadonlyArray<number | null>): Float32Array {
    const { dim } = this;
    const batch = x.length / dim;
    const out = new Float32Array(x.length);
    for (let b = 0; b < batch; b++) {
      const image = x.subarray(b * dim, (b + 1) * dim);
      const weights = this.posterior(x, b * dim, sigmas[b]!, labels[b] ?? null);
      weights.forEach((w, c) => {
        if (w < 1e-12) return;
        const dc = this.components[c]!.denoise(image, [sigmas[b]!]);
        for (let i = 0; i < dim; i++) out[b * dim + i]! += w * dc[i]!;
      });
    }
    return out;
  }
}

/**
 * The delta mixture over images y_i: w_i = softmax(−‖x − y_i‖²/2σ²),
 * D(x, σ) = Σ_i w_i y_i — the exact denoiser of the empirical distribution.
 */
export class DeltaMixtureModel {
  readonly count: number;
  constructor(
    readonly images: Float32Array,
    readonly dim: number,
    readonly labels: Int32Array | null,
  ) {
    this.count = images.length / dim;
    if (!Number.isInteger(this.count) || this.count === 0) {
      throw new PainterError('BAD_FILE', `Delta mixture images have ${images.length} values, not a positive multiple of D = ${dim}.`);
    }
  }

  /** Posterior weights over training images for one noisy image. */
  weights(x: Float32Array, offset: number, sigma: number, label: number | null): Float64Array {
    const { dim, images, count, labels } = this;
    const logits = new Float64Array(count);
    const scale = -0.5 / (sigma * sigma);
    for (let n = 0; n < count; n++) {
      if (label !== null && labels !== null && labels[n] !== label) {
        logits[n] = -Infinity;
        continue;
      }
      let distance = 0;
      const base = n * dim;
      for (let i = 0; i < dim; i++) {
        const d = x[offset + i]! - images[base + i]!;
        distance += d * d;
      }
      logits[n] = distance * scale;
    }
    return softmaxInPlace(logits);
  }

  denoise(x: Float32Array, sigmas: ArrayLike<number>, labels: ReadonlyArray<number | null>): Float32Array {
    const { dim, images } = this;
    const batch = x.length / dim;
    const out = new Float32Array(x.length);
    for (let b = 0; b < batch; b++) {
      const w = this.weights(x, b * dim, sigmas[b]!, labels[b] ?? null);
      const acc = new Float64Array(dim);
      for (let n = 0; n < w.length; n++) {
        const weight = w[n]!;
        if (weight < 1e-12) continue;
        const base = n * dim;
        for (let i = 0; i < dim; i++) acc[i]! += weight * images[base + i]!;
      }
      out.set(acc, b * dim);
    }
    return out;
  }
}
