/**
 * How accurate a sampler × σ grid is, in closed form, on a Gaussian with
 * eigenvalues λ_k (DESIGN.md §2). On a Gaussian every sampler step acts on
 * each eigen-direction by a scalar, so a whole run is a product of scalars:
 *
 * - Euler (DDIM):   g = s + r(1 − s),     s = λ/(λ + σ²), r = σ'/σ,
 * - Heun:           g = 1 + (σ' − σ)/2 · ((1 − s)/σ + (1 − s')·g_E/σ'),
 *   and on a jump (samplers.ts, `isJump`): g = r + (1 − r)/2 · (s + s'·g_E),
 * - ancestral:      g = s + (σ_down/σ)(1 − s), variance v' = g²v + σ_up²,
 * - last step (σ' = 0): g = s.
 *
 * The exact probability-flow map from σ_T to 0 is g* = √(λ/(σ_T² + λ)). With
 * x_T isotropic, the endpoint's relative RMS error over x_T is
 *   √(Σ_k (G_k − g*_k)² / Σ_k g*_k²),
 * and for the ancestral sampler, whose endpoint is random, the relative
 * 2-Wasserstein distance of its samples' law from the Gaussian:
 *   √(Σ_k (√V_k − √λ_k)² / Σ_k λ_k).
 * tests/engine/sampler-accuracy.test.ts checks both against real runs.
 */
import type { SamplerName } from '../api/contract';
import type { GaussianModel } from './denoisers/gaussian';
import { isJump } from './samplers';
import type { NoiseSchedule } from './schedules';

export interface SamplerAccuracy {
  /**
   * `endpoint`: relative RMS of the final image from the exact
   * probability-flow endpoint of the same x_T (Euler, Heun);
   * `distribution`: relative 2-Wasserstein distance of the samples' law from
   * the Gaussian (ancestral, whose endpoint is random).
   */
  measure: 'endpoint' | 'distribution';
  relativeError: number;
}

/**
 * The estimated error above which the studio warns: 20 %, which on
 * Fashion-MNIST's spectrum Euler exceeds below 9 steps (11 on the linear
 * schedule's DDIM grid), Heun below 7–8 (10) and the ancestral sampler below
 * 15 (17); at the default 50 steps they are at 3.6–3.8 % (4.9), 0.4 % (0.75)
 * and 7.0–7.3 % (8.6).
 */
export const ACCURACY_WARNING = 0.2;

/**
 * What a run does to one eigen-direction of variance λ: the gain G on its
 * coefficient (Euler, Heun: x_0 = G·x_T along it) and the variance V of the
 * final coefficient when the start has variance `startVariance` (ancestral:
 * V = Π g² · v_T + the injected noise).
 */
export function directionTransfer(sampler: SamplerName, sigmas: ArrayLike<number>, lambda: number, startVariance: number): { gain: number; variance: number } {
  let gain = 1;
  let variance = startVariance;
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const sigma = sigmas[i]!;
    const next = sigmas[i + 1]!;
    const shrink = lambda / (lambda + sigma * sigma);
    if (next === 0) {
      gain *= shrink;
      variance *= shrink * shrink;
      continue;
    }
    const ratio = next / sigma;
    const euler = shrink + ratio * (1 - shrink);
    let step: number;
    let injected = 0;
    if (sampler === 'euler') {
      step = euler;
    } else if (sampler === 'heun') {
      const trialShrink = lambda / (lambda + next * next);
      step = isJump(sigma, next)
        ? ratio + 0.5 * (1 - ratio) * (shrink + trialShrink * euler)
        : 1 + 0.5 * (next - sigma) * ((1 - shrink) / sigma + ((1 - trialShrink) * euler) / next);
    } else {
      const down = (next * next) / sigma;
      step = shrink + (down / sigma) * (1 - shrink);
      injected = (next * next * (sigma * sigma - next * next)) / (sigma * sigma);
    }
    gain *= step;
    variance = step * step * variance + injected;
  }
  return { gain, variance };
}

/**
 * Closed-form accuracy of `sampler` on the grid `sigmas` (descending, ending
 * at 0) for a Gaussian with eigenvalues `spectrum` (λ_k ≥ 0), each direction
 * starting with variance `startVariance` (σ_T², or 1 + σ_T² for a VP model's
 * unit-variance x_T).
 */
