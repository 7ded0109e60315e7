/**
 * The local patch denoiser: the optimal denoiser of the training set under
 * locality (LS), and with a bounded equivariance window (ELS).
 *
 * LS: every output pixel i is a posterior mean over the training images y_n,
 * weighted by how well each one's patch around i matches the noisy patch:
 *   D(x, σ)_i = Σ_n w_{n,i} y_{n,i},   w_{n,i} = softmax_n(−‖x_{Ω_i} − y_{n,Ω_i}‖² / 2σ²),
 * Ω_i the P×P patch around i (clipped at the border), all channels. With
 * shifts (ELS, |δ_row|, |δ_col| ≤ s), a patch may come from anywhere in that
 * window of any image: the softmax runs over (n, δ) and pixel i takes
 * y_{n, i+δ}; positions outside an image read `padValue`.
 *
 * The patch size P(σ) comes from a calibration against a trained network
 * (large at high noise, small at low noise). With P covering the whole image
 * (P ≥ 2·max(H, W) − 1) and no shifts every pixel shares one posterior: the
 * delta mixture (mixture.ts).
 *
 * Cost per image: N·(2s+1)²·H·W patch distances, each O(1) from an integral
 * image of the squared differences, whatever P is.
 * @see Kamb & Ganguli 2025, "An analytic theory of creativity in convolutional diffusion models" (ICML), §3
 */
import { PainterError } from '../errors';

export interface PatchSchedule {
  /** Noise levels (σ form), ascending. */
  sigmas: number[];
  /** Odd patch side per noise level. */
  patchSizes: number[];
}

export interface LocalPatchOptions {
  channels: number;
  height: number;
  width: number;
  /** Largest shift |δ| per axis: 0 for LS, s > 0 for ELS. */
  shiftWindow: number;
  patchSchedule: PatchSchedule;
  /** Value of pixels outside an image (ELS); default: the training images' mean border pixel. */
  padValue?: number;
}

/** Weights below e^−40 ≈ 4e-18 of the best match are dropped. */
const NEGLIGIBLE = -40;

/** Training images per block of the blockwise softmax. */
const BLOCK = 64;

const [C3, C4, C5, C6, C7] = [1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040];
const POWERS_OF_TWO = Float64Array.from({ length: 64 }, (_, k) => 2 ** -k);

/**
 * e^g for g ∈ [−64·ln 2, 0] (−44.3 … 0), to 6e-9 relative: 2^k by table
 * times a degree-7 Taylor polynomial of e^(f·ln 2) on f ∈ [−½, ½]. About
 * three times faster than Math.exp, which dominated the softmax.
 */
export function fastExp(g: number): number {
  const t = g * Math.LOG2E;
  const k = Math.round(t);
  const f = (t - k) * Math.LN2;
  const poly = 1 + f * (1 + f * (0.5 + f * (C3 + f * (C4 + f * (C5 + f * (C6 + f * C7))))));
  return k <= -64 ? 0 : poly * POWERS_OF_TWO[-k]!;
}

export class LocalPatchModel {
  readonly count: number;
  readonly dim: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly shiftWindow: number;
  readonly padValue: number;
  readonly patchSchedule: PatchSchedule;
  /** Training image indices per class label (when labels are given). */
  private readonly byLabel = new Map<number, Int32Array>();
  private readonly all: Int32Array;

  constructor(
    readonly images: Float32Array,
    readonly labels: Int32Array | null,
    options: LocalPatchOptions,
  ) {
    const { channels, height, width } = options;
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.dim = channels * height * width;
    this.count = images.length / this.dim;
    if (!Number.isInteger(this.count) || this.count === 0) {
      throw new PainterError('BAD_FILE', `Local patch model images have ${images.length} values, not a positive multiple of D = ${this.dim}.`);
    }
    if (!Number.isInteger(options.shiftWindow) || options.shiftWindow < 0 || options.shiftWindow > 8) {
      throw new PainterError('BAD_MANIFEST', `The shift window must be an integer from 0 (LS) to 8; got ${options.shiftWindow}.`);
    }
    checkPatchSchedule(options.patchSchedule);
    this.shiftWindow = options.shiftWindow;
    this.patchSchedule = options.patchSchedule;
    this.padValue = options.padValue ?? this.meanBorder();
    this.all = Int32Array.from({ length: this.count }, (_, n) => n);
    if (labels !== null) {
      const lists = new Map<number, number[]>();
      labels.forEach((label, n) => {
        if (!lists.has(label)) lists.set(label, []);
        lists.get(label)!.push(n);
      });
      for (const [label, list] of lists) this.byLabel.set(label, Int32Array.from(list));
    }
  }

  /** The calibrated patch side at σ: the entry nearest in log σ. */
  patchSizeAt(sigma: number): number {
    const { sigmas, patchSizes } = this.patchSchedule;
    let best = 0;
    for (let k = 1; k < sigmas.length; k++) {
      if (Math.abs(Math.log(sigmas[k]! / sigma)) < Math.abs(Math.log(sigmas[best]! / sigma))) best = k;
    }
    return patchSizes[best]!;
  }

