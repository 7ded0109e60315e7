/**
 * A diffusers `scheduler/scheduler_config.json` mapped onto the engine's σ
 * form (DESIGN.md §2): the ᾱ table diffusers builds from the config, and the
 * σ grid plus UNet timesteps that diffusers' own schedulers walk.
 *
 * Which diffusers scheduler each Painter sampler reproduces on a diffusers folder:
 * - `euler` ≡ DDIMScheduler with η = 0 (DDIM grid) or EulerDiscreteScheduler
 *   (Euler grid): in σ form both steps are x' = x̂0 + σ'·(x − x̂0)/σ.
 * - `heun` ≡ HeunDiscreteScheduler on the same grid: Karras et al. 2022
 *   Algorithm 1, an Euler step onto σ = 0 at the end.
 * - `ddpm` ≡ DDPMScheduler with `variance_type` fixed_small (= DDIM η = 1):
 *   the engine's ancestral step has the DDPM posterior's mean and variance
 *   β̃ = (1 − ᾱ')/(1 − ᾱ)·(1 − ᾱ/ᾱ') between two grid points.
 *
 * Grids. DDIM-family configs (DDIM, PNDM, DDPM, and any scheduler not in the
 * Euler family) give integer timesteps; Euler-family configs give float32
 * timesteps, fractional for `linspace`, with σ interpolated linearly in t.
 * The two grids differ only for `linspace` spacing. The UNet is fed each
 * grid point's own timestep ({@link DiffusersSchedule.timestepOf}: the exact
 * inverse of σ(t), never a nearest-σ lookup), and is evaluated at the grid σ
 * itself (x̂0 and the input scale use σ, as diffusers does). An int64 UNet on
 * a fractional timestep gets it rounded by the caller.
 *
 * Where the engine differs from diffusers, on purpose:
 * - The grid ends at σ = 0 (the last step lands on x̂0). diffusers' DDIM with
 *   `set_alpha_to_one` false, and Euler with `final_sigmas_type` sigma_min,
 *   stop at σ(ᾱ_0) instead (≈ 0.029 for SD), leaving σ(ᾱ_0)·ε̂ of noise in
 *   the latent: {@link DiffusersSchedule.finalSigma}.
 * - DDIM steps from t to t − T//n, which for `trailing` / `linspace` spacing
 *   with n not dividing T is not the next timestep of its own list (a
 *   diffusers quirk); the engine steps to the next grid point.
 * - Zero-SNR tables (ᾱ_{T−1} = 0, σ = ∞) take EulerDiscreteScheduler's clamp
 *   ᾱ_{T−1} = 2⁻²⁴ (σ ≈ 4096) for both grids.
 * - ᾱ is float64 here; diffusers holds it (and Euler's σ) in float32, a
 *   relative difference below 10⁻⁵.
 * - The first state is the seed's ε/α_T (a VP x_T ~ N(0, I)), as diffusers'
 *   DDIM and `leading` Euler start; Euler with `linspace` / `trailing`
 *   spacing starts at ε·σ_max instead, 0.05 % smaller at SD's σ_max = 14.6.
 * - `use_karras_sigmas`, `timestep_type`, `interpolation_type` other than
 *   linear, and `thresholding` are refused or ignored as {@link parseSchedulerConfig} says.
 *
 * @see diffusers schedulers/scheduling_ddim.py, scheduling_euler_discrete.py,
 *   scheduling_ddpm.py (set_timesteps, step); Lin et al. 2024, "Common
 *   Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1.
 */
import type { SamplerName } from '../../api/contract';
import { PainterError, quoteText } from '../errors';
import type { PredictionType } from '../manifest';
import { checkSteps, vpAlpha, type NoiseSchedule } from '../schedules';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export type DiffusersPrediction = 'epsilon' | 'v_prediction' | 'sample';
/** `ddim`: integer timesteps (DDIM, PNDM, DDPM…); `euler`: float32 timesteps, σ interpolated in t. */
export type DiffusersGrid = 'ddim' | 'euler';

