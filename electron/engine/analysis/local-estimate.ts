/**
 * The local directions of a search space (local-directions.ts), as small
 * dense problems over its m vectors V with known products JV:
 * - the region: A = M^½ (JV) restricted to the region's pixels, p × m, so that
 *   Vᵀ Jᵀ M J V = Aᵀ A has rank ≤ p and its top eigenvectors come from the
 *   smaller of A Aᵀ (p × p) and Aᵀ A (m × m);
 * - the rest: G_out = (JV)ᵀ (I − M) (JV), m × m, whose top-R eigenvectors Q span
 *   the outside's main directions of change (R by explained energy, or given);
 * - the directions: the top eigenvectors of P Aᵀ A P, P = I − Q Qᵀ, i.e. the
 *   top right singular vectors of A P = A − (A Q) Qᵀ.
 */
import { symmetrizedEigen } from './eigen';
import { orthonormalizeRows } from './linalg';
import type { ProductBasis } from './product-basis';

export interface LocalEstimate {
  /** Inside energy ‖M^{1/2} J v‖² of each direction (the restricted problem's eigenvalues), descending. */
  eigenvalues: number[];
  /** The directions, rows [count][D]: top eigenvectors of Jᵀ M J within the approximate null space. */
  directions: Float64Array;
  /** Their effect on x̂0, J v, as unit rows [count][D]. */
  images: Float64Array;
  strengths: number[];
  insideShare: number[];
  count: number;
  rank: number;
  /** The outside's top-R eigenvectors as coefficient columns over the space, row-major m × R. */
  nullColumns: Float64Array;
  explainedEnergy: number;
  outsideSpectrum: number[];
}

/** Without the null-space constraint, and LOCO Edit's projection of it (for the final report only). */
export interface UnconstrainedEstimate {
  directions: Float64Array;
  eigenvalues: number[];
  insideShare: number[];
  projectedShare: number[];
}

/**
 * Top right singular vectors of B (rows × cols, row-major) through the smaller of B Bᵀ and Bᵀ B: squared
 * singular values and unit vectors in the column space, rows [count][cols] (zero rows for vanishing values).
 */
export function topRightSingular(b: Float64Array, rows: number, cols: number, count: number): { values: number[]; vectors: Float64Array; count: number } {
  const n = Math.min(count, rows, cols);
  const vectors = new Float64Array(n * cols);
  const values: number[] = [];
  if (rows <= cols) {
    const gram = new Float64Array(rows * rows);
    for (let r = 0; r < rows; r++) {
      for (let s = r; s < rows; s++) {
        let sum = 0;
        for (let c = 0; c < cols; c++) sum += b[r * cols + c]! * b[s * cols + c]!;
        gram[r * rows + s] = sum;
        gram[s * rows + r] = sum;
      }
    }
    const eigen = symmetrizedEigen(gram, rows);
    for (let j = 0; j < n; j++) {
      const value = Math.max(eigen.values[j]!, 0);
      values.push(value);
      if (value <= 1e-300) continue;
      const scale = 1 / Math.sqrt(value);
      for (let r = 0; r < rows; r++) {
        const u = eigen.vectors[r * rows + j]! * scale;
        if (u === 0) continue;
        for (let c = 0; c < cols; c++) vectors[j * cols + c]! += u * b[r * cols + c]!;
      }
    }
  } else {
    const gram = new Float64Array(cols * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const brc = b[r * cols + c]!;
        if (brc === 0) continue;
        for (let d = c; d < cols; d++) gram[c * cols + d]! += brc * b[r * cols + d]!;
      }
    }
    for (let c = 0; c < cols; c++) for (let d = 0; d < c; d++) gram[c * cols + d] = gram[d * cols + c]!;
    const eigen = symmetrizedEigen(gram, cols);
    for (let j = 0; j < n; j++) {
      values.push(Math.max(eigen.values[j]!, 0));
      for (let c = 0; c < cols; c++) vectors[j * cols + c] = eigen.vectors[c * cols + j]!;
    }
  }
  return { values, vectors, count: n };
}

