/**
 * Samplers in the σ form (DESIGN.md §2), recording every step.
 *
 * Probability-flow ODE dx/dσ = (x − D(x, σ))/σ: Euler (= DDIM with η = 0)
 * and Heun (Karras et al. 2022, Algorithm 1); and DDPM ancestral sampling,
 * which in σ form is the ancestral step with σ_up² = σ'²(σ² − σ'²)/σ².
 *
 * A batch of B trajectories walks one σ grid, each with its own seed, so a
 * trajectory does not depend on the batch it ran in.
 *
 * The state x, the derivative and Heun's trial state are float64; only the
 * denoiser's input and output are float32. On a VP cosine schedule σ starts
 * at 2·10⁴ (|x| ≈ 7·10⁴, a float32 ulp ≈ 4·10⁻³) and the first step shrinks σ
 * several hundred times, so float32 state rounding would reach the image
 * amplified by that much; in float64 it stays below 10⁻⁶.
 */
import type { SamplerName } from '../api/contract';
import { throwIfCancelled, PainterError } from './errors';
import type { DenoiseCondition, Denoiser } from './denoisers/types';
import { INITIAL_NOISE_STREAM, seededNormal, stepNoiseStream } from './rng';
import { KARRAS_SIGMA_TOP } from './schedules';

export interface SampleOptions {
  denoiser: Denoiser;
  sampler: SamplerName;
  /** σ grid, descending, last entry 0; length steps + 1. */
  sigmas: Float64Array;
  /** One seed per trajectory; B = seeds.length. */
  seeds: readonly number[];
  condition?: DenoiseCondition;
  /**
   * Start at grid index `step` from a given σ-form state [B·D] instead of
   * from fresh noise at index 0 (branching, teleportation).
   */
  start?: { step: number; state: Float32Array | Float64Array };
  /** Added to the state at grid index `step`, in the model's own x_t convention, [B·D]. */
  perturbation?: { step: number; delta: Float32Array };
  signal?: AbortSignal;
  /** After each step; `x0Hat` is the step's estimate D(x, σ) for the whole batch [B·D] (read it at once: it is reused). */
  onStep?: (done: number, total: number, x0Hat: Float32Array) => void;
}

/**
 * Recorded states from `firstStep` to the end, all in σ form, laid out
 * [state j][trajectory b][D], j = 0 … steps − firstStep.
 */
export interface Trajectory {
  firstStep: number;
  batch: number;
  dim: number;
  sigmas: Float64Array;
  /** σ-form states x(σ_j). */
  states: Float32Array;
  /** x̂0 = D(x_j, σ_j); at the final state (σ = 0) the state itself. */
  x0Hat: Float32Array;
  /** Cumulative network evaluations per trajectory up to and including each state's x̂0. */
  evaluations: Int32Array;
}

/**
 * Initial σ-form noise for one seed: the model's unit-variance x_T mapped to
 * σ form, in float64 (the float32 draw times the exact scale).
 */
export function initialNoise(denoiser: Denoiser, seed: number, sigmaStart: number): Float64Array {
  const noise = seededNormal(seed, INITIAL_NOISE_STREAM, denoiser.dim);
  // VP: x_T ~ N(0, I) in the model's convention, so x = x_T / α_T; EDM: x = σ_max ε.
  const scale = denoiser.schedule.kind === 'vp' ? 1 / denoiser.schedule.modelScale(sigmaStart) : sigmaStart;
  const state = new Float64Array(noise.length);
  for (let i = 0; i < noise.length; i++) state[i] = noise[i]! * scale;
  return state;
}

function checkGrid(sigmas: Float64Array): void {
  if (sigmas.length < 2 || sigmas[sigmas.length - 1] !== 0) {
    throw new PainterError('BAD_ARGUMENT', 'A σ grid needs at least one step and must end at 0.');
  }
  for (let i = 0; i + 1 < sigmas.length; i++) {
    if (!(sigmas[i]! > sigmas[i + 1]!)) throw new PainterError('BAD_ARGUMENT', `The σ grid must decrease; σ[${i}] = ${sigmas[i]}, σ[${i + 1}] = ${sigmas[i + 1]}.`);
  }
}

/**
 * A step that starts in the pure-noise range (σ ≥ {@link KARRAS_SIGMA_TOP})
 * and shrinks σ more than {@link JUMP_RATIO} times: the first step of a
 * `karras` grid, or of Heun's `tuned` one, on a schedule whose σ_max is far
 * above the data's scale (or of a cosine `linspace` grid). Heun integrates it
 * in 1/σ instead of σ.
 */
export function isJump(sigma: number, next: number): boolean {
  return sigma >= KARRAS_SIGMA_TOP && next > 0 && sigma > JUMP_RATIO * next;
}

/** σ ratio above which a step from the pure-noise range counts as a jump. */
export const JUMP_RATIO = 10;

/**
 * Lets queued messages (a cancel request) in between evaluations. Synchronous
 * denoisers (the analytic ones) would otherwise hold the thread for a whole
 * run; a yield costs ~5–8 µs, so it happens at most every 8 ms, which keeps
 * the fast ONNX path free of it.
 */
class EventLoopYielder {
  private last = performance.now();
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.last < 8) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

