/**
 * Perturbation brushes and branching (DESIGN.md §1.3): a brush stroke at one
 * step becomes a kick δ, the run is re-run from that step with δ added, and
 * the result is a new run that remembers its parent.
 *
 * Strength is ‖δ‖ in the unit-variance x_t convention (contract.ts, Brush):
 * for a VP model that is its own x_t; for a σ-form model, the kick is applied
 * to x/√(1+σ²), i.e. δ_σ = √(1+σ²)·δ. With that convention the Gaussian
 * theory's transfer of a kick along u_k to the final image is
 * √(1+σ²)·√(λ_k/(σ²+λ_k)): ≈ √λ_k early, ≤ 1 late — early brushes change
 * content more (DESIGN.md §2, claim iii).
 */
import { randomUUID } from 'node:crypto';
import type { Brush, BrushPoint, RunSummary, StateConvention } from '../api/contract';
import type { Denoiser } from './denoisers/types';
import type { GaussianModel } from './denoisers/gaussian';
import { PainterError } from './errors';
import type { ImageSpec } from './manifest';
import { seededNormal } from './rng';
import type { RunRecord } from './runs';
import { sample } from './samplers';
import { vpAlpha } from './schedules';

/** RNG stream of brush noise patches; far above the samplers' streams (1 + step, steps ≤ 10000). */
const BRUSH_NOISE_STREAM = 0x40000000;

/** Factor from a run's recorded x_t to the unit-variance convention. */
export function unitVarianceScale(convention: StateConvention, sigma: number): number {
  return convention === 'sigma' ? vpAlpha(sigma) : 1;
}

/**
 * Soft mask of a stroke over one H×W plane: around each point a raised-cosine
 * disc ½(1 + cos(π d/r)) for distance d < r, the strongest point winning.
 */
export function strokeMask(image: ImageSpec, points: readonly BrushPoint[], radius: number): Float32Array {
  if (!(radius > 0)) throw new PainterError('BAD_ARGUMENT', `A brush radius must be positive; got ${radius}.`, { radius });
  const { height, width } = image;
  const mask = new Float32Array(height * width);
  for (const { x: cx, y: cy } of points) {
    const top = Math.max(0, Math.floor(cy - radius));
    const bottom = Math.min(height - 1, Math.ceil(cy + radius));
    const left = Math.max(0, Math.floor(cx - radius));
    const right = Math.min(width - 1, Math.ceil(cx + radius));
    for (let y = top; y <= bottom; y++) {
      for (let x = left; x <= right; x++) {
        // Pixel centres sit at +0.5, so a stroke at (14, 14) on a 28-pixel image is centred.
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        if (d >= radius) continue;
        const weight = 0.5 * (1 + Math.cos((Math.PI * d) / radius));
        const index = y * width + x;
        if (weight > mask[index]!) mask[index] = weight;
      }
    }
  }
  return mask;
}

/**
 * The brush's kick in the unit-variance convention, C·H·W values, with norm
 * exactly `brush.strength`.
 * @param gaussian the model's Gaussian statistics, needed by `gaussian-pc` directions
 */
export function brushDelta(brush: Brush, image: ImageSpec, gaussian: GaussianModel | null): Float32Array {
  const { channels, height, width } = image;
  const plane = height * width;
  const dim = channels * plane;
  const mask = brush.global === true ? new Float32Array(plane).fill(1) : strokeMask(image, brush.points, brush.radius);
  const delta = new Float32Array(dim);
  switch (brush.kind) {
    case 'noise': {
      const white = seededNormal(brush.seed ?? 0, BRUSH_NOISE_STREAM, dim);
      // Grain > 0: noise correlated over that many pixels (blurred white noise), which reaches the
      // high-variance, low-frequency directions that decide layout early (DESIGN.md §2).
      const noise = (brush.grain ?? 0) > 0 ? blurImage(white, 0, image, brush.grain!) : white;
      for (let i = 0; i < dim; i++) delta[i] = noise[i]! * mask[i % plane]!;
      break;
    }
    case 'intensity': {
      const color = brush.color ?? [1];
      if (color.length !== 1 && color.length !== channels) {
        throw new PainterError('BAD_ARGUMENT', `An intensity brush needs 1 or ${channels} colour values; got ${color.length}.`, { color });
      }
      for (let c = 0; c < channels; c++) {
        const push = color.length === 1 ? color[0]! : color[c]!;
        for (let p = 0; p < plane; p++) delta[c * plane + p] = push * mask[p]!;
      }
      break;
    }
    case 'direction': {
      const direction = directionValues(brush, dim, gaussian);
      for (let i = 0; i < dim; i++) delta[i] = direction[i]! * mask[i % plane]!;
      break;
    }
  }
  let squared = 0;
  for (let i = 0; i < dim; i++) squared += delta[i]! ** 2;
  if (!(squared > 0)) {
    throw new PainterError('BAD_ARGUMENT', 'The brush stroke does not touch the image (or pushes along nothing there); paint on the image.', {
      points: brush.points.length,
    });
  }
  const scale = brush.strength / Math.sqrt(squared);
  for (let i = 0; i < dim; i++) delta[i]! *= scale;
  return delta;
}