  /** A patch side that covers the whole image from every pixel. */
  get wholeImage(): number {
    return 2 * Math.max(this.height, this.width) - 1;
  }

  /**
   * D(x, σ) for a batch [B·D] with one σ per image, at the calibrated patch
   * size (or `patchSize` for all of them), restricted to class `labels[b]`
   * when given.
   */
  denoise(x: Float32Array, sigmas: ArrayLike<number>, labels?: ReadonlyArray<number | null>, patchSize?: number): Float32Array {
    const batch = x.length / this.dim;
    const out = new Float32Array(x.length);
    for (let b = 0; b < batch; b++) {
      const sigma = sigmas[b]!;
      const image = x.subarray(b * this.dim, (b + 1) * this.dim);
      out.set(this.denoiseAtSizes(image, sigma, [patchSize ?? this.patchSizeAt(sigma)], labels?.[b] ?? null)[0]!, b * this.dim);
    }
    return out;
  }

  /**
   * D(x, σ) of one image at several patch sizes at once (for calibration):
   * the squared differences and their integral image are shared, so each
   * further size costs only its patch sums and softmax.
   */
  denoiseAtSizes(x: Float32Array, sigma: number, sizes: readonly number[], label: number | null = null): Float32Array[] {
    if (!(sigma > 0)) throw new PainterError('BAD_ARGUMENT', `The local patch model needs σ > 0; got ${sigma}.`);
    for (const size of sizes) if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new PainterError('BAD_ARGUMENT', `Patch sizes must be odd positive integers; got ${size}.`);
    const pool = label !== null && this.labels !== null ? this.byLabel.get(label) : this.all;
    if (pool === undefined) throw new PainterError('BAD_ARGUMENT', `The training set has no image of class ${label}.`);
    return this.denoiseOne(x, sigma, sizes, pool);
  }

  /**
   * The training images with a border of `shiftWindow` pixels of `padValue`
   * around each channel plane, so a shifted patch reads without bounds checks
   * ([N][C][H + 2s][W + 2s]; the images themselves when s = 0).
   */
  private get padded(): Float32Array {
    if (this.paddedImages !== null) return this.paddedImages;
    const { channels, height, width, count, images, shiftWindow: s, padValue } = this;
    if (s === 0) return (this.paddedImages = images);
    const pw = width + 2 * s;
    const ph = height + 2 * s;
    const out = new Float32Array(count * channels * ph * pw).fill(padValue);
    for (let n = 0; n < count; n++) {
      for (let ch = 0; ch < channels; ch++) {
        for (let r = 0; r < height; r++) {
          const from = ((n * channels + ch) * height + r) * width;
          out.set(images.subarray(from, from + width), ((n * channels + ch) * ph + r + s) * pw + s);
        }
      }
    }
    return (this.paddedImages = out);
  }

  private paddedImages: Float32Array | null = null;

