/**
 * The noise levels a sampler walks, without the final 0: ρ-spaced grids
 * (Karras et al.) and the `tuned` grids, which depend on the sampler.
 *
 * Every grid is in the σ form of DESIGN.md §2 for pixel data in [−1, 1]
 * (latents scaled to unit variance alike): its constants are data-scale σ.
 *
 * Why a grid per sampler. On a Gaussian every sampler step acts on each
 * eigen-direction of variance λ by a scalar (sampler-accuracy.ts), and its
 * local error depends only on the step's size h in log σ and on u = σ²/λ:
 * for Euler (DDIM) it is ≈ −h²/2 · u/(1 + u)², a bump around the
 * direction's commitment σ = √λ (DESIGN.md §2); the ancestral step's variance
 * deficit, (σ² − σ'²)² λ / (σ²(λ + σ²)), has the same order and place; Heun's
 * error is one order higher. The final image's error weighs a direction by
 * λ, so a first-order sampler's total error is ∝ ∫ h(σ) W(σ) d log σ with
 *   W(σ) = Σ_k λ_k · u_k/(1 + u_k)²,  u_k = σ²/λ_k,
 * and for a fixed number of steps (∫ d log σ / h = n) it is least when the
 * step density in log σ is ∝ √W: the `spectral` grid (Euler, ancestral).
 *
 * W is that of a reference spectrum, not of the model, so that a schedule's
 * grid does not depend on which statistics are at hand: the power law
 * λ_k = 100·k^−1.5 (k = 1 … 4096). Natural images fall off as k^−1 to k^−1.5
 * (Fashion-MNIST ≈ 79·k^−1.35, the bundled emoji ≈ 177·k^−1.2), and for a
 * power law √W ∝ σ^(1 − 1/α) inside the spectrum's range: there the grid is
 * ρ-spaced with ρ = 3 (where Karras et al. found truncation error nearly
 * equal across σ), and it thins out above √λ_max, where nothing forms yet,
 * and below the smallest variances. The levels sit at equal quantiles of
 * the density: step i ends where i/n of its mass lies above, and the last
 * level leaves 1/n below it for the final step to σ = 0 (a first-order step
 * for every sampler).
 *
 * Heun takes a ρ-spaced grid instead: for a second-order method the optimal
 * density, W^(1/3), is ρ-spaced with ρ ≈ 4.5 inside the same range, while
 * its final step to σ = 0 stays first order, so it must end lower than the
 * first-order samplers' grids: {@link heunSigmas} is ρ = 4 from
 * {@link KARRAS_SIGMA_TOP} (after one jump from a higher σ_max, which Heun
 * integrates in 1/σ) down to a floor of 4·n^(−3/2), chosen on the closed form
 * between the floors c/n and c/n² (it reaches σ_min = 0.002 at 200 steps).
 *
 * `npm run bench:samplers` measures the result against the linear schedule's
 * DDIM grid; tests/engine/samplers.test.ts holds it to be at least as accurate.
 * @see Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", §3 and eq. 5
 * @see Sabour, Fidler & Kreis 2024, "Align Your Steps: Optimizing Sampling Schedules in Diffusion Models"
 */
import type { SamplerName } from '../api/contract';

/**
 * Top of the ρ-spaced part of a `karras` grid: Karras et al.'s σ_max for
 * pixel data in [−1, 1]. Above it every image is still pure noise at the
 * data's scale, so one DDIM/Euler step from σ_max to here is nearly exact
 * (its relative error along a data direction of variance λ is ≈ λ/(2·80²)).
 */
export const KARRAS_SIGMA_TOP = 80;

/** The reference spectrum of the `spectral` grid: λ_k = largest · k^−exponent, k = 1 … count. */
export const REFERENCE_SPECTRUM = { largest: 100, exponent: 1.5, count: 4096 } as const;

/** ρ of Heun's tuned grid. */
export const HEUN_RHO = 4;

/** Heun's tuned grid ends at σ = HEUN_FLOOR · steps^(−3/2) (or the schedule's σ_min, if higher). */
export const HEUN_FLOOR = 4;

/**
 * `count` values uniform in σ^(1/ρ) from `high` down to `low`:
 * σ_i = (high^(1/ρ) + i/(count−1)·(low^(1/ρ) − high^(1/ρ)))^ρ, the two ends exact.
 * @see Karras et al. 2022, eq. 5
 */
export function rhoSpacedSigmas(high: number, low: number, count: number, rho = 7): Float64Array {
  const result = new Float64Array(count);
  const a = high ** (1 / rho);
  const b = low ** (1 / rho);
  for (let i = 1; i + 1 < count; i++) result[i] = (a + (i / (count - 1)) * (b - a)) ** rho;
  result[0] = high;
  if (count > 1) result[count - 1] = low;
  return result;
}