export async function sample(options: SampleOptions): Promise<Trajectory> {
  const { denoiser, sampler, sigmas, seeds, condition, signal } = options;
  checkGrid(sigmas);
  const dim = denoiser.dim;
  const batch = seeds.length;
  const steps = sigmas.length - 1;
  const firstStep = options.start?.step ?? 0;
  if (!Number.isInteger(firstStep) || firstStep < 0 || firstStep >= steps) {
    throw new PainterError('BAD_ARGUMENT', `A run can start at step 0 to ${steps - 1}; got ${firstStep}.`, { step: firstStep });
  }
  const recorded = steps - firstStep + 1;
  const trajectory: Trajectory = {
    firstStep,
    batch,
    dim,
    sigmas: sigmas.slice(firstStep),
    states: new Float32Array(recorded * batch * dim),
    x0Hat: new Float32Array(recorded * batch * dim),
    evaluations: new Int32Array(recorded * batch),
  };

  let x: Float64Array;
  if (options.start !== undefined) {
    if (options.start.state.length !== batch * dim) {
      throw new PainterError('BAD_ARGUMENT', `The start state has ${options.start.state.length} values; expected ${batch}×${dim}.`);
    }
    x = Float64Array.from(options.start.state);
  } else {
    x = new Float64Array(batch * dim);
    seeds.forEach((seed, b) => x.set(initialNoise(denoiser, seed, sigmas[0]!), b * dim));
  }
  const perturbation = options.perturbation;
  if (perturbation !== undefined && (perturbation.step < firstStep || perturbation.step >= steps || perturbation.delta.length !== batch * dim)) {
    throw new PainterError('BAD_ARGUMENT', `A perturbation must fall on a step from ${firstStep} to ${steps - 1} and have ${batch}×${dim} values.`, {
      step: perturbation.step,
    });
  }

  let evaluations = 0;
  const yielder = new EventLoopYielder();
  const sigmaBatch = new Float64Array(batch);
  // The network's input: the float64 state rounded once per evaluation.
  const input = new Float32Array(batch * dim);
  const evaluate = async (state: Float64Array, sigma: number): Promise<Float32Array> => {
    evaluations++;
    input.set(state);
    const result = await denoiser.denoise(input, sigmaBatch.fill(sigma), condition);
    await yielder.maybeYield();
    throwIfCancelled(signal);
    return result;
  };

  const derivative = new Float64Array(x.length);
  const trial = sampler === 'heun' ? new Float64Array(x.length) : derivative;
  for (let i = firstStep; i < steps; i++) {
    throwIfCancelled(signal);
    const sigma = sigmas[i]!;
    const next = sigmas[i + 1]!;
    if (perturbation !== undefined && perturbation.step === i) {
      const toSigmaForm = 1 / denoiser.schedule.modelScale(sigma);
      for (let k = 0; k < x.length; k++) x[k]! += perturbation.delta[k]! * toSigmaForm;
    }
    const denoised = await evaluate(x, sigma);
    const j = i - firstStep;
    trajectory.states.set(x, j * batch * dim);
    trajectory.x0Hat.set(denoised, j * batch * dim);
    trajectory.evaluations.fill(evaluations, j * batch, (j + 1) * batch);

    for (let k = 0; k < x.length; k++) derivative[k] = (x[k]! - denoised[k]!) / sigma;
    if (next === 0) {
      // The last step lands on D itself, exactly.
      x = Float64Array.from(denoised);
    } else if (sampler === 'euler') {
      for (let k = 0; k < x.length; k++) x[k]! += (next - sigma) * derivative[k]!;
    } else if (sampler === 'heun') {
      for (let k = 0; k < x.length; k++) trial[k] = x[k]! + (next - sigma) * derivative[k]!;
      const trialDenoised = await evaluate(trial, next);
      if (isJump(sigma, next)) {
        // Heun's trapezoid in σ over a jump cancels two terms of size σ·|ε| and
        // keeps their difference amplified σ/σ' times (1,400 % endpoint error on
        // the cosine schedule's 633× first step). The trapezoid in u = 1/σ, where
        // d(x/σ)/du = D exactly, has no such cancellation: x' is a convex
        // combination of x and the mean of the two x̂0, exact for a constant x̂0.
        const ratio = next / sigma;
        for (let k = 0; k < x.length; k++) x[k] = ratio * x[k]! + (1 - ratio) * 0.5 * (denoised[k]! + trialDenoised[k]!);
      } else {
        for (let k = 0; k < x.length; k++) {
          const trialDerivative = (trial[k]! - trialDenoised[k]!) / next;
          x[k]! += (next - sigma) * 0.5 * (derivative[k]! + trialDerivative);
        }
      }
    } else {
      // Ancestral: σ_up² = σ'²(σ² − σ'²)/σ², σ_down² = σ'² − σ_up² = σ'⁴/σ².
      const up = Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma));
      const down = (next * next) / sigma;
      for (let b = 0; b < batch; b++) {
        const noise = seededNormal(seeds[b]!, stepNoiseStream(i), dim);
        for (let d = 0; d < dim; d++) {
          const k = b * dim + d;
          x[k]! += (down - sigma) * derivative[k]! + up * noise[d]!;
        }
      }
    }
    options.onStep?.(i + 1 - firstStep, steps - firstStep, denoised);
  }
  const last = steps - firstStep;
  trajectory.states.set(x, last * batch * dim);
  trajectory.x0Hat.set(x, last * batch * dim);
  trajectory.evaluations.fill(evaluations, last * batch, (last + 1) * batch);
  return trajectory;
}

/** Converts σ-form states [state][b][D] to the model's convention in place order (new array). */
export function toModelConvention(states: Float32Array, sigmas: Float64Array, batchDim: number, denoiser: Denoiser): Float32Array {
  const out = new Float32Array(states.length);
  for (let j = 0; j < sigmas.length; j++) {
    const scale = denoiser.schedule.modelScale(sigmas[j]!);
    for (let k = 0; k < batchDim; k++) out[j * batchDim + k] = states[j * batchDim + k]! * scale;
  }
  return out;
}
