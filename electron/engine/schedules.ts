/**
 * Noise schedules in the σ (variance-exploding) form of DESIGN.md §2:
 * x = x0 + σ·ε. A VP model with x_t = α_t x0 + σ_t ε maps to it by
 * x_ve = x_t / α_t, σ = σ_t / α_t; with α_t² + σ_t² = 1 that is
 * α_t = 1/sqrt(1 + σ²).
 */
import type { SamplerName } from '../api/contract';
import { PainterError } from './errors';
import type { ScheduleSpec } from './manifest';
import { karrasSigmas, rhoSpacedSigmas, tunedSigmas } from './sampling-grid';

/**
 * How a schedule spaces its sampling grid (sampling-grid.ts):
 * - `linspace`: timesteps uniform in t from T−1 down to 0 (DDIM's "linspace"; discrete VP only),
 * - `karras`: σ uniform in σ^(1/ρ), ρ = 7 (Karras et al. 2022), from
 *   min(σ_max, {@link KARRAS_SIGMA_TOP}) down to σ_min; when σ_max lies above
 *   that top (a cosine schedule's clipped end, σ ≈ 2·10⁴), the grid starts at
 *   σ_max and its first step jumps straight to the top (see {@link karrasSigmas}),
 * - `tuned`: a grid per sampler, chosen on the closed-form accuracy model
 *   (see {@link tunedSigmas}): the spectral grid for Euler and the ancestral
 *   sampler, ρ = 4 down to a floor of 1/steps for Heun.
 */
export type GridSpacing = 'linspace' | 'karras' | 'tuned';
export const GRID_SPACINGS: readonly GridSpacing[] = ['linspace', 'karras', 'tuned'];

export { KARRAS_SIGMA_TOP, karrasSigmas, rhoSpacedSigmas, tunedSigmas } from './sampling-grid';

export interface NoiseSchedule {
  readonly kind: 'vp' | 'edm';
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /**
   * The σ grid `sampler` walks in `steps` steps: `steps` values from high to
   * low, then 0 (the final image); length steps + 1. A `tuned` grid depends
   * on the sampler, so every caller names the one it runs.
   */
  samplingSigmas(steps: number, sampler: SamplerName): Float64Array;
  /** Factor taking σ-form x to the model's own convention (VP: α = 1/sqrt(1+σ²); EDM: 1). */
  modelScale(sigma: number): number;
  /**
   * The σ the network is actually evaluated at when asked for `sigma`: a
   * discrete VP network snaps to its nearest timestep, a continuous-time one
   * to the float32 time it is fed; EDM and analytic models take σ itself.
   */
  networkSigma(sigma: number): number;
}

/** α of the VP form for a σ-form noise level: 1/sqrt(1 + σ²). */
export function vpAlpha(sigma: number): number {
  return 1 / Math.sqrt(1 + sigma * sigma);
}

export function checkSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > 10000) {
    throw new PainterError('BAD_ARGUMENT', `Steps must be an integer from 1 to 10000; got ${steps}.`, { steps });
  }
}

function withFinalZero(levels: ArrayLike<number>): Float64Array {
  const result = new Float64Array(levels.length + 1);
  result.set(Array.from(levels));
  return result;
}

function checkAlphasCumprod(alphasCumprod: Float64Array): void {
  if (alphasCumprod.length < 2) throw new PainterError('BAD_MANIFEST', `An ᾱ table needs at least 2 entries; got ${alphasCumprod.length}.`);
  for (let t = 0; t < alphasCumprod.length; t++) {
    const value = alphasCumprod[t]!;
    if (!(value > 0 && value < 1)) {
      throw new PainterError('BAD_MANIFEST', `ᾱ[${t}] = ${value}; every ᾱ must lie strictly between 0 and 1.`, { index: t, value });
    }
    if (t > 0 && !(value < alphasCumprod[t - 1]!)) {
      throw new PainterError('BAD_MANIFEST', `ᾱ must decrease with t; ᾱ[${t - 1}] = ${alphasCumprod[t - 1]}, ᾱ[${t}] = ${value}.`, { index: t, value });
    }
  }
}

/** σ-form noise level of each ᾱ: σ = sqrt((1 − ᾱ)/ᾱ). */
function sigmasOfAlphasCumprod(alphasCumprod: Float64Array): Float64Array {
  return alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
}

/** A discrete VP schedule (DDPM), indexed by t = 0 … T-1. */
export class DiscreteVpSchedule implements NoiseSchedule {
  readonly kind = 'vp' as const;
  readonly alphasCumprod: Float64Array;
  /** σ-form noise level of each discrete t, ascending in t. */
  readonly sigmas: Float64Array;
  readonly sigmaMin: number;
  readonly sigmaMax: number;

  constructor(
    alphasCumprod: Float64Array,
    readonly spacing: GridSpacing = 'linspace',
  ) {
    checkAlphasCumprod(alphasCumprod);
    this.alphasCumprod = alphasCumprod;
    this.sigmas = sigmasOfAlphasCumprod(alphasCumprod);
    this.sigmaMin = this.sigmas[0]!;
    this.sigmaMax = this.sigmas[this.sigmas.length - 1]!;
  }

