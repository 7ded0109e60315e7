/**
 * The denoiser Jacobian's top directions at one state (DESIGN.md §2
 * "Denoiser Jacobian"), found until they have converged: block Krylov
 * iteration on J = ∂x̂0/∂x (σ form) with batched central-difference
 * Jacobian-vector products, Rayleigh–Ritz for the symmetric part
 * (Vᵀ((J + Jᵀ)/2)V = (H + Hᵀ)/2 with H = Vᵀ(JV), no transposed product), and
 * a search space that grows, block by block, until every direction asked
 * for has converged (convergence.ts) or the forward-pass budget is spent.
 * For the Gaussian, J = U diag(λ/(λ+σ²)) Uᵀ.
 * @see Golub & Underwood 1977, "The block Lanczos method for computing eigenvalues"
 */
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { Random } from '../rng';
import { conditionFor, type ResolvedRunSettings } from './context';
import { convergedPrefix, groupAngles, IterateHistory, tiedGroups } from './convergence';
import { symmetrizedEigen } from './eigen';
import { KRYLOV_STREAM, type BlockOperator } from './krylov';
import { orthonormalizeRows } from './linalg';
import { IncrementalGram, ProductBasis } from './product-basis';

export interface PassCounter {
  images: number;
  calls: number;
}

/** Default: a direction counts as found when its estimate moved less than this many degrees. */
export const DEFAULT_TOLERANCE_DEG = 10;
/** Checkpoints every time the search space has grown by this factor. */
const CHECK_GROWTH = 1.25;
/** Ritz vectors kept beyond k, so that a tie at the k-th direction can be seen. */
const EXTRA = 4;

export interface JacobianSearchOptions {
  /** Directions wanted. */
  k: number;
  /** Vectors per Krylov block. */
  blockSize: number;
  /** The most forward passes (images through the denoiser) the search may use. */
  budget: number;
  /** Found = moved less than this (degrees) since half the space's size; 0 spends the whole budget and counts every direction. */
  toleranceDeg: number;
  /** Central-difference step relative to σ (h = fdStep·σ, σ form). */
  fdStep: number;
  /** Images per forward call. */
  maxBatch: number;
  seed: number;
}

export interface JacobianDirections {
  /** Eigenvalues of the symmetrised Jacobian, descending (all k, found or not). */
  eigenvalues: number[];
  /** Unit directions [k][D]. */
  directions: Float32Array;
  /** Per direction: degrees its estimate moved between the space at half its size and now (NaN: not measured). */
  convergenceDeg: number[];
  /** The leading directions that converged below the tolerance: those shown as found. */
  found: number;
  toleranceDeg: number;
  /** Per direction, the other directions tied with it (values within 1 % of the top one): only their span is defined. */
  tiedWith: number[][];
  /** ‖J y − θ y‖ per pair (includes J's skew part for a network). */
  residuals: number[];
  /** Skew share of the projected Jacobian, ‖(H − Hᵀ)/2‖/‖H‖. */
  asymmetry: number;
  /** Forward passes used, and the cap they were allowed. */
  forwardPasses: number;
  budget: number;
  calls: number;
  /** Dimension of the search space at the end. */
  spaceSize: number;
  seconds: number;
}

/** Denoises a large batch in chunks, counting images and calls. */
export async function denoiseChunked(denoiser: Denoiser, x: Float32Array, sigma: number, run: ResolvedRunSettings, maxBatch: number, counter: PassCounter): Promise<Float32Array> {
  const dim = denoiser.dim;
  const count = x.length / dim;
  const out = new Float32Array(x.length);
  for (let start = 0; start < count; start += maxBatch) {
    const size = Math.min(maxBatch, count - start);
    const chunk = x.subarray(start * dim, (start + size) * dim);
    out.set(await denoiser.denoise(chunk, new Float64Array(size).fill(sigma), conditionFor(run, size)), start * dim);
    counter.images += size;
    counter.calls++;
  }
  return out;
}

/** J·v of x̂0 = D(x, σ) at one state by central differences, batched: 2 images per vector. */
export function denoiserJacobianOperator(denoiser: Denoiser, x: Float32Array, sigma: number, run: ResolvedRunSettings, h: number, maxBatch: number, counter: PassCounter): BlockOperator {
  const dim = denoiser.dim;
  return async (block, count) => {
    const input = new Float32Array(2 * count * dim);
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < dim; i++) {
        input[r * dim + i] = x[i]! + h * block[r * dim + i]!;
        input[(count + r) * dim + i] = x[i]! - h * block[r * dim + i]!;
      }
    }
    const out = await denoiseChunked(denoiser, input, sigma, run, maxBatch, counter);
    return Float64Array.from({ length: count * dim }, (_, k) => (out[k]! - out[count * dim + k]!) / (2 * h));
  };
}

/** The finite-difference step for a state at σ (σ form). */
export function fdStepAt(options: { fdStep: number }, sigma: number): number {
  return Math.max(options.fdStep * sigma, 1e-4);
}

/** Random orthonormal start block of the Krylov search. */
export function startBlock(dim: number, size: number, seed: number): { rows: Float64Array; count: number } {
  const random = new Random(seed, KRYLOV_STREAM);
  return orthonormalizeRows(Float64Array.from({ length: size * dim }, () => random.normal()), size, dim);
}

interface RitzEstimate {
  values: number[];
  vectors: Float64Array;
  coefficients: Float64Array;
  count: number;
}

