import { describe, expect, it } from 'vitest';
import { resolveRunSettings } from '../../../electron/engine/analysis/context';
import { symmetrizedEigen } from '../../../electron/engine/analysis/eigen';
import { jacobianDirections } from '../../../electron/engine/analysis/jacobian';
import { DEFAULT_ENERGY_THRESHOLD, REGION_ENERGY_THRESHOLD, localDirections, regionWeights } from '../../../electron/engine/analysis/local-directions';
import { Random } from '../../../electron/engine/rng';
import { exactJacobian, spatialGaussian } from '../../helpers/spatial-gaussian';

const model = spatialGaussian(16);
const { dim, side, denoiser, gaussian } = model;
const run = resolveRunSettings({ steps: 10, seeds: [0] }, denoiser);
const sigma = 3;
const random = new Random(7);
const state = Float32Array.from({ length: dim }, () => sigma * random.normal());
const J = exactJacobian(gaussian, sigma);

/** a·diag(w)·b for D×D matrices. */
function sandwich(a: Float64Array, w: ArrayLike<number>, b: Float64Array): Float64Array {
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const aik = a[i * dim + k]! * w[k]!;
      if (aik === 0) continue;
      for (let j = 0; j < dim; j++) out[i * dim + j]! += aik * b[k * dim + j]!;
    }
  }
  return out;
}

function topVectors(matrix: Float64Array, count: number): { values: number[]; rows: Float64Array } {
  const { values, vectors } = symmetrizedEigen(matrix, dim);
  const rows = new Float64Array(count * dim);
  for (let j = 0; j < count; j++) for (let i = 0; i < dim; i++) rows[j * dim + i] = vectors[i * dim + j]!;
  return { values: Array.from(values.subarray(0, count)), rows };
}

/** Angle in degrees between two lines (sign ignored). */
function angle(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < dim; i++) {
    dot += a[aOffset + i]! * b[bOffset + i]!;
    na += a[aOffset + i]! ** 2;
    nb += b[bOffset + i]! ** 2;
  }
  return (Math.acos(Math.min(1, Math.abs(dot) / Math.sqrt(na * nb))) * 180) / Math.PI;
}

/** A square region of the 16×16 image (rows and columns from…to, inclusive). */
function squareMask(top: number, left: number, size: number): Float32Array {
  const mask = new Float32Array(side * side);
  for (let y = top; y < top + size; y++) for (let x = left; x < left + size; x++) mask[y * side + x] = 1;
  return mask;
}

/**
 * The method in closed form: the top-R eigenvectors Q of J (I − M) J span what changes the outside most; the
 * directions are the top-k eigenvectors of P (J M J) P, P = I − QQᵀ. Also the unconstrained top eigenvectors of J M J.
 */
function exactLocal(mask: Float32Array, k: number, rank: number): { unconstrained: Float64Array; restricted: Float64Array; outsideEnergies: number[] } {
  const weights = regionWeights(mask, denoiser.image);
  const insideMatrix = sandwich(J, weights, J);
  const inside = topVectors(insideMatrix, k);
  const outside = topVectors(
    sandwich(
      J,
      Array.from(weights, (w) => 1 - w),
      J,
    ),
    dim,
  );
  const projector = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) projector[i * dim + i] = 1;
  for (let r = 0; r < rank; r++) {
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) projector[i * dim + j]! -= outside.rows[r * dim + i]! * outside.rows[r * dim + j]!;
  }
  const restricted = topVectors(sandwich(projector, new Float64Array(dim).fill(1), sandwich(insideMatrix, new Float64Array(dim).fill(1), projector)), k);
  return { unconstrained: inside.rows, restricted: restricted.rows, outsideEnergies: outside.values.map((v) => Math.max(v, 0)) };
}

const options = { blockSize: 4, fdStep: 0.05, maxBatch: 64, seed: 1 };