export function samplerAccuracy(sampler: SamplerName, sigmas: ArrayLike<number>, spectrum: ArrayLike<number>, startVariance: number): SamplerAccuracy {
  const sigmaStart = sigmas[0]!;
  let errorSquared = 0;
  let sizeSquared = 0;
  for (let k = 0; k < spectrum.length; k++) {
    const lambda = Math.max(spectrum[k]!, 0);
    const { gain, variance } = directionTransfer(sampler, sigmas, lambda, startVariance);
    if (sampler === 'ddpm') {
      errorSquared += (Math.sqrt(variance) - Math.sqrt(lambda)) ** 2;
      sizeSquared += lambda;
    } else {
      const exact = Math.sqrt(lambda / (sigmaStart * sigmaStart + lambda));
      errorSquared += (gain - exact) ** 2;
      sizeSquared += exact * exact;
    }
  }
  return { measure: sampler === 'ddpm' ? 'distribution' : 'endpoint', relativeError: sizeSquared > 0 ? Math.sqrt(errorSquared / sizeSquared) : 0 };
}

/**
 * A stand-in spectrum for a model without data statistics: 64 variances
 * log-uniform from 10⁻⁴ to 10² times the squared half-width of its pixel
 * range (pixel data in [−1, 1] spans about that: Fashion-MNIST's run from
 * 4·10⁻⁷ to 79).
 */
export function referenceSpectrum(range: readonly [number, number]): Float64Array {
  const half = (range[1] - range[0]) / 2;
  const count = 64;
  return Float64Array.from({ length: count }, (_, k) => half * half * 10 ** (2 - (6 * k) / (count - 1)));
}

/** The variance of x_T along any direction, in σ form. */
export function startVariance(schedule: NoiseSchedule, sigmaStart: number): number {
  return schedule.kind === 'vp' ? 1 + sigmaStart * sigmaStart : sigmaStart * sigmaStart;
}

/** Closed-form accuracy of `steps` steps of `sampler` on the schedule's own grid. */
export function scheduleAccuracy(schedule: NoiseSchedule, sampler: SamplerName, steps: number, spectrum: ArrayLike<number>): SamplerAccuracy {
  const sigmas = schedule.samplingSigmas(steps, sampler);
  return samplerAccuracy(sampler, sigmas, spectrum, startVariance(schedule, sigmas[0]!));
}

/**
 * The fewest steps (up to `limit`) at which the estimated error is at most
 * `threshold`; null when none up to the limit is.
 */
export function minimumSteps(schedule: NoiseSchedule, sampler: SamplerName, spectrum: ArrayLike<number>, threshold = ACCURACY_WARNING, limit = 200): number | null {
  for (let steps = 1; steps <= limit; steps++) {
    let accuracy: SamplerAccuracy;
    try {
      accuracy = scheduleAccuracy(schedule, sampler, steps, spectrum);
    } catch {
      return null; // more steps than the schedule has timesteps
    }
    if (accuracy.relativeError <= threshold) return steps;
  }
  return null;
}

const SAMPLER_LABELS: Record<SamplerName, string> = { euler: 'Euler (DDIM)', heun: 'Heun', ddpm: 'DDPM (ancestral)' };

/**
 * A sentence for the user when `steps` steps of `sampler` are estimated to
 * be more than {@link ACCURACY_WARNING} off; null otherwise. `spectrumSource`
 * says what the estimate rests on (e.g. "the model's data statistics").
 */
export function accuracyWarning(schedule: NoiseSchedule, sampler: SamplerName, steps: number, spectrum: ArrayLike<number>, spectrumSource: string): string | null {
  const accuracy = scheduleAccuracy(schedule, sampler, steps, spectrum);
  if (!(accuracy.relativeError > ACCURACY_WARNING)) return null;
  const percent = accuracy.relativeError >= 10 ? `${Math.round(accuracy.relativeError)}×` : `${(100 * accuracy.relativeError).toPrecision(2)} %`;
  const what =
    accuracy.measure === 'endpoint'
      ? `its final image is about ${percent} off the exact probability-flow solution from the same noise`
      : `its samples' distribution is about ${percent} off the data's (relative 2-Wasserstein distance)`;
  const enough = minimumSteps(schedule, sampler, spectrum);
  const advice = enough === null ? 'Use more steps or another sampler.' : `Use at least ${enough} steps for under ${Math.round(100 * ACCURACY_WARNING)} %.`;
  return `${SAMPLER_LABELS[sampler]} with ${steps} step${steps === 1 ? '' : 's'} is far from converged on this model's schedule: ${what}, estimated in closed form on ${spectrumSource}. ${advice}`;
}

/** Every direction's variance of a Gaussian model: its eigenvalues, and the residual variance for each direction outside span U. */
export function gaussianSpectrum(gaussian: GaussianModel): Float64Array {
  const spectrum = new Float64Array(gaussian.dim);
  spectrum.set(gaussian.eigvals);
  spectrum.fill(gaussian.residualVariance, gaussian.rank);
  return spectrum;
}
