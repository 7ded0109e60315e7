import { describe, expect, it } from 'vitest';
import { featureStatistics, frechetDistance, judgeScore, classAccuracy, type JudgeOutput } from '../../electron/engine/judge';
import { symmetricEigen } from '../../electron/engine/linalg';
import { Random } from '../../electron/engine/rng';

function randomOrthogonal(n: number, seed: number): Float64Array {
  // Gram–Schmidt on a seeded Gaussian matrix (columns).
  const random = new Random(seed);
  const q = Float64Array.from({ length: n * n }, () => random.normal());
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < k; j++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[i * n + k]! * q[i * n + j]!;
      for (let i = 0; i < n; i++) q[i * n + k]! -= d * q[i * n + j]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[i * n + k]! ** 2;
    for (let i = 0; i < n; i++) q[i * n + k]! /= Math.sqrt(norm);
  }
  return q;
}

function rotatedDiagonal(q: Float64Array, diagonal: number[]): Float64Array {
  const n = diagonal.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j]! += q[i * n + k]! * diagonal[k]! * q[j * n + k]!;
  return out;
}

describe('symmetric eigen-solver and Fréchet distance', () => {
  const n = 12;
  const q = randomOrthogonal(n, 3);
  const a = Array.from({ length: n }, (_, k) => 3 / (k + 1));
  const b = Array.from({ length: n }, (_, k) => 0.5 + k / 10);

  it('recovers the eigenvalues of Q diag(λ) Qᵀ (to 1e-10, float64 Jacobi)', () => {
    const { values, vectors } = symmetricEigen(rotatedDiagonal(q, a), n);
    expect(Array.from(values)).toEqual(a.map((v) => expect.closeTo(v, 10)));
    // V Λ Vᵀ reproduces the matrix.
    const rebuilt = rotatedDiagonal(vectors, Array.from(values));
    const original = rotatedDiagonal(q, a);
    for (let i = 0; i < n * n; i++) expect(rebuilt[i]!).toBeCloseTo(original[i]!, 10);
  });

  it('equals ‖Δμ‖² + Σ(√a − √b)² for commuting covariances', () => {
    const meanA = Float64Array.from({ length: n }, (_, i) => i / 10);
    const meanB = Float64Array.from({ length: n }, () => 0.2);
    const fd = frechetDistance(
      { dim: n, count: 100, mean: meanA, covariance: rotatedDiagonal(q, a) },
      { dim: n, count: 100, mean: meanB, covariance: rotatedDiagonal(q, b) },
    );
    let expected = 0;
    for (let i = 0; i < n; i++) expected += (meanA[i]! - meanB[i]!) ** 2 + (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2;
    expect(fd).toBeCloseTo(expected, 8);
  });

  it('is ~0 for two large samples of one distribution, and featureStatistics matches the sample moments', () => {
    const random = new Random(5);
    const dim = 4;
    const sample = (count: number): Float32Array => Float32Array.from({ length: count * dim }, (_, i) => random.normal() * (1 + (i % dim)) + 1);
    const statsA = featureStatistics(sample(20000), dim);
    const statsB = featureStatistics(sample(20000), dim);
    expect(statsA.covariance[3 * dim + 3]!).toBeCloseTo(16, 0);
    expect(statsA.mean[0]!).toBeCloseTo(1, 1);
    // Sampling error of the moments with N = 20k puts FD near 1e-3.
    expect(frechetDistance(statsA, statsB)).toBeLessThan(0.01);
  });
});

describe('judge score (Inception-Score analogue) and accuracy', () => {
  const output = (logits: number[], count: number, classCount: number): JudgeOutput => ({
    count,
    classCount,
    featureDim: 0,
    logits: Float32Array.from(logits),
    features: new Float32Array(0),
  });

  it('is 1 for identical predictions and K for confident, balanced predictions over K classes', () => {
    expect(judgeScore(output([1, 2, 3, 1, 2, 3], 2, 3))).toBeCloseTo(1, 10);
    const confident = [50, 0, 0, 0, 50, 0, 0, 0, 50];
    expect(judgeScore(output(confident, 3, 3))).toBeCloseTo(3, 6);
    expect(classAccuracy(output(confident, 3, 3), [0, 1, 1])).toBeCloseTo(2 / 3, 10);
  });
});