export interface SchedulerConfig {
  /** The file it was read from (named in errors). */
  path: string;
  /** `_class_name`, when the file names one. */
  className: string | undefined;
  betaSchedule: BetaSchedule;
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  /** `trained_betas`: explicit β_t, used instead of `beta_schedule` when given. */
  trainedBetas: number[] | undefined;
  predictionType: DiffusersPrediction;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  /** DDIM: the last step lands on ᾱ = 1 (true) or on ᾱ_0 (false). */
  setAlphaToOne: boolean;
  /** DDIM / DDPM clip x̂0 to ±clipSampleRange at each step (the pipeline's denoiser applies it). */
  clipSample: boolean;
  clipSampleRange: number;
  rescaleBetasZeroSnr: boolean;
  /** Euler: the grid of diffusers ends at 0 (`zero`) or at σ(ᾱ_0) (`sigma_min`). */
  finalSigmasType: 'zero' | 'sigma_min';
  grid: DiffusersGrid;
}

/** Schedulers whose grid is EulerDiscreteScheduler's (float timesteps, σ interpolated in t, `linspace` by default). */
const EULER_FAMILY = new Set([
  'EulerDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'HeunDiscreteScheduler',
  'LMSDiscreteScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
]);

/** The prediction type of a diffusers config in the engine's terms. */
export function predictionOf(type: DiffusersPrediction): PredictionType {
  return type === 'v_prediction' ? 'v' : type === 'sample' ? 'x0' : 'epsilon';
}

type Json = Record<string, unknown>;

function refuse(path: string, field: string, value: unknown, expected: string): PainterError {
  const shown = value === undefined ? 'missing' : quoteText(JSON.stringify(value) ?? String(value), 80);
  return new PainterError('BAD_MODEL', `${quoteText(path)}: "${field}" is ${shown}; expected ${expected}.`, { path, field });
}

