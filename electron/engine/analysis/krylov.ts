/**
 * Top directions of a linear operator known only through batched products
 * A·v (here: finite-difference Jacobian-vector products of a denoiser or of a
 * whole sampling run). A block Krylov space [V, AV, A²V, …] is built with full
 * reorthogonalisation, keeping every product, and then
 * - symmetricRitz: Rayleigh–Ritz for the symmetric part (A + Aᵀ)/2, whose
 *   projection Vᵀ((A + Aᵀ)/2)V = (H + Hᵀ)/2 with H = Vᵀ(AV) needs no Aᵀ
 *   (block Lanczos for a symmetric A; the "symmetrised" Jacobian for a network);
 * - restrictedSvd: the singular values and vectors of A restricted to the
 *   space, from the products alone (lower bounds that converge to the top
 *   singular triplets as the space captures them).
 * @see Golub & Underwood 1977, "The block Lanczos method for computing eigenvalues"
 * @see Musco & Musco 2015, "Randomized block Krylov methods for stronger and faster approximate singular value decomposition"
 */
import { PainterError } from '../errors';
import { Random } from '../rng';
import { symmetrizedEigen } from './eigen';
import { orthonormalizeRows } from './linalg';

/** Applies A to `count` vectors (rows of length dim) and returns A·v for each, same layout. */
export type BlockOperator = (block: Float64Array, count: number) => Promise<Float64Array>;

export interface KrylovOptions {
  dim: number;
  blockSize: number;
  /** Operator applications (blocks); the space has at most blockSize · blocks vectors. */
  blocks: number;
  seed: number;
}

export interface KrylovSpace {
  dim: number;
  /** Orthonormal basis rows [m][dim]. */
  basis: Float64Array;
  /** A·basis, rows [m][dim]. */
  images: Float64Array;
  size: number;
  /** Size of the space before the last block was added. */
  previousSize: number;
}

export const KRYLOV_STREAM = 0x4b52;

export async function blockKrylov(apply: BlockOperator, options: KrylovOptions, onBlock?: (done: number, total: number) => void): Promise<KrylovSpace> {
  const { dim, blockSize, blocks } = options;
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > dim || !Number.isInteger(blocks) || blocks < 1) {
    throw new PainterError('BAD_ARGUMENT', `A block Krylov space needs 1 ≤ block size ≤ D = ${dim} and at least one block; got block ${blockSize}, ${blocks} blocks.`);
  }
  const capacity = Math.min(dim, blockSize * blocks);
  const basis = new Float64Array(capacity * dim);
  const images = new Float64Array(capacity * dim);
  let size = 0;
  let previousSize = 0;
  const random = new Random(options.seed, KRYLOV_STREAM);
  const start = Float64Array.from({ length: blockSize * dim }, () => random.normal());
  let block = orthonormalizeRows(start, blockSize, dim);
  for (let iteration = 0; iteration < blocks && block.count > 0; iteration++) {
    const count = Math.min(block.count, capacity - size);
    if (count === 0) break;
    const rows = block.rows.subarray(0, count * dim);
    const products = await apply(Float64Array.from(rows), count);
    if (products.length !== count * dim) throw new PainterError('INTERNAL', `The block operator returned ${products.length} values for ${count}×${dim}.`);
    basis.set(rows, size * dim);
    images.set(products, size * dim);
    previousSize = size;
    size += count;
    onBlock?.(iteration + 1, blocks);
    if (iteration + 1 < blocks) block = orthonormalizeRows(products, count, dim, { rows: basis.subarray(0, size * dim), count: size });
  }
  return { dim, basis: basis.slice(0, size * dim), images: images.slice(0, size * dim), size, previousSize };
}

/** rows·coefficients: Σ_p z[p] row_p for each of k coefficient columns of an m×m column matrix. */
function combine(rows: Float64Array, m: number, dim: number, vectors: Float64Array, column: number): Float64Array {
  const out = new Float64Array(dim);
  for (let p = 0; p < m; p++) {
    const z = vectors[p * m + column]!;
    if (z === 0) continue;
    for (let i = 0; i < dim; i++) out[i]! += z * rows[p * dim + i]!;
  }
  return out;
}