function directionValues(brush: Brush, dim: number, gaussian: GaussianModel | null): ArrayLike<number> {
  const source = brush.direction;
  if (source === undefined) throw new PainterError('BAD_ARGUMENT', 'A direction brush needs a direction.');
  if (source.kind === 'vector') {
    if (source.values.length !== dim) {
      throw new PainterError('BAD_ARGUMENT', `The direction has ${source.values.length} values; this model's images have ${dim}.`, {
        length: source.values.length,
      });
    }
    return source.values;
  }
  if (gaussian === null) {
    throw new PainterError('BAD_ARGUMENT', 'This model has no Gaussian statistics, so it has no data principal components to push along.');
  }
  if (gaussian.dim !== dim) {
    throw new PainterError('BAD_ARGUMENT', `The model's statistics describe ${gaussian.dim}-value images; its images have ${dim}.`);
  }
  const k = source.index;
  if (!Number.isInteger(k) || k < 0 || k >= gaussian.rank) {
    throw new PainterError('BAD_ARGUMENT', `Principal component ${k + 1} does not exist; the statistics keep ${gaussian.rank}.`, { index: k });
  }
  const sign = source.sign ?? 1;
  const column = new Float32Array(dim);
  for (let i = 0; i < dim; i++) column[i] = sign * gaussian.eigvecs[i * gaussian.rank + k]!;
  return column;
}

/** One line for the branch tree: what was painted, where, how hard. */
export function describeBrush(brush: Brush, step: number, sigma: number): string {
  const what =
    brush.kind === 'noise'
      ? `${(brush.grain ?? 0) > 0 ? `${formatNumber(brush.grain!)} px-grain ` : ''}noise patch (seed ${brush.seed ?? 0})`
      : brush.kind === 'intensity'
        ? describeColor(brush.color ?? [1])
        : brush.direction?.kind === 'gaussian-pc'
          ? `push along ${brush.direction.sign === -1 ? '−' : '+'}data PC ${brush.direction.index + 1}`
          : `push along ${brush.direction?.kind === 'vector' ? brush.direction.label : 'a direction'}`;
  const where = brush.global === true ? 'whole image' : `radius ${formatNumber(brush.radius)} px`;
  return `${what}, ${where}, strength ${formatNumber(brush.strength)}, at step ${step} (σ = ${sigma.toPrecision(3)})`;
}

function describeColor(color: readonly number[]): string {
  if (color.length === 1) return color[0]! >= 0 ? 'brighten' : 'darken';
  const hex = color.map((v) => Math.round(127.5 + 127.5 * Math.max(-1, Math.min(1, v))).toString(16).padStart(2, '0')).join('');
  return `colour push #${hex}`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3);
}

/**
 * RMS of (a − b) over one image, divided by the width of the data range
 * (0.1 = 10% of black-to-white on average).
 */
export function contentChange(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, dim: number, range: [number, number]): number {
  let squared = 0;
  for (let i = 0; i < dim; i++) squared += (a[aOffset + i]! - b[bOffset + i]!) ** 2;
  return Math.sqrt(squared / dim) / (range[1] - range[0]);
}

/**
 * Scale of the "content" in content change: a blur of 1/20 of the image side
 * (1.4 px at 28×28) keeps outline and layout and removes pixel-level detail,
 * the part late kicks pass straight through (DESIGN.md §2: late kicks along
 * low-variance directions reach the final image ≈ 1:1).
 */
export function contentBlurSigma(image: ImageSpec): number {
  return Math.max(0.5, Math.min(image.height, image.width) / 20);
}

/**
 * Separable Gaussian blur of one C×H×W image (σ in pixels, kernel ±3σ,
 * edges clamped), float64.
 */