function pick<T extends string>(json: Json, path: string, field: string, choices: readonly T[], fallback: T): T {
  const value = json[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw refuse(path, field, value, `one of ${choices.join(', ')}`);
}

function flag(json: Json, path: string, field: string, fallback: boolean): boolean {
  const value = json[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  throw refuse(path, field, value, 'true or false');
}

function number(json: Json, path: string, field: string, fallback: number, valid: (v: number) => boolean, expected: string): number {
  const value = json[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && valid(value)) return value;
  throw refuse(path, field, value, expected);
}

/**
 * Reads and checks a `scheduler_config.json` (already parsed from JSON).
 * Fields a config leaves out take the default of its `_class_name` in
 * diffusers (`timestep_spacing` leading, `clip_sample` true and
 * `set_alpha_to_one` true for DDIM; PNDM: no clipping, `set_alpha_to_one`
 * false; Euler family: `linspace`). Fields of other schedulers are ignored; a
 * bad value is refused naming the file and the field.
 */
export function parseSchedulerConfig(json: unknown, path: string): SchedulerConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PainterError('BAD_MODEL', `${quoteText(path)} must hold a JSON object (a diffusers scheduler config).`, { path });
  }
  const value = json as Json;
  const rawClass = value['_class_name'];
  if (rawClass !== undefined && typeof rawClass !== 'string') throw refuse(path, '_class_name', rawClass, 'a scheduler class name');
  const className = rawClass;
  const euler = className !== undefined && EULER_FAMILY.has(className);
  const pndm = className === 'PNDMScheduler';

  const numTrainTimesteps = number(value, path, 'num_train_timesteps', 1000, (v) => Number.isInteger(v) && v >= 2 && v <= 100000, 'an integer from 2 to 100000');
  const inUnit = (v: number): boolean => v > 0 && v < 1;
  const betaStart = number(value, path, 'beta_start', 0.0001, inUnit, 'a number between 0 and 1');
  const betaEnd = number(value, path, 'beta_end', 0.02, inUnit, 'a number between 0 and 1');
  const betaSchedule = pick(value, path, 'beta_schedule', ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const, 'linear');
  let trainedBetas: number[] | undefined;
  const rawBetas = value['trained_betas'];
  if (rawBetas !== undefined && rawBetas !== null) {
    if (
      !Array.isArray(rawBetas) ||
      rawBetas.length !== numTrainTimesteps ||
      !rawBetas.every((b): b is number => typeof b === 'number' && b > 0 && b < 1)
    ) {
      throw refuse(path, 'trained_betas', Array.isArray(rawBetas) ? `a list of ${rawBetas.length}` : rawBetas, `null or ${numTrainTimesteps} numbers between 0 and 1 (one β per training timestep)`);
    }
    trainedBetas = rawBetas;
  }
  const predictionType = pick(value, path, 'prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon');
  const timestepSpacing = pick(value, path, 'timestep_spacing', ['leading', 'trailing', 'linspace'] as const, euler ? 'linspace' : 'leading');
  const stepsOffset = number(value, path, 'steps_offset', 0, (v) => Number.isInteger(v) && v >= 0 && v < numTrainTimesteps, `an integer from 0 to ${numTrainTimesteps - 1}`);
  const setAlphaToOne = flag(value, path, 'set_alpha_to_one', !pndm);
  const clipSample = flag(value, path, 'clip_sample', !euler && !pndm);
  const clipSampleRange = number(value, path, 'clip_sample_range', 1, (v) => v > 0, 'a positive number');
  const rescaleBetasZeroSnr = flag(value, path, 'rescale_betas_zero_snr', false);
  const finalSigmasType = pick(value, path, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero');
  // Options that change the sampling itself and that the engine does not reproduce.
  if (flag(value, path, 'thresholding', false)) throw refuse(path, 'thresholding', true, 'false (dynamic thresholding is not supported)');
  pick(value, path, 'timestep_type', ['discrete'] as const, 'discrete');
  pick(value, path, 'interpolation_type', ['linear'] as const, 'linear');
  return {
    path,
    className,
    betaSchedule,
    numTrainTimesteps,
    betaStart,
    betaEnd,
    trainedBetas,
    predictionType,
    timestepSpacing,
    stepsOffset,
    setAlphaToOne,
    clipSample,
    clipSampleRange,
    rescaleBetasZeroSnr,
    finalSigmasType,
    grid: euler ? 'euler' : 'ddim',
  };
}

/** β_t as diffusers builds them from the config (float64 here). */
export function betasOf(config: SchedulerConfig): Float64Array {
  const T = config.numTrainTimesteps;
  if (config.trainedBetas !== undefined) return Float64Array.from(config.trainedBetas);
  const betas = new Float64Array(T);
  if (config.betaSchedule === 'squaredcos_cap_v2') {
    // Nichol & Dhariwal 2021, eq. 17: β clipped at 0.999
    const alphaBar = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < T; t++) betas[t] = Math.min(1 - alphaBar((t + 1) / T) / alphaBar(t / T), 0.999);
    return betas;
  }
  const scaled = config.betaSchedule === 'scaled_linear';
  const start = scaled ? Math.sqrt(config.betaStart) : config.betaStart;
  const end = scaled ? Math.sqrt(config.betaEnd) : config.betaEnd;
  const step = (end - start) / (T - 1);
  for (let t = 0; t < T; t++) {
    // numpy/torch linspace: start + t·step, the last point exactly `end`
    const b = t === T - 1 ? end : start + t * step;
    betas[t] = scaled ? b * b : b;
  }
  return betas;
}

/** ᾱ_t = Π(1 − β_s), after the zero-terminal-SNR rescale when the config asks (its last entry is then 0). */
export function alphasCumprodOf(config: SchedulerConfig): Float64Array {
  const betas = betasOf(config);
  const T = betas.length;
  const alphasCumprod = new Float64Array(T);
  let product = 1;
  for (let t = 0; t < T; t++) alphasCumprod[t] = product *= 1 - betas[t]!;
  if (!config.rescaleBetasZeroSnr) return alphasCumprod;
  // Lin et al. 2024, Algorithm 1: shift and scale √ᾱ so that √ᾱ_{T−1} = 0 and √ᾱ_0 is kept,
  // then ᾱ through the rescaled β (cumprod of ᾱ_t/ᾱ_{t−1}), as diffusers does.
  const first = Math.sqrt(alphasCumprod[0]!);
  const last = Math.sqrt(alphasCumprod[T - 1]!);
  const rescaled = alphasCumprod.map((a) => ((Math.sqrt(a) - last) * first) / (first - last)).map((s) => s * s);
  product = 1;
  for (let t = 0; t < T; t++) {
    const alpha = t === 0 ? rescaled[0]! : rescaled[t]! / rescaled[t - 1]!;
    alphasCumprod[t] = product *= alpha;
  }
  return alphasCumprod;
}

