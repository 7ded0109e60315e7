/**
 * Trajectories of several seeds in the space of their top principal
 * components, for the studio's 3-D view (DESIGN.md §1.5): the states of every
 * trajectory (unit-variance convention) are pooled, centred, and projected on
 * the top 3 PCs; the Gaussian closed form from the same x_T and the plane
 * spanned by x_T and the final image are projected alongside (the rotation
 * picture of DESIGN.md §2).
 */
import { symmetricEigen } from './linalg';
import type { GenerateRequest, TrajectoryBasis, TrajectorySpace } from '../api/contract';
import type { GaussianModel } from './denoisers/gaussian';
import type { Denoiser } from './denoisers/types';
import { PainterError } from './errors';
import { Random } from './rng';
import { initialNoise, sample } from './samplers';
import { vpAlpha } from './schedules';

export interface PrincipalAxes {
  /** Mean of the points, length D. */
  mean: Float64Array;
  /** Axes as rows, [k][D] row-major, orthonormal. */
  axes: Float64Array;
  /** Variance along each axis (sum of squares of the projections ÷ N). */
  variances: Float64Array;
  /** Total variance of the points (sum over all D directions). */
  totalVariance: number;
}

/**
 * Top-k principal axes of N points (rows of `points`, [N][D]) by subspace
 * (block power) iteration on XᵀX with Gram–Schmidt, X the centred points;
 * never forms the D×D covariance.
 * @see Golub & Van Loan, "Matrix Computations", 4th ed., §8.2.4 (orthogonal iteration)
 */
export function principalAxes(points: Float32Array, count: number, dim: number, k = 3, iterations = 200): PrincipalAxes {
  if (points.length !== count * dim) throw new RangeError(`principalAxes: ${count} points of ${dim} values need ${count * dim}, got ${points.length}.`);
  if (k > Math.min(count, dim)) throw new RangeError(`principalAxes: cannot find ${k} axes of ${count} points in ${dim} dimensions.`);
  const mean = new Float64Array(dim);
  for (let n = 0; n < count; n++) for (let d = 0; d < dim; d++) mean[d]! += points[n * dim + d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= count;
  let totalVariance = 0;
  for (let n = 0; n < count; n++) for (let d = 0; d < dim; d++) totalVariance += (points[n * dim + d]! - mean[d]!) ** 2;
  totalVariance /= count;

  const random = new Random(20230302, 7);
  const axes = new Float64Array(k * dim);
  for (let i = 0; i < axes.length; i++) axes[i] = random.normal();
  orthonormalize(axes, k, dim);
  const projections = new Float64Array(count * k);
  const next = new Float64Array(k * dim);
  for (let iteration = 0; iteration < iterations; iteration++) {
    project(points, mean, axes, count, dim, k, projections);
    // next = Xᵀ (X Q)
    next.fill(0);
    for (let n = 0; n < count; n++) {
      for (let a = 0; a < k; a++) {
        const weight = projections[n * k + a]!;
        if (weight === 0) continue;
        for (let d = 0; d < dim; d++) next[a * dim + d]! += weight * (points[n * dim + d]! - mean[d]!);
      }
    }
    orthonormalize(next, k, dim);
    // Converged when every new axis lies in the old subspace: Σ_b (q'_a·q_b)² ≈ 1.
    let worst = 0;
    for (let a = 0; a < k; a++) {
      let inside = 0;
      for (let b = 0; b < k; b++) {
        let overlap = 0;
        for (let d = 0; d < dim; d++) overlap += next[a * dim + d]! * axes[b * dim + d]!;
        inside += overlap * overlap;
      }
      worst = Math.max(worst, 1 - inside);
    }
    axes.set(next);
    if (worst < 1e-12) break;
  }
  // Rayleigh–Ritz: the iteration settles on the subspace; rotate within it onto the eigenvectors.
  project(points, mean, axes, count, dim, k, projections);
  const small = new Float64Array(k * k);
  for (let n = 0; n < count; n++) {
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) small[a * k + b]! += (projections[n * k + a]! * projections[n * k + b]!) / count;
  }
  const { values, vectors } = symmetricEigen(small, k);
  const sortedAxes = new Float64Array(k * dim);
  for (let i = 0; i < k; i++) {
    for (let a = 0; a < k; a++) {
      const weight = vectors[a * k + i]!;
      for (let d = 0; d < dim; d++) sortedAxes[i * dim + d]! += weight * axes[a * dim + d]!;
    }
  }
  return { mean, axes: sortedAxes, variances: values, totalVariance };
}