  get timesteps(): number {
    return this.alphasCumprod.length;
  }

  /**
   * The discrete timesteps of `sampler`'s grid, from T−1 down, one per network
   * evaluation. `linspace`: uniform in t down to 0 (DDIM); `karras` and
   * `tuned`: the {@link karrasSigmas} or {@link tunedSigmas} levels, each
   * snapped to the timestep nearest in log σ, kept strictly decreasing.
   * @see Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", §4
   */
  samplingTimesteps(steps: number, sampler: SamplerName): Int32Array {
    checkSteps(steps);
    const last = this.timesteps - 1;
    if (steps > this.timesteps) {
      throw new PainterError('BAD_ARGUMENT', `This model has ${this.timesteps} timesteps, so it can take at most ${this.timesteps} steps; got ${steps}.`, {
        steps,
        timesteps: this.timesteps,
      });
    }
    const result = new Int32Array(steps);
    if (this.spacing === 'linspace') {
      for (let i = 0; i < steps; i++) result[i] = steps === 1 ? last : Math.round(last - (last * i) / (steps - 1));
      return result;
    }
    const levels = this.spacing === 'karras' ? karrasSigmas(this.sigmaMax, this.sigmaMin, steps) : tunedSigmas(this.sigmaMax, this.sigmaMin, steps, sampler);
    let previous = last + 1;
    for (let i = 0; i < steps; i++) {
      // Distinct, decreasing, and leaving one timestep for each later step.
      const t = Math.max(Math.min(this.nearestTimestep(levels[i]!), previous - 1), steps - 1 - i);
      result[i] = t;
      previous = t;
    }
    result[0] = last;
    return result;
  }

  samplingSigmas(steps: number, sampler: SamplerName): Float64Array {
    return withFinalZero(Array.from(this.samplingTimesteps(steps, sampler), (t) => this.sigmas[t]!));
  }

  /** The discrete t whose σ is nearest to `sigma` in log space. */
  timestepOf(sigma: number): number {
    if (sigma === this.lastSigma) return this.lastTimestep;
    const t = this.nearestTimestep(sigma);
    this.lastSigma = sigma;
    this.lastTimestep = t;
    return t;
  }

  private lastSigma = Number.NaN;
  private lastTimestep = 0;

  private nearestTimestep(sigma: number): number {
    const target = Math.log(Math.max(sigma, 1e-12));
    let low = 0;
    let high = this.sigmas.length - 1;
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (Math.log(this.sigmas[mid]!) < target) low = mid;
      else high = mid;
    }
    return Math.abs(Math.log(this.sigmas[low]!) - target) <= Math.abs(Math.log(this.sigmas[high]!) - target) ? low : high;
  }

  networkSigma(sigma: number): number {
    return this.sigmas[this.timestepOf(sigma)]!;
  }

  modelScale(sigma: number): number {
    return vpAlpha(sigma);
  }
}

/**
 * A continuous-time VP schedule for networks that take a real time u ∈ [0, 1]:
 * table entry t (ᾱ_t of a discrete schedule) sits at u = (t + 1)/T, the time
 * whose ᾱ it is in the DDPM convention (for the cosine schedule ᾱ_t = f((t+1)/T)/f(0)
 * exactly), and log σ (= −½ log SNR) is interpolated linearly in u between
 * entries. Its sampling grid is free of the table's timesteps: `tuned`, or
 * `karras` (also for `linspace`, which has no timesteps to space here).
 */
export class ContinuousVpSchedule implements NoiseSchedule {
  readonly kind = 'vp' as const;
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  private readonly logSigmas: Float64Array;

  constructor(
    readonly alphasCumprod: Float64Array,
    readonly spacing: GridSpacing = 'tuned',
  ) {
    checkAlphasCumprod(alphasCumprod);
    this.logSigmas = sigmasOfAlphasCumprod(alphasCumprod).map(Math.log);
    this.sigmaMin = Math.exp(this.logSigmas[0]!);
    this.sigmaMax = Math.exp(this.logSigmas[this.logSigmas.length - 1]!);
  }

  get timesteps(): number {
    return this.alphasCumprod.length;
  }

  /** σ at time u, clamped to the table's range [1/T, 1]. */
  sigmaAt(u: number): number {
    const count = this.logSigmas.length;
    const position = Math.min(Math.max(u * count - 1, 0), count - 1);
    const t = Math.min(Math.floor(position), count - 2);
    const w = position - t;
    return Math.exp((1 - w) * this.logSigmas[t]! + w * this.logSigmas[t + 1]!);
  }

