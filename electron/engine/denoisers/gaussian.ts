/**
 * The Gaussian data model N(μ, Σ), Σ = U diag(λ) Uᵀ (+ r·P⊥ outside span U
 * when U is truncated), its exact denoiser and its closed-form
 * probability-flow trajectory (DESIGN.md §2).
 */
import { PainterError } from '../errors';
import { assertLength } from '../tensor';

export class GaussianModel {
  /** D. */
  readonly dim: number;
  /** K ≤ D kept eigen-directions. */
  readonly rank: number;

  /**
   * @param mean μ, length D
   * @param eigvecs U, [D, K] row-major: u_k is column k, U[i·K + k]
   * @param eigvals λ_k ≥ 0, length K
   * @param residualVariance r, the isotropic variance outside span U (0 when K = D)
   */
  constructor(
    readonly mean: Float32Array,
    readonly eigvecs: Float32Array,
    readonly eigvals: Float64Array,
    readonly residualVariance = 0,
  ) {
    this.dim = mean.length;
    this.rank = eigvals.length;
    assertLength(eigvecs, this.dim * this.rank, 'eigvecs');
    if (this.rank > this.dim || this.rank === 0) {
      throw new PainterError('BAD_FILE', `A Gaussian model needs 1 ≤ K ≤ D eigenvectors; got K = ${this.rank}, D = ${this.dim}.`);
    }
    if (eigvals.some((l) => !(l >= 0))) throw new PainterError('BAD_FILE', 'Gaussian eigenvalues must be non-negative numbers.');
  }

  /** c = Uᵀ v for one image v (length D); float64. */
  project(v: ArrayLike<number>, offset = 0): Float64Array {
    const { dim, rank, eigvecs } = this;
    const c = new Float64Array(rank);
    for (let i = 0; i < dim; i++) {
      const vi = v[offset + i]!;
      if (vi === 0) continue;
      const row = i * rank;
      for (let k = 0; k < rank; k++) c[k]! += eigvecs[row + k]! * vi;
    }
    return c;
  }

  /** out = μ + U c (plus `perpScale`·(v − U Uᵀ v) when U is truncated), for one image. */
  private reconstruct(
    out: Float32Array,
    outOffset: number,
    c: Float64Array,
    centred: ArrayLike<number>,
    centredOffset: number,
    coefficientsOfCentred: Float64Array,
    perpScale: number,
  ): void {
    const { dim, rank, eigvecs, mean } = this;
    const unrolled = rank - (rank % 4);
    for (let i = 0; i < dim; i++) {
      const row = i * rank;
      let inSpan = 0;
      let k = 0;
      // Four independent partial sums let the JIT pipeline the multiply-adds.
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (; k < unrolled; k += 4) {
        inSpan += eigvecs[row + k]! * c[k]!;
        s1 += eigvecs[row + k + 1]! * c[k + 1]!;
        s2 += eigvecs[row + k + 2]! * c[k + 2]!;
        s3 += eigvecs[row + k + 3]! * c[k + 3]!;
      }
      for (; k < rank; k++) inSpan += eigvecs[row + k]! * c[k]!;
      inSpan += s1 + s2 + s3;
      let perp = 0;
      if (perpScale !== 0) {
        let projectionOfCentred = 0;
        for (let m = 0; m < rank; m++) projectionOfCentred += eigvecs[row + m]! * coefficientsOfCentred[m]!;
        perp = perpScale * (centred[centredOffset + i]! - projectionOfCentred);
      }
      out[outOffset + i] = mean[i]! + inSpan + perp;
    }
  }

  /**
   * D(x, σ) = μ + U diag(λ/(λ+σ²)) Uᵀ (x − μ) + r/(r+σ²)·P⊥(x − μ), batched.
   */
  denoise(x: Float32Array, sigmas: ArrayLike<number>): Float32Array {
    const { dim, mean } = this;
    const batch = x.length / dim;
    assertLength(sigmas, batch, 'sigmas');
    const out = new Float32Array(x.length);
    const centred = new Float64Array(dim);
    for (let b = 0; b < batch; b++) {
      const s2 = sigmas[b]! ** 2;
      for (let i = 0; i < dim; i++) centred[i] = x[b * dim + i]! - mean[i]!;
      const c = this.project(centred);
      const shrunk = c.map((ck, k) => (ck * this.eigvals[k]!) / (this.eigvals[k]! + s2));
      const perpScale = this.rank < dim ? this.residualVariance / (this.residualVariance + s2) : 0;
      this.reconstruct(out, b * dim, shrunk, centred, 0, c, perpScale);
    }
    return out;
  }

  /**
   * Closed-form probability-flow solution from x(σ_T) (DESIGN.md §2):
   * x(σ) = μ + Σ_k sqrt((σ² + λ_k)/(σ_T² + λ_k)) c_k u_k + sqrt((σ² + r)/(σ_T² + r)) x⊥,
   * for every σ of `sigmas`; result [sigmas.length, D].
   * @see Wang & Vastola 2023, arXiv 2303.02490, eq. (9)
   */
  closedFormTrajectory(start: ArrayLike<number>, sigmaStart: number, sigmas: ArrayLike<number>): Float32Array {
    const { dim, mean } = this;
    assertLength(start, dim, 'start state');
    const centred = new Float64Array(dim);
    for (let i = 0; i < dim; i++) centred[i] = start[i]! - mean[i]!;
    const c = this.project(centred);
    const out = new Float32Array(sigmas.length * dim);
    const sT2 = sigmaStart * sigmaStart;
    for (let j = 0; j < sigmas.length; j++) {
      const s2 = sigmas[j]! ** 2;
      const scaled = c.map((ck, k) => ck * Math.sqrt((s2 + this.eigvals[k]!) / (sT2 + this.eigvals[k]!)));
      const r = this.residualVariance;
      const perpScale = this.rank < dim ? Math.sqrt((s2 + r) / (sT2 + r)) : 0;
      this.reconstruct(out, j * dim, scaled, centred, 0, c, perpScale);
    }
    return out;
  }

  /** log N(x; μ, Σ + σ²I) up to the constant −D/2·log 2π, for one image. */
  logDensity(x: ArrayLike<number>, offset: number, sigma: number): number {
    const { dim, mean, rank } = this;
    const s2 = sigma * sigma;
    const centred = new Float64Array(dim);
    let total = 0;
    for (let i = 0; i < dim; i++) {
      centred[i] = x[offset + i]! - mean[i]!;
      total += centred[i]! ** 2;
    }
    const c = this.project(centred);
    let mahalanobis = 0;
    let logDet = 0;
    let inSpan = 0;
    for (let k = 0; k < rank; k++) {
      const variance = this.eigvals[k]! + s2;
      mahalanobis += c[k]! ** 2 / variance;
      logDet += Math.log(variance);
      inSpan += c[k]! ** 2;
    }
    if (rank < dim) {
      const variance = this.residualVariance + s2;
      mahalanobis += Math.max(total - inSpan, 0) / variance;
      logDet += (dim - rank) * Math.log(variance);
    }
    return -0.5 * (logDet + mahalanobis);
  }
}