/** numpy's round (half to even). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** EulerDiscreteScheduler's stand-in for ᾱ = 0 under zero SNR: the smallest float16 subnormal. */
const ZERO_SNR_ALPHA_CUMPROD = 2 ** -24;

/** The diffusers schedule of a folder in σ form. */
export class DiffusersSchedule implements NoiseSchedule {
  readonly kind = 'vp' as const;
  /** ᾱ_t from the config's formulas (zero SNR: the last entry is 0). */
  readonly alphasCumprod: Float64Array;
  /** σ_t = sqrt((1 − ᾱ_t)/ᾱ_t), ascending, with ᾱ_{T−1} clamped to 2⁻²⁴ under zero SNR. */
  readonly sigmas: Float64Array;
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly grid: DiffusersGrid;
  /** σ → timestep of every grid handed out, so that a grid σ maps back to its timestep bit for bit. */
  private readonly gridTimesteps = new Map<number, number>();

  constructor(
    readonly config: SchedulerConfig,
    grid: DiffusersGrid = config.grid,
  ) {
    this.grid = grid;
    this.alphasCumprod = alphasCumprodOf(config);
    const T = this.alphasCumprod.length;
    const clamped = Float64Array.from(this.alphasCumprod);
    if (config.rescaleBetasZeroSnr) {
      // Keep σ increasing where 2⁻²⁴ is not below ᾱ_{T−2} (linear β with zero SNR).
      clamped[T - 1] = Math.min(ZERO_SNR_ALPHA_CUMPROD, clamped[T - 2]! / 2);
    }
    this.sigmas = clamped.map((a) => Math.sqrt((1 - a) / a));
    for (let t = 0; t < T; t++) {
      const sigma = this.sigmas[t]!;
      if (!(sigma > 0 && Number.isFinite(sigma)) || (t > 0 && !(sigma > this.sigmas[t - 1]!))) {
        throw new PainterError('BAD_MODEL', `${quoteText(config.path)}: its β give ᾱ that do not decrease strictly from below 1 towards 0 (ᾱ[${t}] = ${this.alphasCumprod[t]}).`, {
          path: config.path,
          index: t,
          value: this.alphasCumprod[t],
        });
      }
    }
    this.sigmaMin = this.sigmas[0]!;
    this.sigmaMax = this.sigmas[T - 1]!;
  }

  /**
   * The σ where diffusers' own sampler stops after `steps` steps; the
   * engine's grid ends at 0 instead. DDIM's last step goes to t − T//n, or
   * when that is below 0 to ᾱ = 1 (σ = 0) or ᾱ_0 by `set_alpha_to_one`
   * (`trailing` 7 steps of 1000 end at t = 0, whatever that says); Euler ends
   * at 0, or σ(ᾱ_0) with `final_sigmas_type` sigma_min. A caller that wants
   * diffusers' final latent takes the last step to this σ (x̂0 + σ·ε̂).
   */
  finalSigma(steps: number): number {
    if (this.grid === 'euler') return this.config.finalSigmasType === 'sigma_min' ? this.sigmaMin : 0;
    const timesteps = this.samplingTimesteps(steps);
    const previous = timesteps[steps - 1]! - Math.floor(this.timesteps / steps);
    if (previous >= 0) return this.sigmas[previous]!;
    return this.config.setAlphaToOne ? 0 : this.sigmaMin;
  }

  get timesteps(): number {
    return this.alphasCumprod.length;
  }