export function blurImage(values: ArrayLike<number>, offset: number, image: ImageSpec, sigma: number): Float64Array {
  const { channels, height, width } = image;
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= total;
  const plane = height * width;
  const across = new Float64Array(channels * plane);
  const out = new Float64Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const base = c * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) sum += kernel[k + radius]! * values[offset + base + y * width + Math.min(width - 1, Math.max(0, x + k))]!;
        across[base + y * width + x] = sum;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) sum += kernel[k + radius]! * across[base + Math.min(height - 1, Math.max(0, y + k)) * width + x]!;
        out[base + y * width + x] = sum;
      }
    }
  }
  return out;
}

export interface BranchOptions {
  parent: RunRecord;
  denoiser: Denoiser;
  step: number;
  brush: Brush;
  /** The brush as the user painted it, for the branch's description (latent runs: on the decoded image, while `brush` acts on the latent grid). */
  painted?: Brush;
  gaussian: GaussianModel | null;
  signal?: AbortSignal;
  /** After each step; `x0Hat` is that step's estimate of the final image. */
  onStep?: (done: number, total: number, x0Hat: Float32Array) => void;
}

/**
 * Re-runs `parent` from `step` with the brush's kick added there. The branch
 * shares the parent's states before `step`; its evaluations count the
 * parent's up to the branch point plus its own.
 */
export async function branchRun(options: BranchOptions): Promise<RunRecord> {
  const started = performance.now();
  const { parent, denoiser, step, brush } = options;
  const summary = parent.summary;
  const dim = denoiser.dim;
  const expectedDim = parent.image.channels * parent.image.height * parent.image.width;
  if (dim !== expectedDim) {
    throw new PainterError('BAD_MODEL', `Model "${summary.modelId}" now has ${dim}-value images; the run has ${expectedDim}.`);
  }
  const last = summary.stepCount - 1;
  if (!Number.isInteger(step) || step < 0 || step >= last) {
    throw new PainterError('BAD_ARGUMENT', `A branch can start at step 0 to ${last - 1} (the final image has nothing left to change); got ${step}.`, {
      step,
    });
  }
  const sigmas = Float64Array.from(summary.sigmas);
  const sigma = sigmas[step]!;
  const toSigmaForm = 1 / denoiser.schedule.modelScale(sigma);
  const state = new Float32Array(dim);
  for (let i = 0; i < dim; i++) state[i] = parent.xt[step * dim + i]! * toSigmaForm;

  // Unit-variance kick → the model's own x_t convention, which `sample` expects.
  const delta = brushDelta(brush, parent.image, options.gaussian);
  const toModel = summary.convention === 'sigma' ? 1 / vpAlpha(sigma) : 1;
  for (let i = 0; i < dim; i++) delta[i]! *= toModel;

  const { settings } = summary;
  const trajectory = await sample({
    denoiser,
    sampler: settings.sampler,
    sigmas,
    seeds: [settings.seed],
    condition: { labels: [settings.classLabel], guidance: settings.guidance },
    start: { step, state },
    perturbation: { step, delta },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });

  const xt = new Float32Array(parent.xt.length);
  const x0Hat = new Float32Array(parent.x0Hat.length);
  xt.set(parent.xt.subarray(0, step * dim));
  x0Hat.set(parent.x0Hat.subarray(0, step * dim));
  const evaluations = summary.evaluations.slice(0, step);
  const before = step > 0 ? summary.evaluations[step - 1]! : 0;
  for (let j = 0; j + step <= last; j++) {
    const s = sigmas[step + j]!;
    const scale = denoiser.schedule.modelScale(s);
    for (let i = 0; i < dim; i++) xt[(step + j) * dim + i] = trajectory.states[j * dim + i]! * scale;
    x0Hat.set(trajectory.x0Hat.subarray(j * dim, (j + 1) * dim), (step + j) * dim);
    evaluations.push(before + trajectory.evaluations[j]!);
  }

  const { image } = parent;
  const pixelChange = contentChange(x0Hat, last * dim, parent.x0Hat, last * dim, dim, image.range);
  const coarse = contentBlurSigma(image);
  const change = contentChange(blurImage(x0Hat, last * dim, image, coarse), 0, blurImage(parent.x0Hat, last * dim, image, coarse), 0, dim, image.range);
  const branchSummary: RunSummary = {
    ...summary,
    runId: randomUUID(),
    settings: { ...settings },
    sigmas: Array.from(sigmas),
    evaluations,
    seconds: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
    branch: { parentRunId: summary.runId, step, perturbation: describeBrush(options.painted ?? brush, step, sigma), contentChange: change, pixelChange },
    provider: denoiser.provider,
  };
  return { summary: branchSummary, manifestHash: parent.manifestHash, image: parent.image, xt, x0Hat };
}