/** B C for B (rows × m) and C (m × c), both row-major. */
function times(b: Float64Array, rows: number, m: number, c: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < m; p++) {
      const brp = b[r * m + p]!;
      if (brp === 0) continue;
      for (let j = 0; j < cols; j++) out[r * cols + j]! += brp * c[p * cols + j]!;
    }
  }
  return out;
}

function quadratic(g: Float64Array, m: number, z: ArrayLike<number>): number {
  let sum = 0;
  for (let p = 0; p < m; p++) {
    let row = 0;
    for (let q = 0; q < m; q++) row += g[p * m + q]! * z[q]!;
    sum += z[p]! * row;
  }
  return sum;
}

/** ‖A z‖² for A (rows × m). */
function normSquared(a: Float64Array, rows: number, m: number, z: ArrayLike<number>): number {
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let p = 0; p < m; p++) dot += a[r * m + p]! * z[p]!;
    sum += dot * dot;
  }
  return sum;
}

function unit(values: Float64Array): Float64Array {
  let length = 0;
  for (const v of values) length += v * v;
  length = Math.sqrt(length);
  return length > 0 ? values.map((v) => v / length) : values;
}

/** Inside share ‖A z‖² / (‖A z‖² + zᵀ G_out z) of coefficients z. */
function shareOf(a: Float64Array, p: number, outside: Float64Array, m: number, z: ArrayLike<number>): number {
  const inside = normSquared(a, p, m, z);
  const rest = Math.max(quadratic(outside, m, z), 0);
  return inside + rest > 0 ? inside / (inside + rest) : 0;
}

/** Directions, their images (unit J v) and inside energies from coefficient rows [n][m] over the space. */
function materialise(basis: ProductBasis, coefficients: Float64Array, n: number, m: number): { directions: Float64Array; images: Float64Array } {
  const dim = basis.dim;
  const directions = new Float64Array(n * dim);
  const images = new Float64Array(n * dim);
  for (let j = 0; j < n; j++) {
    const { vector, image } = basis.combine(coefficients.subarray(j * m, (j + 1) * m), m);
    directions.set(vector, j * dim);
    images.set(unit(image), j * dim);
  }
  return { directions, images };
}

export interface LocalProblem {
  basis: ProductBasis;
  m: number;
  /** M^½ (JV) on the region's pixels, p × m. */
  a: Float64Array;
  p: number;
  /** (JV)ᵀ (I − M) (JV), m × m. */
  outside: Float64Array;
}

/** The null-space rank: given, or the fewest outside directions carrying `threshold` of its energy in the space. */
function chooseRank(energies: readonly number[], insideScale: number, m: number, threshold: number, given: number | undefined): number {
  if (given !== undefined) return Math.min(given, m - 1);
  const total = energies.reduce((a, b) => a + b, 0);
  if (total <= 1e-12 * Math.max(insideScale, 1e-300)) return 0; // nothing outside moves: the region is the whole image
  let rank = 0;
  let cumulative = 0;
  while (rank < m - 1 && cumulative < threshold * total) cumulative += energies[rank++]!;
  return rank;
}

export function localEstimate(problem: LocalProblem, count: number, threshold: number, givenRank: number | undefined): LocalEstimate {
  const { basis, m, a, p, outside } = problem;
  const outer = symmetrizedEigen(outside, m);
  const energies = Array.from(outer.values, (v) => Math.max(v, 0));
  let insideScale = 0;
  for (let i = 0; i < p * m; i++) insideScale += a[i]! * a[i]!;
  const rank = chooseRank(energies, insideScale, m, threshold, givenRank);
  const total = energies.reduce((s, e) => s + e, 0);
  const carried = energies.slice(0, rank).reduce((s, e) => s + e, 0);
  const nullColumns = new Float64Array(m * rank);
  for (let q = 0; q < m; q++) for (let r = 0; r < rank; r++) nullColumns[q * rank + r] = outer.vectors[q * m + r]!;
  // A P = A − (A Q) Qᵀ
  const aq = times(a, p, m, nullColumns, rank);
  const ap = Float64Array.from(a);
  for (let i = 0; i < p; i++) {
    for (let r = 0; r < rank; r++) {
      const v = aq[i * rank + r]!;
      if (v === 0) continue;
      for (let q = 0; q < m; q++) ap[i * m + q]! -= v * nullColumns[q * rank + r]!;
    }
  }
  const top = topRightSingular(ap, p, m, count);
  const { directions, images } = materialise(basis, top.vectors, top.count, m);
  const strengths = top.values.map((v) => Math.sqrt(v));
  const insideShare = Array.from({ length: top.count }, (_, j) => shareOf(a, p, outside, m, top.vectors.subarray(j * m, (j + 1) * m)));
  return {
    eigenvalues: top.values,
    directions,
    images,
    strengths,
    insideShare,
    count: top.count,
    rank,
    nullColumns,
    explainedEnergy: total > 0 ? carried / total : 0,
    outsideSpectrum: energies.slice(0, 32).map((e) => Math.sqrt(e)),
  };
}