  /**
   * One image at each patch size. The softmax over (training image, shift)
   * runs per pixel in blocks of {@link BLOCK} training images: the block's
   * logits first, then one rescale of the running sums per pixel if the block
   * holds a better match, then the block's weights.
   */
  private denoiseOne(x: Float32Array, sigma: number, sizes: readonly number[], pool: Int32Array): Float32Array[] {
    const { channels, height, width } = this;
    const s = this.shiftWindow;
    const images = this.padded;
    const pw = width + 2 * s;
    const planeP = (height + 2 * s) * pw;
    const imageP = channels * planeP;
    const area = height * width;
    const side = 2 * s + 1;
    const shifts = side * side;
    const scale = -0.5 / (sigma * sigma);
    const stride = width + 1;
    const squared = new Float64Array(area);
    const integral = new Float64Array((height + 1) * stride);
    const blockSize = Math.min(BLOCK, pool.length);
    const states = sizes.map((size) => {
      const half = (size - 1) >> 1;
      return {
        // Patch bounds per row (as integral-image row offsets) and column, clipped to the image.
        rowLow: Int32Array.from({ length: height }, (_, r) => Math.max(0, r - half) * stride),
        rowHigh: Int32Array.from({ length: height }, (_, r) => (Math.min(height - 1, r + half) + 1) * stride),
        colLow: Int32Array.from({ length: width }, (_, c) => Math.max(0, c - half)),
        colHigh: Int32Array.from({ length: width }, (_, c) => Math.min(width - 1, c + half) + 1),
        best: new Float64Array(area).fill(-Infinity),
        total: new Float64Array(area),
        weighted: new Float64Array(channels * area),
        logits: new Float64Array(blockSize * shifts * area),
        blockBest: new Float64Array(area),
      };
    });
    // Top-left of the window shifted by shift index k, in a padded image.
    const shiftOrigin = (k: number): number => Math.floor(k / side) * pw + (k % side);

    for (let start = 0; start < pool.length; start += blockSize) {
      const end = Math.min(pool.length, start + blockSize);
      for (const state of states) state.blockBest.fill(-Infinity);
      for (let p = start; p < end; p++) {
        for (let shift = 0; shift < shifts; shift++) {
          const origin = pool[p]! * imageP + shiftOrigin(shift);
          for (let ch = 0; ch < channels; ch++) {
            const from = origin + ch * planeP;
            const plane = ch * area;
            for (let r = 0; r < height; r++) {
              const row = from + r * pw;
              const xRow = plane + r * width;
              const out = r * width;
              if (ch === 0) {
                for (let c = 0; c < width; c++) {
                  const d = x[xRow + c]! - images[row + c]!;
                  squared[out + c] = d * d;
                }
              } else {
                for (let c = 0; c < width; c++) {
                  const d = x[xRow + c]! - images[row + c]!;
                  squared[out + c]! += d * d;
                }
              }
            }
          }
          for (let r = 0; r < height; r++) {
            let run = 0;
            const above = r * stride + 1;
            const here = above + stride;
            for (let c = 0; c < width; c++) {
              run += squared[r * width + c]!;
              integral[here + c] = integral[above + c]! + run;
            }
          }
          const offset = ((p - start) * shifts + shift) * area;
          for (const { rowLow, rowHigh, colLow, colHigh, logits, blockBest } of states) {
            for (let r = 0; r < height; r++) {
              const top = rowLow[r]!;
              const bottom = rowHigh[r]!;
              for (let c = 0; c < width; c++) {
                const left = colLow[c]!;
                const right = colHigh[c]!;
                const i = r * width + c;
                const logit = scale * (integral[bottom + right]! - integral[top + right]! - integral[bottom + left]! + integral[top + left]!);
                logits[offset + i] = logit;
                if (logit > blockBest[i]!) blockBest[i] = logit;
              }
            }
          }
        }
      }
      for (const { best, total, weighted, logits, blockBest } of states) {
        for (let i = 0; i < area; i++) {
          if (blockBest[i]! <= best[i]!) continue;
          const rescale = fastExp(best[i]! - blockBest[i]!);
          total[i]! *= rescale;
          for (let ch = 0; ch < channels; ch++) weighted[ch * area + i]! *= rescale;
          best[i] = blockBest[i]!;
        }
        for (let p = start; p < end; p++) {
          for (let shift = 0; shift < shifts; shift++) {
            const origin = pool[p]! * imageP + shiftOrigin(shift);
            const offset = ((p - start) * shifts + shift) * area;
            for (let r = 0; r < height; r++) {
              const row = origin + r * pw;
              for (let c = 0; c < width; c++) {
                const i = r * width + c;
                const gap = logits[offset + i]! - best[i]!;
                if (gap < NEGLIGIBLE) continue;
                const weight = fastExp(gap);
                total[i]! += weight;
                weighted[i]! += weight * images[row + c]!;
                for (let ch = 1; ch < channels; ch++) weighted[ch * area + i]! += weight * images[row + ch * planeP + c]!;
              }
            }
          }
        }
      }
    }
    return states.map(({ total, weighted }) => {
      const out = new Float32Array(channels * area);
      for (let ch = 0; ch < channels; ch++) {
        for (let i = 0; i < area; i++) out[ch * area + i] = weighted[ch * area + i]! / total[i]!;
      }
      return out;
    });
  }

  /** Mean of the training images' outermost pixels (the background a shifted patch sees beyond the border). */
  private meanBorder(): number {
    const { channels, height, width, images, dim, count } = this;
    let sum = 0;
    let n = 0;
    for (let k = 0; k < count; k++) {
      for (let ch = 0; ch < channels; ch++) {
        for (let r = 0; r < height; r++) {
          for (let c = 0; c < width; c++) {
            if (r !== 0 && r !== height - 1 && c !== 0 && c !== width - 1) continue;
            sum += images[k * dim + ch * height * width + r * width + c]!;
            n++;
          }
        }
      }
    }
    return sum / n;
  }
}

export function checkPatchSchedule(schedule: PatchSchedule): void {
  const { sigmas, patchSizes } = schedule;
  if (sigmas.length === 0 || sigmas.length !== patchSizes.length) {
    throw new PainterError('BAD_FILE', `A patch schedule needs one patch size per σ; got ${sigmas.length} σ and ${patchSizes.length} sizes.`);
  }
  sigmas.forEach((sigma, k) => {
    if (!(sigma > 0) || (k > 0 && !(sigma > sigmas[k - 1]!))) throw new PainterError('BAD_FILE', `Patch schedule σ must be positive and ascending; σ[${k}] = ${sigma}.`);
  });
  patchSizes.forEach((size, k) => {
    if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new PainterError('BAD_FILE', `Patch sizes must be odd positive integers; size[${k}] = ${size}.`);
  });
}
