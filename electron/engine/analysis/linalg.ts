/**
 * Linear algebra and statistics for the analyses, in float64, on top of the
 * symmetric eigensolvers (eigen.ts): PCA, orthonormalisation,
 * principal angles, rank correlation, mean ± sd.
 *
 * Layouts: a square matrix is row-major n×n; a set of k vectors of length d
 * ("rows") is stored contiguously, vector i at [i·d, (i+1)·d) — the same
 * layout as a batch of images.
 */
import { PainterError } from '../errors';
import { symmetrizedEigen } from './eigen';

export interface PcaResult {
  /** Mean of the rows (zeros when not centred), length d. */
  mean: Float64Array;
  /** Variance along each returned component (divided by N − 1, or N when N = 1), descending. */
  variances: Float64Array;
  /** Each component's share of the total variance. */
  explained: Float64Array;
  /** Unit component vectors as rows, [components][d]. */
  components: Float64Array;
  /** Total variance (sum over all directions). */
  total: number;
}

/**
 * Principal components of N vectors of length d (rows). Works on the N×N
 * Gram matrix when N ≤ d (trajectories: tens of states in hundreds of
 * pixels), else on the d×d covariance.
 */
export function pca(rows: ArrayLike<number>, count: number, dim: number, options: { components: number; center?: boolean }): PcaResult {
  if (count < 1 || rows.length < count * dim) throw new PainterError('BAD_ARGUMENT', `pca: needs ${count}×${dim} values; got ${rows.length}.`);
  const center = options.center ?? true;
  const mean = new Float64Array(dim);
  if (center) {
    for (let r = 0; r < count; r++) for (let i = 0; i < dim; i++) mean[i]! += rows[r * dim + i]!;
    for (let i = 0; i < dim; i++) mean[i]! /= count;
  }
  const x = new Float64Array(count * dim);
  for (let r = 0; r < count; r++) for (let i = 0; i < dim; i++) x[r * dim + i] = rows[r * dim + i]! - mean[i]!;
  const divisor = Math.max(count - 1, 1);
  const k = Math.min(options.components, count, dim);
  const components = new Float64Array(k * dim);
  const variances = new Float64Array(k);
  let total = 0;
  if (count <= dim) {
    const gram = new Float64Array(count * count);
    for (let a = 0; a < count; a++) {
      for (let b = a; b < count; b++) {
        let sum = 0;
        for (let i = 0; i < dim; i++) sum += x[a * dim + i]! * x[b * dim + i]!;
        gram[a * count + b] = sum;
        gram[b * count + a] = sum;
      }
      total += gram[a * count + a]!;
    }
    const { values, vectors } = symmetrizedEigen(gram, count);
    for (let c = 0; c < k; c++) {
      const value = Math.max(values[c]!, 0);
      variances[c] = value / divisor;
      if (value === 0) continue;
      // u_c = Xᵀ z_c / sqrt(value)
      const inverse = 1 / Math.sqrt(value);
      for (let r = 0; r < count; r++) {
        const z = vectors[r * count + c]! * inverse;
        if (z === 0) continue;
        for (let i = 0; i < dim; i++) components[c * dim + i]! += z * x[r * dim + i]!;
      }
    }
  } else {
    // x is already centred when `center`; the scatter about the origin is then the covariance.
    const scatter = uncentredScatter(x, count, dim);
    const { values, vectors } = symmetrizedEigen(scatter, dim);
    for (let i = 0; i < dim; i++) total += scatter[i * dim + i]! * divisor;
    for (let c = 0; c < k; c++) {
      variances[c] = Math.max(values[c]!, 0);
      for (let i = 0; i < dim; i++) components[c * dim + i] = vectors[i * dim + c]!;
    }
  }
  const explained = variances.map((v) => (total > 0 ? (v * divisor) / total : 0));
  return { mean, variances, explained, components, total: total / divisor };
}

function uncentredScatter(x: Float64Array, count: number, dim: number): Float64Array {
  const out = new Float64Array(dim * dim);
  const divisor = Math.max(count - 1, 1);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < dim; i++) {
      const xi = x[r * dim + i]!;
      for (let j = 0; j < dim; j++) out[i * dim + j]! += (xi * x[r * dim + j]!) / divisor;
    }
  }
  return out;
}

/**
 * Orthonormalises `count` rows of length d against an optional orthonormal
 * basis and each other (Gram–Schmidt, applied twice for stability), dropping
 * rows whose remaining norm is below `tolerance` times their original norm.
 * @see Giraud, Langou & Rozložník 2005, "The loss of orthogonality in the Gram-Schmidt orthogonalization process" (twice is enough)
 */