/**
 * The `karras` grid's `steps` noise levels: ρ-spaced from σ_max down to
 * σ_min when σ_max ≤ {@link KARRAS_SIGMA_TOP}; otherwise σ_max, then
 * `steps − 1` values ρ-spaced from the top down to σ_min (3 steps or more),
 * so the first step is one jump across the range where nothing forms.
 * Spending ρ-spaced steps up there instead (σ_max^(1/7) = 4.1 for
 * σ_max = 2·10⁴ against 1.9 for 80) would leave a third fewer for the range
 * where the image forms.
 */
export function karrasSigmas(sigmaMax: number, sigmaMin: number, steps: number, rho = 7): Float64Array {
  // With 2 steps a jump would end the run at the top: the grid is then σ_max, σ_min.
  if (sigmaMax <= KARRAS_SIGMA_TOP || steps <= 2) return rhoSpacedSigmas(sigmaMax, sigmaMin, steps, rho);
  const result = new Float64Array(steps);
  result[0] = sigmaMax;
  result.set(rhoSpacedSigmas(Math.max(KARRAS_SIGMA_TOP, sigmaMin), sigmaMin, steps - 1, rho), 1);
  return result;
}

/** Heun's tuned grid: {@link karrasSigmas} with ρ = {@link HEUN_RHO}, ending at HEUN_FLOOR · steps^(−3/2). */
export function heunSigmas(sigmaMax: number, sigmaMin: number, steps: number): Float64Array {
  const floor = HEUN_FLOOR * steps ** -1.5;
  const low = floor > sigmaMin && floor < Math.min(sigmaMax, KARRAS_SIGMA_TOP) ? floor : sigmaMin;
  return karrasSigmas(sigmaMax, low, steps, HEUN_RHO);
}

/** Lattice of the spectral density: log σ from −12 to 12 (6·10⁻⁶ to 1.6·10⁵) in steps of 1/128. */
const LOG_LOW = -12;
const LOG_HIGH = 12;
const CELLS = (LOG_HIGH - LOG_LOW) * 128;
const CELL = (LOG_HIGH - LOG_LOW) / CELLS;

let cumulativeDensity: Float64Array | null = null;

/** Mass of the density √W below each lattice edge (entry j: below cell j), built once. */
function spectralCumulative(): Float64Array {
  if (cumulativeDensity !== null) return cumulativeDensity;
  const { largest, exponent, count } = REFERENCE_SPECTRUM;
  const lambdas = Float64Array.from({ length: count }, (_, k) => largest * (k + 1) ** -exponent);
  const table = new Float64Array(CELLS + 1);
  for (let j = 0; j < CELLS; j++) {
    const sigmaSquared = Math.exp(2 * (LOG_LOW + (j + 0.5) * CELL));
    let w = 0;
    for (const lambda of lambdas) {
      const u = sigmaSquared / lambda;
      w += (lambda * u) / ((1 + u) * (1 + u));
    }
    table[j + 1] = table[j]! + Math.sqrt(w);
  }
  cumulativeDensity = table;
  return table;
}

/** Mass below log σ = x, linear inside a cell, clamped to the lattice. */
function massBelow(table: Float64Array, x: number): number {
  const position = Math.min(Math.max((x - LOG_LOW) / CELL, 0), CELLS);
  const j = Math.min(Math.floor(position), CELLS - 1);
  return table[j]! + (position - j) * (table[j + 1]! - table[j]!);
}

/** The log σ below which the mass is `mass` (inverse of {@link massBelow}). */
function logSigmaAtMass(table: Float64Array, mass: number): number {
  let low = 0;
  let high = CELLS;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (table[mid]! <= mass) low = mid;
    else high = mid;
  }
  const width = table[low + 1]! - table[low]!;
  const within = width > 0 ? Math.min(Math.max((mass - table[low]!) / width, 0), 1) : 0;
  return LOG_LOW + (low + within) * CELL;
}

/**
 * The `spectral` grid's `steps` noise levels: σ_max, then the levels that cut
 * the density √W between σ_min and σ_max into `steps` equal parts, the last
 * part below the last level. Strictly decreasing, all within [σ_min, σ_max].
 */
export function spectralSigmas(sigmaMax: number, sigmaMin: number, steps: number): Float64Array {
  const table = spectralCumulative();
  const top = massBelow(table, Math.log(sigmaMax));
  const bottom = massBelow(table, Math.log(sigmaMin));
  const result = new Float64Array(steps);
  result[0] = sigmaMax;
  for (let i = 1; i < steps; i++) {
    const level = Math.exp(logSigmaAtMass(table, top - (i / steps) * (top - bottom)));
    // The density is positive everywhere, so levels decrease; the clamp only guards rounding at the ends.
    result[i] = Math.min(Math.max(level, sigmaMin), result[i - 1]! * (1 - 1e-12));
  }
  return result;
}

/** The `tuned` grid of a sampler: {@link spectralSigmas} for Euler and the ancestral sampler, {@link heunSigmas} for Heun. */
export function tunedSigmas(sigmaMax: number, sigmaMin: number, steps: number, sampler: SamplerName): Float64Array {
  return sampler === 'heun' ? heunSigmas(sigmaMax, sigmaMin, steps) : spectralSigmas(sigmaMax, sigmaMin, steps);
}