function symmetricRitzOf(basis: ProductBasis, h: Float64Array, m: number, count: number): RitzEstimate {
  const { values, vectors } = symmetrizedEigen(h, m);
  const n = Math.min(count, m);
  const out = new Float64Array(n * basis.dim);
  const coefficients = new Float64Array(n * m);
  for (let j = 0; j < n; j++) {
    const z = Float64Array.from({ length: m }, (_, p) => vectors[p * m + j]!);
    coefficients.set(z, j * m);
    out.set(basis.combine(z, m).vector, j * basis.dim);
  }
  return { values: Array.from(values.subarray(0, n)), vectors: out, coefficients, count: n };
}

/** Top-k directions of the symmetrised denoiser Jacobian at state x, σ, grown until they converge (see the file comment). */
export async function jacobianDirections(
  denoiser: Denoiser,
  x: Float32Array,
  sigma: number,
  run: ResolvedRunSettings,
  options: JacobianSearchOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<JacobianDirections> {
  const started = performance.now();
  const dim = denoiser.dim;
  const { k, budget, toleranceDeg } = options;
  const blockSize = Math.min(options.blockSize, dim);
  if (!Number.isInteger(k) || k < 1 || k > dim) throw new PainterError('BAD_ARGUMENT', `k must be an integer from 1 to ${dim}; got ${k}.`, { k });
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new PainterError('BAD_ARGUMENT', `The Krylov block size must be a positive integer; got ${options.blockSize}.`);
  if (!(budget >= 2 * blockSize)) throw new PainterError('BAD_ARGUMENT', `A budget of ${budget} forward passes cannot fill one block of ${blockSize} (2 per vector).`, { budget, blockSize });
  if (!(toleranceDeg >= 0 && toleranceDeg <= 90)) throw new PainterError('BAD_ARGUMENT', `The convergence tolerance must be 0 to 90 degrees; got ${toleranceDeg}.`);

  const counter: PassCounter = { images: 0, calls: 0 };
  const operator = denoiserJacobianOperator(denoiser, x, sigma, run, fdStepAt(options, sigma), options.maxBatch, counter);
  const basis = new ProductBasis(dim, Math.min(dim, Math.floor(budget / 2)));
  const h = new IncrementalGram(basis, 'rows', 'images');
  const history = new IterateHistory();
  const wanted = Math.min(k + EXTRA, dim);
  let block = startBlock(dim, blockSize, options.seed);
  let nextCheck = Math.max(k, blockSize, 4);
  const state: { estimate: RitzEstimate | null; angles: number[]; checkedAt: number } = { estimate: null, angles: [], checkedAt: -1 };

  const checkpoint = (): boolean => {
    const m = basis.size;
    const estimate = symmetricRitzOf(basis, h.matrix(m), m, wanted);
    const reference = history.reference(m);
    const shown = Math.min(k, estimate.count);
    // A space that fills all of R^D holds the exact answer: nothing is left to converge.
    state.angles =
      m >= dim
        ? new Array<number>(shown).fill(0)
        : reference === null ? new Array<number>(shown).fill(Number.NaN) : groupAngles(estimate.vectors, shown, reference.vectors, reference.count, tiedGroups(estimate.values, shown), dim);
    history.push({ size: m, vectors: estimate.vectors, count: estimate.count });
    state.estimate = estimate;
    state.checkedAt = m;
    nextCheck = Math.ceil(m * CHECK_GROWTH);
    return shown >= k && convergedPrefix(state.angles, toleranceDeg) >= k;
  };

  while (block.count > 0 && basis.size < dim) {
    const count = Math.min(block.count, dim - basis.size, Math.floor((budget - counter.images) / 2));
    if (count < 1) break;
    const rows = block.rows.subarray(0, count * dim);
    const products = await operator(Float64Array.from(rows), count);
    const before = basis.size;
    basis.add(rows, products, count);
    onProgress?.(counter.images, budget);
    const last = counter.images + 2 * blockSize > budget || basis.size >= dim;
    if ((basis.size >= nextCheck || last) && basis.size >= Math.min(k, dim)) {
      if (checkpoint()) break;
    }
    // Krylov: the next block is J applied to the block just added, orthogonalised against the space.
    const added = basis.slice(before, basis.size);
    block = orthonormalizeRows(added.images, basis.size - before, dim, { rows: basis.basis, count: basis.size });
  }
  if (state.checkedAt !== basis.size || state.estimate === null) checkpoint();
  const final = state.estimate!;
  const angles = state.angles;
  const m = basis.size;
  const hm = h.matrix(m);
  let skew = 0;
  let total = 0;
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) {
      skew += (hm[p * m + q]! - hm[q * m + p]!) ** 2;
      total += hm[p * m + q]! ** 2;
    }
  }
  const shown = Math.min(k, final.count);
  const residuals: number[] = [];
  for (let j = 0; j < shown; j++) {
    const { image } = basis.combine(final.coefficients.subarray(j * m, (j + 1) * m), m);
    let residual = 0;
    for (let i = 0; i < dim; i++) residual += (image[i]! - final.values[j]! * final.vectors[j * dim + i]!) ** 2;
    residuals.push(Math.sqrt(residual));
  }
  const groups = tiedGroups(final.values, shown);
  return {
    eigenvalues: final.values.slice(0, shown),
    directions: Float32Array.from(final.vectors.subarray(0, shown * dim)),
    convergenceDeg: angles.slice(0, shown),
    // Tolerance 0: a fixed budget, no convergence test — every direction counts.
    found: toleranceDeg > 0 ? Math.min(shown, convergedPrefix(angles, toleranceDeg)) : shown,
    toleranceDeg,
    tiedWith: groups.map((group, j) => group.filter((i) => i !== j && i < shown)),
    residuals,
    asymmetry: total === 0 ? 0 : Math.sqrt(skew / total) / 2,
    forwardPasses: counter.images,
    budget,
    calls: counter.calls,
    spaceSize: m,
    seconds: (performance.now() - started) / 1000,
  };
}