export interface RitzPairs {
  /** Eigenvalues of the symmetrised operator in the space, descending. */
  values: number[];
  /** Ritz vectors as unit rows [k][dim]. */
  vectors: Float64Array;
  /**
   * ‖A y − θ y‖ for each pair, with A itself: for a non-symmetric A this includes A's skew part, so it
   * measures convergence only for a symmetric A.
   */
  residuals: number[];
  /** |θ_j − θ_j'|, θ' the Ritz values before the last block: how much the last block still moved each value. */
  convergence: number[];
  /** ‖(H − Hᵀ)/2‖_F / ‖H‖_F, the skew share of the projected operator: 0 for a symmetric A. */
  asymmetry: number;
}

export function symmetricRitz(space: KrylovSpace, k: number): RitzPairs {
  const { size: m, dim, basis, images } = space;
  const h = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) {
      let sum = 0;
      for (let i = 0; i < dim; i++) sum += basis[p * dim + i]! * images[q * dim + i]!;
      h[p * m + q] = sum;
    }
  }
  let skew = 0;
  let total = 0;
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) {
      skew += (h[p * m + q]! - h[q * m + p]!) ** 2;
      total += h[p * m + q]! ** 2;
    }
  }
  const { values, vectors } = symmetrizedEigen(h, m);
  const count = Math.min(k, m);
  const before = space.previousSize;
  const leading = new Float64Array(before * before);
  for (let p = 0; p < before; p++) for (let q = 0; q < before; q++) leading[p * before + q] = h[p * m + q]!;
  const previous = before > 0 ? symmetrizedEigen(leading, before).values : new Float64Array(0);
  const convergence = Array.from({ length: count }, (_, j) => (j < previous.length ? Math.abs(values[j]! - previous[j]!) : Number.NaN));
  const out = new Float64Array(count * dim);
  const residuals: number[] = [];
  for (let j = 0; j < count; j++) {
    const y = combine(basis, m, dim, vectors, j);
    const ay = combine(images, m, dim, vectors, j);
    let residual = 0;
    for (let i = 0; i < dim; i++) residual += (ay[i]! - values[j]! * y[i]!) ** 2;
    residuals.push(Math.sqrt(residual));
    out.set(y, j * dim);
  }
  return { values: Array.from(values.subarray(0, count)), vectors: out, residuals, convergence, asymmetry: total === 0 ? 0 : Math.sqrt(skew / total) / 2 };
}

export interface SingularTriplets {
  /** Singular values of A restricted to the space, descending. */
  values: number[];
  /** Input-space (right) singular vectors, unit rows [k][dim]. */
  right: Float64Array;
  /** Output-space (left) singular vectors, unit rows [k][dim]. */
  left: Float64Array;
}

export function restrictedSvd(space: KrylovSpace, k: number): SingularTriplets {
  const { size: m, dim, basis, images } = space;
  const gram = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = p; q < m; q++) {
      let sum = 0;
      for (let i = 0; i < dim; i++) sum += images[p * dim + i]! * images[q * dim + i]!;
      gram[p * m + q] = sum;
      gram[q * m + p] = sum;
    }
  }
  const { values, vectors } = symmetrizedEigen(gram, m);
  const count = Math.min(k, m);
  const right = new Float64Array(count * dim);
  const left = new Float64Array(count * dim);
  const singular: number[] = [];
  for (let j = 0; j < count; j++) {
    const s = Math.sqrt(Math.max(values[j]!, 0));
    singular.push(s);
    right.set(combine(basis, m, dim, vectors, j), j * dim);
    const image = combine(images, m, dim, vectors, j);
    if (s > 0) for (let i = 0; i < dim; i++) left[j * dim + i] = image[i]! / s;
  }
  return { values: singular, right, left };
}