export function orthonormalizeRows(
  block: ArrayLike<number>,
  count: number,
  dim: number,
  basis: { rows: Float64Array; count: number } | null = null,
  tolerance = 1e-8,
): { rows: Float64Array; count: number } {
  const out = new Float64Array(count * dim);
  let kept = 0;
  const row = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < dim; i++) row[i] = block[r * dim + i]!;
    const original = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    if (original === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      if (basis !== null) subtractProjections(row, basis.rows, basis.count, dim);
      subtractProjections(row, out, kept, dim);
    }
    const remaining = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    if (remaining <= tolerance * original) continue;
    for (let i = 0; i < dim; i++) out[kept * dim + i] = row[i]! / remaining;
    kept++;
  }
  return { rows: out.slice(0, kept * dim), count: kept };
}

function subtractProjections(row: Float64Array, rows: Float64Array, count: number, dim: number): void {
  for (let b = 0; b < count; b++) {
    let projection = 0;
    for (let i = 0; i < dim; i++) projection += row[i]! * rows[b * dim + i]!;
    if (projection === 0) continue;
    for (let i = 0; i < dim; i++) row[i]! -= projection * rows[b * dim + i]!;
  }
}

/**
 * Principal angles (radians, ascending) between span(A) and span(B), A and B
 * orthonormal rows with kA ≤ kB. Computed from the sines — the singular values
 * of A − (A Bᵀ) B — so that small angles keep full relative accuracy.
 * @see Björck & Golub 1973, "Numerical methods for computing angles between linear subspaces"
 */
export function principalAngles(a: ArrayLike<number>, kA: number, b: ArrayLike<number>, kB: number, dim: number): Float64Array {
  if (kA > kB) return principalAngles(b, kB, a, kA, dim);
  const residual = new Float64Array(kA * dim);
  for (let r = 0; r < kA; r++) {
    for (let i = 0; i < dim; i++) residual[r * dim + i] = a[r * dim + i]!;
    for (let s = 0; s < kB; s++) {
      let m = 0;
      for (let i = 0; i < dim; i++) m += a[r * dim + i]! * b[s * dim + i]!;
      for (let i = 0; i < dim; i++) residual[r * dim + i]! -= m * b[s * dim + i]!;
    }
  }
  const gram = new Float64Array(kA * kA);
  for (let r = 0; r < kA; r++) {
    for (let s = 0; s < kA; s++) {
      let sum = 0;
      for (let i = 0; i < dim; i++) sum += residual[r * dim + i]! * residual[s * dim + i]!;
      gram[r * kA + s] = sum;
    }
  }
  const { values } = symmetrizedEigen(gram, kA);
  return Float64Array.from(values, (v) => Math.asin(Math.min(1, Math.sqrt(Math.max(v, 0))))).sort();
}

/** Ranks 1…n, ties given their average rank. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const out = new Float64Array(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + end + 1) / 2;
    for (let i = start; i < end; i++) out[order[i]!] = rank;
    start = end;
  }
  return out;
}

/** Pearson correlation; NaN when either input is constant or shorter than 2. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman rank correlation: the Pearson correlation of the ranks (ties averaged).
 * @see Spearman 1904, "The proof and measurement of association between two things"
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (N − 1); 0 for a single value. */
  sd: number;
  /** How many finite values went in. */
  n: number;
}

/** Mean ± sd of the finite values (NaN mean when there are none). */
export function meanSd(values: ArrayLike<number>): MeanSd {
  const finite = Array.from(values).filter((v) => Number.isFinite(v));
  const n = finite.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n: 0 };
  const mean = finite.reduce((s, v) => s + v, 0) / n;
  const sd = n === 1 ? 0 : Math.sqrt(finite.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd, n };
}

/** Mean ± sd over rows (seeds) of each column of equal-length rows. */
export function columnMeanSd(rows: readonly (readonly number[])[]): MeanSd[] {
  const length = rows[0]?.length ?? 0;
  return Array.from({ length }, (_, j) => meanSd(rows.map((row) => row[j]!)));
}

/** r² of b as a prediction of a, over one image (1 − SSE / variance of a). */
export function rSquared(a: ArrayLike<number>, b: ArrayLike<number>, offset: number, length: number): number {
  let mean = 0;
  for (let i = 0; i < length; i++) mean += a[offset + i]!;
  mean /= length;
  let error = 0;
  let spread = 0;
  for (let i = 0; i < length; i++) {
    error += (a[offset + i]! - b[offset + i]!) ** 2;
    spread += (a[offset + i]! - mean) ** 2;
  }
  return spread > 0 ? 1 - error / spread : error === 0 ? 1 : -Infinity;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}