function orthonormalize(axes: Float64Array, k: number, dim: number): void {
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < a; b++) {
      let overlap = 0;
      for (let d = 0; d < dim; d++) overlap += axes[a * dim + d]! * axes[b * dim + d]!;
      for (let d = 0; d < dim; d++) axes[a * dim + d]! -= overlap * axes[b * dim + d]!;
    }
    let length = 0;
    for (let d = 0; d < dim; d++) length += axes[a * dim + d]! ** 2;
    length = Math.sqrt(length);
    if (length === 0) throw new PainterError('INTERNAL', 'principalAxes: the points span fewer dimensions than asked for.');
    for (let d = 0; d < dim; d++) axes[a * dim + d]! /= length;
  }
}

function project(points: ArrayLike<number>, mean: Float64Array, axes: Float64Array, count: number, dim: number, k: number, out: Float64Array): void {
  for (let n = 0; n < count; n++) {
    for (let a = 0; a < k; a++) {
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += (points[n * dim + d]! - mean[d]!) * axes[a * dim + d]!;
      out[n * k + a] = sum;
    }
  }
}

/** Projects points [N][D] on the axes: [N][k] float32. */
export function projectOnAxes(points: ArrayLike<number>, count: number, pca: PrincipalAxes): Float32Array {
  const k = pca.variances.length;
  const out = new Float64Array(count * k);
  project(points, pca.mean, pca.axes, count, pca.mean.length, k, out);
  return Float32Array.from(out);
}

/**
 * The Gaussian closed-form path from `start` (σ form), in the unit-variance
 * convention, projected on the axes: [state][k]. Works in the eigenbasis
 * (DESIGN.md §2: x(σ) = μ + Σ_k a_k(σ) c_k u_k + p(σ) x⊥), so each state costs
 * O(K·k) after one projection of x_T, instead of building every D-value state.
 */
export function projectClosedForm(gaussian: GaussianModel, start: ArrayLike<number>, sigmas: Float64Array, pca: PrincipalAxes): Float32Array {
  const { dim, rank, eigvecs, eigvals, mean, residualVariance: r } = gaussian;
  const k = pca.variances.length;
  const centred = new Float64Array(dim);
  for (let i = 0; i < dim; i++) centred[i] = start[i]! - mean[i]!;
  const c = gaussian.project(centred);
  // Per axis: q·u_k, q·x⊥, q·μ and q·m (m the PCA mean).
  const alongU = new Float64Array(k * rank);
  const alongPerp = new Float64Array(k);
  const alongMean = new Float64Array(k);
  const alongCentre = new Float64Array(k);
  for (let i = 0; i < dim; i++) {
    let inSpan = 0;
    for (let j = 0; j < rank; j++) inSpan += eigvecs[i * rank + j]! * c[j]!;
    const perp = centred[i]! - inSpan;
    for (let a = 0; a < k; a++) {
      const q = pca.axes[a * dim + i]!;
      if (q === 0) continue;
      for (let j = 0; j < rank; j++) alongU[a * rank + j]! += q * eigvecs[i * rank + j]!;
      alongPerp[a]! += q * perp;
      alongMean[a]! += q * mean[i]!;
      alongCentre[a]! += q * pca.mean[i]!;
    }
  }
  const truncated = rank < dim;
  const sT2 = sigmas[0]! ** 2;
  const out = new Float32Array(sigmas.length * k);
  sigmas.forEach((sigma, state) => {
    const s2 = sigma * sigma;
    const alpha = vpAlpha(sigma);
    const p = truncated ? Math.sqrt((s2 + r) / (sT2 + r)) : 0;
    for (let a = 0; a < k; a++) {
      let along = alongMean[a]! + p * alongPerp[a]!;
      for (let j = 0; j < rank; j++) along += alongU[a * rank + j]! * c[j]! * Math.sqrt((s2 + eigvals[j]!) / (sT2 + eigvals[j]!));
      out[state * k + a] = alpha * along - alongCentre[a]!;
    }
  });
  return out;
}

export interface TrajectorySpaceOptions {
  denoiser: Denoiser;
  runId: string;
  settings: GenerateRequest;
  sigmas: Float64Array;
  count: number;
  basis: TrajectoryBasis;
  gaussian: GaussianModel | null;
  signal?: AbortSignal;
  onStep?: (done: number, total: number) => void;
}

