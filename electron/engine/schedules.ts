/**
 * Noise schedules in the σ (variance-exploding) form of DESIGN.md §2:
 * x = x0 + σ·ε. A VP model with x_t = α_t x0 + σ_t ε maps to it by
 * x_ve = x_t / α_t, σ = σ_t / α_t; with α_t² + σ_t² = 1 that is
 * α_t = 1/sqrt(1 + σ²).
 */
import { PainterError } from './errors';
import type { ScheduleSpec } from './manifest';

export interface NoiseSchedule {
  readonly kind: 'vp' | 'edm';
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /**
   * The σ grid a sampler walks for `steps` network evaluations: `steps` values
   * from high to low, then 0 (the final image); length steps + 1.
   */
  samplingSigmas(steps: number): Float64Array;
  /** Factor taking σ-form x to the model's own convention (VP: α = 1/sqrt(1+σ²); EDM: 1). */
  modelScale(sigma: number): number;
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

/** A discrete VP schedule (DDPM), indexed by t = 0 … T-1. */
export class DiscreteVpSchedule implements NoiseSchedule {
  readonly kind = 'vp' as const;
  readonly alphasCumprod: Float64Array;
  /** σ-form noise level of each discrete t, ascending in t. */
  readonly sigmas: Float64Array;
  readonly sigmaMin: number;
  readonly sigmaMax: number;

  constructor(alphasCumprod: Float64Array) {
    this.alphasCumprod = alphasCumprod;
    this.sigmas = alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
    this.sigmaMin = this.sigmas[0]!;
    this.sigmaMax = this.sigmas[this.sigmas.length - 1]!;
  }

  get timesteps(): number {
    return this.alphasCumprod.length;
  }

  /**
   * Timesteps uniform in t, from T-1 down to 0 (DDIM "linspace" spacing).
   * @see Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", §4
   */
  samplingTimesteps(steps: number): Int32Array {
    checkSteps(steps);
    const last = this.timesteps - 1;
    const result = new Int32Array(steps);
    for (let i = 0; i < steps; i++) result[i] = steps === 1 ? last : Math.round(last - (last * i) / (steps - 1));
    return result;
  }

  samplingSigmas(steps: number): Float64Array {
    const timesteps = this.samplingTimesteps(steps);
    const result = new Float64Array(steps + 1);
    timesteps.forEach((t, i) => (result[i] = this.sigmas[t]!));
    result[steps] = 0;
    return result;
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

  modelScale(sigma: number): number {
    return vpAlpha(sigma);
  }
}

/** A continuous σ schedule (EDM, and the analytic models). */
export class KarrasSchedule implements NoiseSchedule {
  readonly kind = 'edm' as const;
  constructor(
    readonly sigmaMin: number,
    readonly sigmaMax: number,
    readonly rho = 7,
  ) {
    if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) {
      throw new PainterError('BAD_MANIFEST', `σ range must satisfy 0 < sigmaMin < sigmaMax; got [${sigmaMin}, ${sigmaMax}].`);
    }
  }

  /**
   * σ_i = (σmax^(1/ρ) + i/(N-1)·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ, then 0.
   * @see Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", eq. 5
   */
  samplingSigmas(steps: number): Float64Array {
    checkSteps(steps);
    const result = new Float64Array(steps + 1);
    const a = this.sigmaMax ** (1 / this.rho);
    const b = this.sigmaMin ** (1 / this.rho);
    for (let i = 0; i < steps; i++) result[i] = (steps === 1 ? a : a + (i / (steps - 1)) * (b - a)) ** this.rho;
    result[steps] = 0;
    return result;
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

export function scheduleFromSpec(spec: ScheduleSpec): NoiseSchedule {
  switch (spec.type) {
    case 'vp-linear':
      return new DiscreteVpSchedule(linearAlphasCumprod(spec.timesteps, spec.betaStart, spec.betaEnd));
    case 'vp-cosine':
      return new DiscreteVpSchedule(cosineAlphasCumprod(spec.timesteps, spec.s));
    case 'edm':
      return new KarrasSchedule(spec.sigmaMin, spec.sigmaMax, spec.rho);
  }
}
