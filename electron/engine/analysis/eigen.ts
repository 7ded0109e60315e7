/**
 * Symmetric eigensolvers for the analyses: the engine's Jacobi solver for
 * small matrices, Householder tridiagonalisation + implicit QL for larger
 * ones (Rayleigh–Ritz problems of a few hundred Krylov vectors).
 */
import { symmetricEigen } from '../linalg';

/**
 * Eigen-decomposition of (A + Aᵀ)/2 (so round-off asymmetry never reaches
 * the solver), eigenvalues descending, eigenvectors as columns. Small matrices
 * go to the engine's Jacobi solver; from n = 64 on, Householder
 * tridiagonalisation and implicit QL, ~10 n³ flops instead of Jacobi's
 * ~50 n³ per handful of sweeps (a 784×784 Rayleigh–Ritz problem: ~2 s, not ~100 s).
 */
export function symmetrizedEigen(matrix: ArrayLike<number>, n: number): ReturnType<typeof symmetricEigen> {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (matrix[i * n + j]! + matrix[j * n + i]!);
  return n < 64 ? symmetricEigen(a, n) : tridiagonalEigen(a, n);
}

/**
 * Symmetric eigen-decomposition by Householder reduction to tridiagonal form
 * and the implicit QL method with accumulated transformations. `a` (row-major,
 * symmetric) is overwritten.
 * @see Golub & Van Loan, "Matrix Computations", 4th ed., §8.3 (tridiagonalisation, implicit symmetric QR)
 * @see Wilkinson & Reinsch, "Handbook for Automatic Computation II" (1971), procedures tred2 and tql2
 */
export function tridiagonalEigen(a: Float64Array, n: number): ReturnType<typeof symmetricEigen> {
  // W = Vᵀ throughout (a symmetric input is its own transpose): every inner
  // loop below then runs along a row of W, not down a column of V.
  const w = a;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const at = (i: number, j: number): number => w[j * n + i]!;
  // Householder reduction to tridiagonal form (d: diagonal, e: sub-diagonal), V accumulating the reflections.
  for (let j = 0; j < n; j++) d[j] = at(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1, j);
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        w[i * n + j] = f;
        g = e[j]! + at(j, j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += at(k, j) * d[k]!;
          e[k]! += at(k, j) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) w[j * n + k]! -= f * e[k]! + g * d[k]!;
        d[j] = at(i - 1, j);
        w[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    w[i * n + (n - 1)] = at(i, i);
    w[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = at(k, i + 1) / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += at(k, i + 1) * at(k, j);
        for (let k = 0; k <= i; k++) w[j * n + k]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) w[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = at(n - 1, j);
    w[j * n + (n - 1)] = 0;
  }
  w[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;

  // Implicit QL on the tridiagonal matrix. Its rotations mix two columns of V
  // at a time, i.e. two contiguous rows of W = Vᵀ.
  const vt = w;
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let shift = 0;
  let norm = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    norm = Math.max(norm, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n && Math.abs(e[m]!) > eps * norm) m++;
    if (m > l) {
      for (let iteration = 0; iteration < 100 && Math.abs(e[l]!) > eps * norm; iteration++) {
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        shift += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const row = i * n;
          const next = row + n;
          for (let k = 0; k < n; k++) {
            h = vt[next + k]!;
            const here = vt[row + k]!;
            vt[next + k] = s * here + c * h;
            vt[row + k] = c * here - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      }
    }
    d[l] = d[l]! + shift;
    e[l] = 0;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j]! - d[i]!);
  const values = Float64Array.from(order, (i) => d[i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((source, target) => {
    for (let k = 0; k < n; k++) vectors[k * n + target] = vt[source * n + k]!;
  });
  return { values, vectors };
}