  /**
   * The `steps` timesteps the UNet is fed, as diffusers' `set_timesteps`
   * makes them for the config's `timestep_spacing`: integers on the DDIM
   * grid, float32 values on the Euler grid (fractional for `linspace`).
   */
  samplingTimesteps(steps: number): Float64Array {
    checkSteps(steps);
    const T = this.timesteps;
    if (steps > T) {
      throw new PainterError('BAD_ARGUMENT', `This scheduler has ${T} training timesteps, so a run can take at most ${T} steps; got ${steps}.`, { steps, timesteps: T });
    }
    const result = new Float64Array(steps);
    switch (this.config.timestepSpacing) {
      case 'linspace': {
        // np.linspace(0, T − 1, n): i·(T − 1)/(n − 1), the last point exactly T − 1 (n = 1: just 0)
        const step = steps > 1 ? (T - 1) / (steps - 1) : 0;
        for (let i = 0; i < steps; i++) {
          const t = steps > 1 && i === steps - 1 ? T - 1 : i * step;
          result[steps - 1 - i] = this.grid === 'ddim' ? roundHalfEven(t) : Math.fround(t);
        }
        break;
      }
      case 'leading': {
        const ratio = Math.floor(T / steps);
        for (let i = 0; i < steps; i++) result[steps - 1 - i] = i * ratio + this.config.stepsOffset;
        if (result[0]! > T - 1) {
          throw new PainterError('BAD_ARGUMENT', `With steps_offset ${this.config.stepsOffset}, ${steps} "leading" steps would start past the last training timestep ${T - 1}; take fewer steps.`, { steps });
        }
        break;
      }
      case 'trailing': {
        // np.round(np.arange(T, 0, −T/n)) − 1: T − i·(T/n), rounded half to even
        const ratio = T / steps;
        for (let i = 0; i < steps; i++) result[i] = roundHalfEven(T - i * ratio) - 1;
        break;
      }
    }
    return result;
  }

  /** σ at a (possibly fractional) timestep: linear interpolation of the σ table in t (np.interp, as EulerDiscreteScheduler). */
  sigmaAt(timestep: number): number {
    const T = this.timesteps;
    if (!(timestep > 0)) return this.sigmas[0]!;
    if (timestep >= T - 1) return this.sigmas[T - 1]!;
    const low = Math.floor(timestep);
    const w = timestep - low;
    if (w === 0) return this.sigmas[low]!;
    const slope = this.sigmas[low + 1]! - this.sigmas[low]!;
    return slope * w + this.sigmas[low]!;
  }

  /**
   * The σ grid for `steps` steps: σ at each of {@link samplingTimesteps},
   * then 0. Every sampler walks the same grid (diffusers' grid depends on the
   * scheduler config, not on the sampler).
   */
  samplingSigmas(steps: number, _sampler: SamplerName): Float64Array {
    const timesteps = this.samplingTimesteps(steps);
    const grid = new Float64Array(steps + 1);
    if (this.gridTimesteps.size > 100_000) this.gridTimesteps.clear();
    for (let i = 0; i < steps; i++) {
      const sigma = this.sigmaAt(timesteps[i]!);
      grid[i] = sigma;
      this.gridTimesteps.set(sigma, timesteps[i]!);
    }
    for (let i = 0; i + 1 < steps; i++) {
      if (!(grid[i]! > grid[i + 1]!)) {
        throw new PainterError('BAD_ARGUMENT', `${steps} steps with "${this.config.timestepSpacing}" spacing repeat timestep ${timesteps[i]}; take fewer steps.`, { steps });
      }
    }
    return grid;
  }

  /**
   * The timestep the UNet is fed at σ: for a σ of a grid this schedule gave
   * out, that grid point's own timestep exactly; otherwise the inverse of
   * {@link sigmaAt} (fractional between table entries), clamped to [0, T − 1].
   */
  timestepOf(sigma: number): number {
    const known = this.gridTimesteps.get(sigma);
    if (known !== undefined) return known;
    const sigmas = this.sigmas;
    const T = sigmas.length;
    if (!(sigma > sigmas[0]!)) return 0;
    if (sigma >= sigmas[T - 1]!) return T - 1;
    let low = 0;
    let high = T - 1;
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (sigmas[mid]! <= sigma) low = mid;
      else high = mid;
    }
    if (sigmas[low] === sigma) return low;
    return low + (sigma - sigmas[low]!) / (sigmas[high]! - sigmas[low]!);
  }

  /** The UNet is evaluated at σ itself (its input scaled and its output converted with σ, as diffusers does). */
  networkSigma(sigma: number): number {
    return sigma;
  }

  modelScale(sigma: number): number {
    return vpAlpha(sigma);
  }
}

/**
 * The engine's schedule for a diffusers config. `grid` overrides the grid
 * family the config's `_class_name` implies (see {@link DiffusersGrid}).
 */
export function scheduleFromConfig(config: SchedulerConfig, grid?: DiffusersGrid): DiffusersSchedule {
  return new DiffusersSchedule(config, grid ?? config.grid);
}