/**
 * The same restricted problem in a smaller search space — the first `size` of the m vectors, with the current
 * null space projected out — for the convergence check: how much the directions still move as the space grows,
 * under one and the same constraint. Returns unit images J v, rows [count][D].
 */
export function smallerSpaceImages(problem: LocalProblem, size: number, nullColumns: Float64Array, rank: number, count: number): { images: Float64Array; count: number } {
  const { basis, m, a, p } = problem;
  const candidates = new Float64Array(size * m); // rows P e_q, q < size
  for (let q = 0; q < size; q++) {
    candidates[q * m + q] = 1;
    for (let r = 0; r < rank; r++) {
      const qr = nullColumns[q * rank + r]!;
      if (qr === 0) continue;
      for (let i = 0; i < m; i++) candidates[q * m + i]! -= qr * nullColumns[i * rank + r]!;
    }
  }
  const orthonormal = orthonormalizeRows(candidates, size, m);
  const c = orthonormal.count;
  const columns = new Float64Array(m * c);
  for (let j = 0; j < c; j++) for (let q = 0; q < m; q++) columns[q * c + j] = orthonormal.rows[j * m + q]!;
  const top = topRightSingular(times(a, p, m, columns, c), p, c, count);
  const coefficients = new Float64Array(top.count * m);
  for (let j = 0; j < top.count; j++) {
    for (let q = 0; q < m; q++) {
      let sum = 0;
      for (let i = 0; i < c; i++) sum += columns[q * c + i]! * top.vectors[j * c + i]!;
      coefficients[j * m + q] = sum;
    }
  }
  return { images: materialise(basis, coefficients, top.count, m).images, count: top.count };
}

/** The top eigenvectors of Jᵀ M J without the constraint, and LOCO Edit's post-projection of each. */
export function unconstrainedEstimate(problem: LocalProblem, count: number, nullColumns: Float64Array, rank: number): UnconstrainedEstimate {
  const { basis, m, a, p, outside } = problem;
  const top = topRightSingular(a, p, m, count);
  const insideShare: number[] = [];
  const projectedShare: number[] = [];
  for (let j = 0; j < top.count; j++) {
    const y = top.vectors.subarray(j * m, (j + 1) * m);
    insideShare.push(shareOf(a, p, outside, m, y));
    const projected = Float64Array.from(y);
    for (let r = 0; r < rank; r++) {
      let dot = 0;
      for (let q = 0; q < m; q++) dot += nullColumns[q * rank + r]! * projected[q]!;
      for (let q = 0; q < m; q++) projected[q]! -= dot * nullColumns[q * rank + r]!;
    }
    projectedShare.push(shareOf(a, p, outside, m, projected));
  }
  return { directions: materialise(basis, top.vectors, top.count, m).directions, eigenvalues: top.values, insideShare, projectedShare };
}

/** A = M^½ (JV) over the region's values (weights > 0), rows [p][m]. */
export function regionRows(basis: ProductBasis, weights: Float64Array, m: number): { a: Float64Array; p: number } {
  const dim = basis.dim;
  const inside: number[] = [];
  for (let i = 0; i < dim; i++) if (weights[i]! > 0) inside.push(i);
  const images = basis.images;
  const a = new Float64Array(inside.length * m);
  inside.forEach((i, r) => {
    const root = Math.sqrt(weights[i]!);
    for (let q = 0; q < m; q++) a[r * m + q] = root * images[q * dim + i]!;
  });
  return { a, p: inside.length };
}