describe('local directions (LOCO Edit with finite differences) on a Gaussian whose Jacobian is known', () => {
  it('masked, projected directions match the closed form within 2°', { timeout: 180_000 }, async () => {
    const mask = squareMask(2, 3, 4);
    const k = 3;
    const rank = 8;
    const exact = exactLocal(mask, k, rank);
    const found = await localDirections(denoiser, state, sigma, run, regionWeights(mask, denoiser.image), { ...options, k, budget: 600, toleranceDeg: 2, nullSpaceRank: rank, support: 'free' });
    expect(found.found).toBe(k);
    expect(found.nullSpaceRank).toBe(rank);
    expect(found.rankChosenBy).toBe('user');
    // The search stopped on its own, before it spanned all of R^D (where it would be exact by construction).
    expect(found.forwardPasses).toBeLessThan(600);
    expect(found.spaceSize).toBeLessThan(dim);
    for (let j = 0; j < k; j++) {
      // Measured ≤ 0.2° after 400 passes; 2° as the issue asks.
      expect(angle(found.unconstrained.directions, j * dim, exact.unconstrained, j * dim)).toBeLessThan(2);
      expect(angle(found.directions, j * dim, exact.restricted, j * dim)).toBeLessThan(2);
    }
    // The Gaussian's Jacobian is symmetric: nothing is dropped by standing in J for Jᵀ (measured 3e-4, the float32 rounding of
    // the analytic denoiser's output over 2h, against 0.1–0.25 for the bundled network).
    expect(found.asymmetry).toBeLessThan(1e-3);
    // The null space keeps the change inside: the linear inside share of each direction beats the unconstrained one's.
    const weights = regionWeights(mask, denoiser.image);
    const share = (v: ArrayLike<number>, offset: number): number => {
      let inside = 0;
      let total = 0;
      for (let i = 0; i < dim; i++) {
        let jv = 0;
        for (let p = 0; p < dim; p++) jv += J[i * dim + p]! * v[offset + p]!;
        inside += weights[i]! * jv * jv;
        total += jv * jv;
      }
      return inside / total;
    };
    for (let j = 0; j < k; j++) {
      expect(Math.abs(found.insideShare[j]! - share(exact.restricted, j * dim))).toBeLessThan(0.01);
      expect(share(exact.restricted, j * dim)).toBeGreaterThan(share(exact.unconstrained, j * dim));
    }
  });

  it('chooses the null-space rank by explained energy, close to the closed form, and matches it at that rank', { timeout: 180_000 }, async () => {
    const mask = squareMask(5, 5, 3);
    const found = await localDirections(denoiser, state, sigma, run, regionWeights(mask, denoiser.image), { ...options, k: 2, budget: 480, toleranceDeg: 2, support: 'free' });
    const exact = exactLocal(mask, 2, 0);
    const total = exact.outsideEnergies.reduce((a, b) => a + b, 0);
    let rank = 0;
    let carried = 0;
    while (carried < DEFAULT_ENERGY_THRESHOLD * total) carried += exact.outsideEnergies[rank++]!;
    expect(found.rankChosenBy).toBe('energy');
    expect(found.explainedEnergy).toBeGreaterThanOrEqual(DEFAULT_ENERGY_THRESHOLD);
    // The threshold applies to the outside energy the search space holds, a little less than the total, so R may
    // fall short of the closed form's by a few (measured 20 against 22).
    expect(found.nullSpaceRank).toBeLessThanOrEqual(rank);
    expect(found.nullSpaceRank).toBeGreaterThanOrEqual(rank - 4);
    const restricted = exactLocal(mask, 2, found.nullSpaceRank).restricted;
    for (let j = 0; j < 2; j++) expect(angle(found.directions, j * dim, restricted, j * dim)).toBeLessThan(2);
  });

  it('a region of the whole image reproduces the global Jacobian directions', async () => {
    const k = 3;
    const found = await localDirections(denoiser, state, sigma, run, regionWeights(new Float32Array(side * side).fill(1), denoiser.image), { ...options, k, budget: 240, toleranceDeg: 1 });
    const global = await jacobianDirections(denoiser, state, sigma, run, { ...options, k, budget: 240, toleranceDeg: 1 });
    expect(found.nullSpaceRank).toBe(0);
    expect(found.support).toBe('free'); // 256 pixels need 512 passes: more than the budget, so the search runs free
    for (let j = 0; j < k; j++) {
      expect(found.insideShare[j]).toBeCloseTo(1, 9);
      // Both are the data's top eigenvectors u_j (J's eigenvalues are distinct here); measured ≤ 0.01°.
      expect(angle(found.directions, j * dim, global.directions, j * dim)).toBeLessThan(2);
      const u = Float64Array.from({ length: dim }, (_, i) => gaussian.eigvecs[i * gaussian.rank + j]!);
      expect(angle(found.directions, j * dim, u, 0)).toBeLessThan(2);
    }
    // With the budget for all 256 pixels, the whole image is the region's support: J measured in full, exact.
    const exact = await localDirections(denoiser, state, sigma, run, regionWeights(new Float32Array(side * side).fill(1), denoiser.image), { ...options, k, budget: 512 });
    expect(exact.support).toBe('region');
    expect(exact.nullSpaceRank).toBe(0);
    for (let j = 0; j < k; j++) {
      const u = Float64Array.from({ length: dim }, (_, i) => gaussian.eigvecs[i * gaussian.rank + j]!);
      expect(angle(exact.directions, j * dim, u, 0)).toBeLessThan(2);
    }
  });

  it('on the region\'s support: J applied to each of its pixels, and the closed form restricted to them, within 2°', async () => {
    const mask = squareMask(2, 3, 4);
    const weights = regionWeights(mask, denoiser.image);
    const k = 3;
    const found = await localDirections(denoiser, state, sigma, run, weights, { ...options, k, budget: 600 });
    const pixels = Array.from(weights.keys()).filter((i) => weights[i]! > 0);
    expect(found.support).toBe('region'); // 'auto': 16 pixels fit the budget
    expect(found.supportSize).toBe(16);
    expect(found.forwardPasses).toBe(32);
    expect(found.found).toBe(k);
    expect(found.convergenceDeg).toEqual([0, 0, 0]);
    expect(found.energyThreshold).toBe(REGION_ENERGY_THRESHOLD);
    // The closed form on the span of the region's pixels E: A = (JE)ᵀ M (JE), B = (JE)ᵀ (I − M)(JE), both p × p;
    // R by explained energy of B; the directions are the top eigenvectors of P A P, P = I − QQᵀ (Q: B's top R).
    const p = pixels.length;
    const je = (i: number, a: number): number => J[i * dim + pixels[a]!]!;
    const gram = (w: (i: number) => number): Float64Array => {
      const out = new Float64Array(p * p);
      for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) for (let i = 0; i < dim; i++) out[a * p + b]! += je(i, a) * w(i) * je(i, b);
      return out;
    };
    const inside = gram((i) => weights[i]!);
    const outside = symmetrizedEigen(gram((i) => 1 - weights[i]!), p);
    const total = Array.from(outside.values).reduce((a, b) => a + Math.max(b, 0), 0);
    let rank = 0;
    let carried = 0;
    while (carried < REGION_ENERGY_THRESHOLD * total) carried += Math.max(outside.values[rank++]!, 0);
    expect(Math.abs(found.nullSpaceRank - rank)).toBeLessThanOrEqual(1);
    const projector = new Float64Array(p * p);
    for (let a = 0; a < p; a++) projector[a * p + a] = 1;
    for (let r = 0; r < found.nullSpaceRank; r++) {
      for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) projector[a * p + b]! -= outside.vectors[a * p + r]! * outside.vectors[b * p + r]!;
    }
    const product = (x: Float64Array, y: Float64Array): Float64Array => {
      const out = new Float64Array(p * p);
      for (let a = 0; a < p; a++) for (let c = 0; c < p; c++) for (let b = 0; b < p; b++) out[a * p + b]! += x[a * p + c]! * y[c * p + b]!;
      return out;
    };
    const exact = symmetrizedEigen(product(projector, product(inside, projector)), p);
    for (let j = 0; j < k; j++) {
      const embedded = new Float64Array(dim);
      pixels.forEach((pixel, a) => (embedded[pixel] = exact.vectors[a * p + j]!));
      // Measured ≤ 0.01°: the only error is the finite difference's.
      expect(angle(found.directions, j * dim, embedded, 0)).toBeLessThan(2);
      // Nothing outside the region moves.
      for (let i = 0; i < dim; i++) if (weights[i] === 0) expect(found.directions[j * dim + i]).toBe(0);
    }
  });

  it('a halo widens the support; a region too large for the budget runs free, or is refused when region support is asked for', async () => {
    const weights = regionWeights(squareMask(5, 5, 3), denoiser.image);
    const haloed = await localDirections(denoiser, state, sigma, run, weights, { ...options, k: 2, budget: 600, halo: 1 });
    expect(haloed.supportSize).toBe(25);
    expect(haloed.forwardPasses).toBe(50);
    const free = await localDirections(denoiser, state, sigma, run, weights, { ...options, k: 2, budget: 16, toleranceDeg: 0 });
    expect(free.support).toBe('free');
    expect(free.energyThreshold).toBe(DEFAULT_ENERGY_THRESHOLD);
    await expect(localDirections(denoiser, state, sigma, run, weights, { ...options, k: 2, budget: 16, support: 'region' })).rejects.toThrow(
      /covers 9 values, which needs 18 forward passes; the budget is 16/,
    );
  });

  it('refuses an empty region, a mask of the wrong size and values outside 0…1', () => {
    expect(() => regionWeights(new Float32Array(side * side), denoiser.image)).toThrow(/region is empty/);
    expect(() => regionWeights(new Float32Array(10).fill(1), denoiser.image)).toThrow(/16×16/);
    expect(() => regionWeights(new Float32Array(side * side).fill(2), denoiser.image)).toThrow(/from 0 to 1/);
  });
});

