import { describe, expect, it } from 'vitest';
import { meanSd, orthonormalizeRows, pca, principalAngles, ranks, spearman } from '../../../electron/engine/analysis/linalg';
import { Random } from '../../../electron/engine/rng';

describe('analysis linear algebra', () => {
  it('PCA through the Gram matrix (N ≤ D) and through the covariance (N > D) agree with a planted spectrum', () => {
    // Rows = a·e1·3 + b·e2 + tiny·e3 in 6-D, rotated: variances 9 : 1 : 1e-4 along three orthonormal directions.
    const random = new Random(1);
    const dim = 6;
    const basis = orthonormalizeRows(Float64Array.from({ length: 3 * dim }, () => random.normal()), 3, dim).rows;
    const scales = [3, 1, 0.01];
    const make = (count: number): Float64Array => {
      const rows = new Float64Array(count * dim);
      for (let r = 0; r < count; r++) {
        const c = scales.map((s) => s * random.normal());
        for (let i = 0; i < dim; i++) rows[r * dim + i] = 5 + c[0]! * basis[i]! + c[1]! * basis[dim + i]! + c[2]! * basis[2 * dim + i]!;
      }
      return rows;
    };
    for (const count of [5, 400]) {
      const rows = make(count);
      const result = pca(rows, count, dim, { components: 3 });
      // Independent check: project the centred rows onto each returned component; its sample variance must equal the reported one.
      for (let c = 0; c < 3; c++) {
        const values = Array.from({ length: count }, (_, r) => {
          let s = 0;
          for (let i = 0; i < dim; i++) s += (rows[r * dim + i]! - result.mean[i]!) * result.components[c * dim + i]!;
          return s;
        });
        expect(meanSd(values).sd ** 2).toBeCloseTo(result.variances[c]!, 8);
      }
      expect(result.explained.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      // The top two components span the planted plane: the third direction (sd 0.01 against sd 1) tilts the
      // sample plane by about 0.01 rad times a sampling factor of order one, so 0.05 rad bounds it.
      const angles = principalAngles(result.components.subarray(0, 2 * dim), 2, basis.subarray(0, 2 * dim), 2, dim);
      expect(Math.max(...angles)).toBeLessThan(0.05);
    }
  });

  it('principal angles between two planes match the planted angle, small ones to full precision', () => {
    const dim = 5;
    for (const theta of [1e-7, 0.3, 1.2]) {
      const a = new Float64Array(2 * dim);
      a[0] = 1;
      a[dim + 1] = 1;
      const b = new Float64Array(2 * dim);
      b[0] = 1;
      b[dim + 1] = Math.cos(theta);
      b[dim + 2] = Math.sin(theta);
      const angles = principalAngles(a, 2, b, 2, dim);
      expect(angles[0]).toBeLessThan(1e-12);
      expect(Math.abs(angles[1]! - theta) / theta).toBeLessThan(1e-6);
    }
  });

  it('Spearman: ranks with ties, monotone maps give ±1', () => {
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    const x = [1, 2, 3, 4, 5, 6];
    expect(spearman(x, x.map((v) => Math.exp(v)))).toBeCloseTo(1, 12);
    expect(spearman(x, x.map((v) => -v * v))).toBeCloseTo(-1, 12);
    // Textbook example: d = (0, 1, −1, 0, 0) → ρ = 1 − 6·2/(5·24) = 0.9
    expect(spearman([1, 2, 3, 4, 5], [1, 3, 2, 4, 5])).toBeCloseTo(0.9, 12);
  });

  it('orthonormalises a block against a basis and drops dependent rows', () => {
    const dim = 4;
    const basis = { rows: Float64Array.from([1, 0, 0, 0]), count: 1 };
    const block = Float64Array.from([1, 1, 0, 0, 2, 0, 0, 0, 0, 1, 1, 0]);
    const result = orthonormalizeRows(block, 3, dim, basis);
    expect(result.count).toBe(2); // the second row lies in span(basis)
    const r = result.rows;
    const dot = (i: number, j: number): number => r.subarray(i * dim, (i + 1) * dim).reduce((s, v, k) => s + v * r[j * dim + k]!, 0);
    expect(dot(0, 0)).toBeCloseTo(1, 12);
    expect(dot(1, 1)).toBeCloseTo(1, 12);
    expect(dot(0, 1)).toBeCloseTo(0, 12);
    expect(r[0]).toBeCloseTo(0, 12);
    expect(r[dim]).toBeCloseTo(0, 12);
  });
});

describe('tridiagonal QL eigensolver', () => {
  it('agrees with the engine\'s Jacobi solver and satisfies A v = λ v on a random 120×120 matrix', async () => {
    const { symmetricEigen } = await import('../../../electron/engine/linalg');
    const { tridiagonalEigen } = await import('../../../electron/engine/analysis/eigen');
    const n = 120;
    const random = new Random(7);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = random.normal();
    const reference = symmetricEigen(Float64Array.from(a), n);
    const result = tridiagonalEigen(Float64Array.from(a), n);
    // Both are backward stable: eigenvalues agree to ~1e-13·‖A‖ (‖A‖ ≈ 2√n ≈ 22).
    result.values.forEach((value, k) => expect(Math.abs(value - reference.values[k]!)).toBeLessThan(1e-10));
    let worst = 0;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * result.vectors[j * n + k]!;
        worst = Math.max(worst, Math.abs(av - result.values[k]! * result.vectors[i * n + k]!));
      }
    }
    expect(worst).toBeLessThan(1e-10);
  });
});