  /** The time u whose σ is `sigma` (inverse of {@link sigmaAt}, clamped to the table's range). */
  timeOf(sigma: number): number {
    const count = this.logSigmas.length;
    const target = Math.log(sigma);
    if (!(target > this.logSigmas[0]!)) return 1 / count;
    if (target >= this.logSigmas[count - 1]!) return 1;
    let low = 0;
    let high = count - 1;
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (this.logSigmas[mid]! <= target) low = mid;
      else high = mid;
    }
    const w = (target - this.logSigmas[low]!) / (this.logSigmas[high]! - this.logSigmas[low]!);
    return (low + 1 + w) / count;
  }

  samplingSigmas(steps: number, sampler: SamplerName): Float64Array {
    checkSteps(steps);
    const levels = this.spacing === 'tuned' ? tunedSigmas(this.sigmaMax, this.sigmaMin, steps, sampler) : karrasSigmas(this.sigmaMax, this.sigmaMin, steps);
    return withFinalZero(levels);
  }

  /** The σ of the float32 time the network is fed. */
  networkSigma(sigma: number): number {
    return this.sigmaAt(Math.fround(this.timeOf(sigma)));
  }

  modelScale(sigma: number): number {
    return vpAlpha(sigma);
  }
}

/**
 * A continuous σ schedule (EDM, and the analytic models). Its grid is
 * `tuned` unless it is given as `karras` (ρ-spaced from σ_max to σ_min with
 * its own ρ).
 */
export class KarrasSchedule implements NoiseSchedule {
  readonly kind = 'edm' as const;
  constructor(
    readonly sigmaMin: number,
    readonly sigmaMax: number,
    readonly rho = 7,
    readonly spacing: Exclude<GridSpacing, 'linspace'> = 'tuned',
  ) {
    if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) {
      throw new PainterError('BAD_MANIFEST', `σ range must satisfy 0 < sigmaMin < sigmaMax; got [${sigmaMin}, ${sigmaMax}].`);
    }
  }

  samplingSigmas(steps: number, sampler: SamplerName): Float64Array {
    checkSteps(steps);
    const levels = this.spacing === 'tuned' ? tunedSigmas(this.sigmaMax, this.sigmaMin, steps, sampler) : rhoSpacedSigmas(this.sigmaMax, this.sigmaMin, steps, this.rho);
    return withFinalZero(levels);
  }

  networkSigma(sigma: number): number {
    return sigma;
  }

  modelScale(): number {
    return 1;
  }
}

/** ᾱ_t = Π (1 − β_s) for the linear β schedule of Ho et al. 2020. */
export function linearAlphasCumprod(timesteps: number, betaStart: number, betaEnd: number): Float64Array {
  const result = new Float64Array(timesteps);
  let product = 1;
  for (let t = 0; t < timesteps; t++) {
    const beta = timesteps === 1 ? betaStart : betaStart + ((betaEnd - betaStart) * t) / (timesteps - 1);
    product *= 1 - beta;
    result[t] = product;
  }
  return result;
}

/**
 * Cosine schedule, ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T + s)/(1 + s))·π/2), β clipped at 0.999.
 * @see Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", eq. 17
 */
export function cosineAlphasCumprod(timesteps: number, s = 0.008): Float64Array {
  const f = (t: number): number => Math.cos((((t / timesteps) + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const result = new Float64Array(timesteps);
  let product = 1;
  for (let t = 0; t < timesteps; t++) {
    const beta = Math.min(1 - f(t + 1) / f(t), 0.999);
    product *= 1 - beta;
    result[t] = product;
  }
  return result;
}

/** The ᾱ table a VP schedule spec describes. */
export function alphasCumprodOf(spec: Exclude<ScheduleSpec, { type: 'edm' }>): Float64Array {
  switch (spec.type) {
    case 'vp-linear':
      return linearAlphasCumprod(spec.timesteps, spec.betaStart, spec.betaEnd);
    case 'vp-cosine':
      return cosineAlphasCumprod(spec.timesteps, spec.s);
    case 'vp-table':
      return Float64Array.from(spec.alphasCumprod);
  }
}

/**
 * Grid spacing when a manifest names none: `linspace` for the linear
 * schedule (what DDPM networks are sampled with, and what their model cards
 * measured); `karras` for an EDM schedule that names its ρ; `tuned`
 * otherwise. On the cosine schedule the linspace grid's first step shrinks σ
 * 600–1700× and Heun diverges there; the tuned grids are at least as
 * accurate on cosine and EDM as linspace is on the linear schedule, for
 * every sampler (tests/engine/samplers.test.ts).
 */
export function defaultSpacing(spec: ScheduleSpec): GridSpacing {
  if (spec.type === 'vp-linear') return 'linspace';
  if (spec.type === 'edm') return spec.rho !== undefined ? 'karras' : 'tuned';
  return 'tuned';
}

/**
 * The schedule of a manifest. `continuousTime`: the network takes a real time
 * u ∈ [0, 1] rather than a discrete timestep (VP only).
 */
export function scheduleFromSpec(spec: ScheduleSpec, continuousTime = false): NoiseSchedule {
  if (spec.type === 'edm') return new KarrasSchedule(spec.sigmaMin, spec.sigmaMax, spec.rho, spec.spacing ?? (defaultSpacing(spec) === 'karras' ? 'karras' : 'tuned'));
  const table = alphasCumprodOf(spec);
  const spacing = spec.spacing ?? defaultSpacing(spec);
  return continuousTime ? new ContinuousVpSchedule(table, spacing) : new DiscreteVpSchedule(table, spacing);
}