describe('Jacobian directions that converge (issue 13 part 2)', () => {
  const k = 6;
  const truth = Float64Array.from({ length: k * dim }, (_, n) => gaussian.eigvecs[(n % dim) * gaussian.rank + Math.floor(n / dim)]!);

  it('grows the search until every direction asked for moved < 10°, and then each is < 10° from the exact eigenvector', async () => {
    const found = await jacobianDirections(denoiser, state, sigma, run, { ...options, k, budget: 280, toleranceDeg: 10 });
    expect(found.found).toBe(k);
    expect(found.forwardPasses).toBeLessThanOrEqual(280);
    expect(found.spaceSize).toBeLessThan(dim);
    for (let j = 0; j < k; j++) {
      expect(found.convergenceDeg[j]).toBeLessThan(10);
      expect(angle(found.directions, j * dim, truth, j * dim)).toBeLessThan(10);
      expect(found.eigenvalues[j]).toBeCloseTo(gaussian.eigvals[j]! / (gaussian.eigvals[j]! + sigma * sigma), 2);
    }
  });

  it('stops at the cap and shows only the directions that converged', async () => {
    const capped = await jacobianDirections(denoiser, state, sigma, run, { ...options, k, budget: 24, toleranceDeg: 1 });
    expect(capped.forwardPasses).toBeLessThanOrEqual(24);
    expect(capped.found).toBeLessThan(k);
    const tighter = await jacobianDirections(denoiser, state, sigma, run, { ...options, k, budget: 280, toleranceDeg: 1 });
    expect(tighter.forwardPasses).toBeGreaterThan(capped.forwardPasses);
  });
});