/** σ-form states [state][b][D] → unit-variance, regrouped as [b][state][D]. */
function unitVariancePerTrajectory(states: Float32Array, sigmas: Float64Array, batch: number, dim: number): Float32Array {
  const count = sigmas.length;
  const out = new Float32Array(states.length);
  for (let j = 0; j < count; j++) {
    const scale = vpAlpha(sigmas[j]!);
    for (let b = 0; b < batch; b++) {
      const source = (j * batch + b) * dim;
      const target = (b * count + j) * dim;
      for (let d = 0; d < dim; d++) out[target + d] = states[source + d]! * scale;
    }
  }
  return out;
}

export async function trajectorySpace(options: TrajectorySpaceOptions): Promise<TrajectorySpace> {
  const { denoiser, settings, sigmas, count } = options;
  const dim = denoiser.dim;
  const seeds = Array.from({ length: count }, (_, i) => (settings.seed + i) % 2 ** 32);
  const trajectory = await sample({
    denoiser,
    sampler: settings.sampler,
    sigmas,
    seeds,
    condition: { labels: seeds.map(() => settings.classLabel), guidance: settings.guidance },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  const states = sigmas.length;
  const pooled = unitVariancePerTrajectory(trajectory.states, sigmas, count, dim);
  const gaussian = options.gaussian !== null && options.gaussian.dim === dim ? options.gaussian : null;
  const noiseOf = (b: number): ReturnType<typeof initialNoise> => initialNoise(denoiser, seeds[b]!, sigmas[0]!);

  if (options.basis === 'plane') {
    const points = new Float32Array(count * states * 3);
    const ghost = gaussian !== null ? new Float32Array(count * states * 3) : null;
    const shares = [0, 0, 0];
    for (let b = 0; b < count; b++) {
      const path = pooled.subarray(b * states * dim, (b + 1) * states * dim);
      const axes = rotationPlaneAxes(path, states, dim);
      points.set(projectOnAxes(path, states, axes), b * states * 3);
      if (ghost !== null) ghost.set(projectClosedForm(gaussian!, noiseOf(b), sigmas, axes), b * states * 3);
      const share = normShares(path, states, dim, axes);
      for (let a = 0; a < 3; a++) shares[a]! += share[a]! / count;
    }
    // In each path's own coordinates the plane is the (image, noise) plane: z = 0.
    const extent = 1.1 * Math.max(...Array.from(points, Math.abs));
    return {
      runId: options.runId,
      seeds,
      states,
      sigmas: Array.from(sigmas),
      points,
      ghost,
      plane: Float32Array.from([-0.1 * extent, -0.1 * extent, 0, extent, -0.1 * extent, 0, extent, extent, 0, -0.1 * extent, extent, 0]),
      basis: 'plane',
      explained: shares,
      axisLabels: ['final image', 'start noise (⊥ image)', 'largest residual'],
    };
  }

  // Trajectory 0 is the run: its states come first in `pooled`.
  const basisCount = options.basis === 'run' ? states : count * states;
  const pca = principalAxes(pooled.subarray(0, basisCount * dim), basisCount, dim, 3);

  let ghost: Float32Array | null = null;
  if (gaussian !== null) {
    ghost = new Float32Array(count * states * 3);
    for (let b = 0; b < count; b++) ghost.set(projectClosedForm(gaussian, noiseOf(b), sigmas, pca), b * states * 3);
  }

  // Rotation plane of the first trajectory: a·x0 + b·x_T.
  const noise = pooled.subarray(0, dim);
  const image = pooled.subarray((states - 1) * dim, states * dim);
  const corners = new Float32Array(4 * dim);
  const span = [-0.1, 1.1];
  let corner = 0;
  for (const a of span) {
    for (const b of a === span[0] ? span : [...span].reverse()) {
      for (let d = 0; d < dim; d++) corners[corner * dim + d] = a * image[d]! + b * noise[d]!;
      corner++;
    }
  }
  return {
    runId: options.runId,
    seeds,
    states,
    sigmas: Array.from(sigmas),
    points: projectOnAxes(pooled, count * states, pca),
    ghost,
    plane: projectOnAxes(corners, 4, pca),
    basis: options.basis,
    explained: Array.from(pca.variances, (v) => (pca.totalVariance > 0 ? v / pca.totalVariance : 0)),
    axisLabels: ['PC1', 'PC2', 'PC3'],
  };
}

/**
 * A path's own rotation-plane axes (DESIGN.md §2, rotation: x_t ≈ α_t·x0 +
 * σ_t·x_T): e1 along its final image x0, e2 along its start noise x_T made
 * orthogonal to e1, e3 the largest residual direction of its states outside
 * span{e1, e2} (top eigenvector of Σ_j r_j r_jᵀ, found by power iteration on
 * the states, never forming the D×D matrix). Uncentred: the plane passes
 * through the origin, where the theory puts it. `path` is [states][D]; the
 * result's `mean` is zero.
 */
export function rotationPlaneAxes(path: Float32Array | Float64Array, states: number, dim: number, iterations = 100): PrincipalAxes {
  const axes = new Float64Array(3 * dim);
  const first = path.subarray(0, dim);
  const last = path.subarray((states - 1) * dim, states * dim);
  for (let d = 0; d < dim; d++) {
    axes[d] = last[d]!;
    axes[dim + d] = first[d]!;
  }
  const normalise = (a: number): void => {
    for (let b = 0; b < a; b++) {
      let overlap = 0;
      for (let d = 0; d < dim; d++) overlap += axes[a * dim + d]! * axes[b * dim + d]!;
      for (let d = 0; d < dim; d++) axes[a * dim + d]! -= overlap * axes[b * dim + d]!;
    }
    let length = 0;
    for (let d = 0; d < dim; d++) length += axes[a * dim + d]! ** 2;
    length = Math.sqrt(length);
    if (!(length > 1e-12)) throw new PainterError('INTERNAL', 'rotationPlaneAxes: the start noise and the final image do not span a plane.');
    for (let d = 0; d < dim; d++) axes[a * dim + d]! /= length;
  };
  normalise(0);
  normalise(1);

  // Residuals r_j = x_j − (x_j·e1)e1 − (x_j·e2)e2, then power iteration on RᵀR.
  const residuals = new Float64Array(states * dim);
  for (let j = 0; j < states; j++) {
    let along1 = 0;
    let along2 = 0;
    for (let d = 0; d < dim; d++) {
      along1 += path[j * dim + d]! * axes[d]!;
      along2 += path[j * dim + d]! * axes[dim + d]!;
    }
    for (let d = 0; d < dim; d++) residuals[j * dim + d] = path[j * dim + d]! - along1 * axes[d]! - along2 * axes[dim + d]!;
  }
  const random = new Random(20230302, 11);
  let vector = new Float64Array(dim);
  for (let d = 0; d < dim; d++) vector[d] = random.normal();
  const weights = new Float64Array(states);
  for (let iteration = 0; iteration < iterations; iteration++) {
    for (let j = 0; j < states; j++) {
      let w = 0;
      for (let d = 0; d < dim; d++) w += residuals[j * dim + d]! * vector[d]!;
      weights[j] = w;
    }
    const next = new Float64Array(dim);
    for (let j = 0; j < states; j++) {
      const w = weights[j]!;
      if (w === 0) continue;
      for (let d = 0; d < dim; d++) next[d]! += w * residuals[j * dim + d]!;
    }
    let length = 0;
    for (let d = 0; d < dim; d++) length += next[d]! ** 2;
    length = Math.sqrt(length);
    if (!(length > 1e-30)) break; // the path lies in its plane exactly: any orthogonal direction will do
    let change = 0;
    for (let d = 0; d < dim; d++) {
      next[d]! /= length;
      change = Math.max(change, Math.abs(next[d]! - vector[d]!));
    }
    vector = next;
    if (change < 1e-10) break;
  }
  axes.set(vector, 2 * dim);
  normalise(2);

  const variances = new Float64Array(3);
  let totalVariance = 0;
  for (let j = 0; j < states; j++) {
    for (let a = 0; a < 3; a++) {
      let along = 0;
      for (let d = 0; d < dim; d++) along += path[j * dim + d]! * axes[a * dim + d]!;
      variances[a]! += (along * along) / states;
    }
    for (let d = 0; d < dim; d++) totalVariance += path[j * dim + d]! ** 2 / states;
  }
  return { mean: new Float64Array(dim), axes, variances, totalVariance };
}

/** Mean over a path's states of the share of ‖x_j‖² along each axis (uncentred). */
function normShares(path: Float32Array | Float64Array, states: number, dim: number, axes: PrincipalAxes): number[] {
  const shares = [0, 0, 0];
  for (let j = 0; j < states; j++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += path[j * dim + d]! ** 2;
    if (norm === 0) continue;
    for (let a = 0; a < 3; a++) {
      let along = 0;
      for (let d = 0; d < dim; d++) along += path[j * dim + d]! * axes.axes[a * dim + d]!;
      shares[a]! += (along * along) / norm / states;
    }
  }
  return shares;
}
