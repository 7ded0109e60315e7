/**
 * The tuned σ grids (sampling-grid.ts) against independent computations:
 * the spectral grid's levels cut the density √W into equal masses (W summed
 * here from its definition, integrated by Simpson's rule), it is ρ = 3
 * spaced where the reference power law lives, and Heun's grid is ρ = 4 to
 * its floor in closed form.
 */
import { describe, expect, it } from 'vitest';
import { HEUN_FLOOR, HEUN_RHO, KARRAS_SIGMA_TOP, REFERENCE_SPECTRUM, heunSigmas, spectralSigmas, tunedSigmas } from '../../electron/engine/sampling-grid';

const { largest, exponent, count } = REFERENCE_SPECTRUM;
const lambdas = Array.from({ length: count }, (_, k) => largest * (k + 1) ** -exponent);

/** √W(σ), W = Σ_k λ_k u/(1 + u)², u = σ²/λ_k. */
function density(sigma: number): number {
  let w = 0;
  for (const lambda of lambdas) {
    const u = (sigma * sigma) / lambda;
    w += (lambda * u) / (1 + u) ** 2;
  }
  return Math.sqrt(w);
}

/** ∫ √W d log σ from `low` to `high`, Simpson's rule on 200 panels. */
function mass(low: number, high: number): number {
  const a = Math.log(low);
  const b = Math.log(high);
  const panels = 200;
  const h = (b - a) / panels;
  let sum = density(low) + density(high);
  for (let i = 1; i < panels; i++) sum += (i % 2 === 1 ? 4 : 2) * density(Math.exp(a + i * h));
  return (sum * h) / 3;
}

describe('the spectral grid (Euler, ancestral)', () => {
  it('cuts the density √W between σ_min and σ_max into equal masses, the last below the last level (to 0.5 %)', () => {
    for (const [high, low, steps] of [
      [80, 0.002, 10],
      [80, 0.002, 50],
      [20291, 0.0064, 20],
      [3, 0.01, 8],
    ] as const) {
      const grid = spectralSigmas(high, low, steps);
      const total = mass(low, high);
      const parts = Array.from(grid, (level, i) => mass(i + 1 < steps ? grid[i + 1]! : low, level));
      // The lattice (1/128 in log σ, linear inside a cell) is the only approximation: well under 0.5 % of a part.
      parts.forEach((part, i) => expect(Math.abs(part / (total / steps) - 1), `${high}→${low}, ${steps} steps, part ${i}`).toBeLessThan(0.005));
    }
  });

  it('is ρ = 3 spaced inside the reference power law\'s range (λ_k ∝ k^−1.5 gives √W ∝ σ^(1/3)), and thins out above it', () => {
    const grid = spectralSigmas(80, 0.002, 400);
    const inside = Array.from(grid).filter((s) => s > 0.1 && s < 1.5);
    const increments = inside.slice(1).map((s, i) => inside[i]! ** (1 / 3) - s ** (1 / 3));
    const mean = increments.reduce((a, b) => a + b, 0) / increments.length;
    // The discrete spectrum's sum differs from the continuous power law by a few per cent at these σ.
    increments.forEach((d) => expect(Math.abs(d / mean - 1)).toBeLessThan(0.05));
    // Above √λ_max = 10 nothing forms: the density falls as 1/σ there, and the first step is longer in log σ
    // than the steps around σ = 1 (where σ^(1/3) spacing gives 3Δ/σ^(1/3)) by more than twice.
    const logStepAt = (sigma: number): number => {
      const i = Array.from(grid).findIndex((s) => s < sigma);
      return Math.log(grid[i - 1]! / grid[i]!);
    };
    expect(Math.log(grid[0]! / grid[1]!)).toBeGreaterThan(2 * logStepAt(1));
  });

  it('starts at σ_max, decreases strictly, stays within [σ_min, σ_max], for any step count and range', () => {
    for (const [high, low] of [
      [80, 0.002],
      [20291, 0.0064],
      [0.5, 0.01],
      [1e5, 1e-5],
    ] as const) {
      for (const steps of [1, 2, 3, 7, 100, 1000]) {
        const grid = spectralSigmas(high, low, steps);
        expect(grid).toHaveLength(steps);
        expect(grid[0]).toBe(high);
        for (let i = 1; i < steps; i++) {
          expect(grid[i]!, `${high}→${low}, ${steps} steps, level ${i}`).toBeLessThan(grid[i - 1]!);
          expect(grid[i]!).toBeGreaterThanOrEqual(low);
        }
      }
    }
  });
});

describe("Heun's tuned grid", () => {
  it(`is ρ = ${HEUN_RHO} from σ_max down to ${HEUN_FLOOR}·n^(−3/2), or σ_min where that is higher (closed form)`, () => {
    const steps = 20;
    const floor = HEUN_FLOOR * steps ** -1.5;
    const grid = heunSigmas(80, 0.002, steps);
    const a = 80 ** (1 / HEUN_RHO);
    const b = floor ** (1 / HEUN_RHO);
    grid.forEach((sigma, i) => expect(sigma / (a + (i / (steps - 1)) * (b - a)) ** HEUN_RHO - 1).toBeCloseTo(0, 12));
    expect(heunSigmas(80, 0.002, 400).at(-1)).toBe(0.002);
  });

  it('jumps from a σ_max above 80 straight to 80 (the step Heun integrates in 1/σ)', () => {
    const grid = heunSigmas(20291, 0.0064, 30);
    expect(grid[0]).toBe(20291);
    expect(grid[1]).toBe(KARRAS_SIGMA_TOP);
    expect(grid.at(-1)).toBeCloseTo(HEUN_FLOOR * 30 ** -1.5, 12);
  });

  it('tunedSigmas picks the grid by sampler', () => {
    expect(tunedSigmas(80, 0.002, 12, 'heun')).toEqual(heunSigmas(80, 0.002, 12));
    expect(tunedSigmas(80, 0.002, 12, 'euler')).toEqual(spectralSigmas(80, 0.002, 12));
    expect(tunedSigmas(80, 0.002, 12, 'ddpm')).toEqual(spectralSigmas(80, 0.002, 12));
  });
});
