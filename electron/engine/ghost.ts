/**
 * The Gaussian "ghost" of a run (DESIGN.md §1.2, §2): the closed-form
 * probability-flow trajectory of the Gaussian with the data's mean and
 * covariance, started from the run's own x_T and evaluated on the run's own σ
 * grid, so theory and model can be compared state by state.
 */
import type { GaussianGhost, StateConvention } from '../api/contract';
import { findGaussian } from './analysis/resources';
import type { GaussianModel } from './denoisers/gaussian';
import type { Denoiser } from './denoisers/types';
import { PainterError } from './errors';
import type { ModelRegistry } from './models';
import type { RunRecord } from './runs';
import { vpAlpha } from './schedules';

/** Factor from σ form to a run's stored convention. */
export function conventionScale(convention: StateConvention, sigma: number): number {
  return convention === 'vp' ? vpAlpha(sigma) : 1;
}

/**
 * Each model's data Gaussian, looked up once (analysis/resources.ts,
 * findGaussian): the Gaussian model itself, the `stats` file its manifest
 * names (a network's data statistics), or else an installed Gaussian model of
 * the same image size (mixture and delta models of the same data).
 */
export class GaussianStatsCache {
  private readonly cache = new Map<string, { model: GaussianModel | null; reason: string }>();

  constructor(private readonly registry: ModelRegistry) {}

  async get(modelId: string): Promise<{ model: GaussianModel | null; reason: string }> {
    const cached = this.cache.get(modelId);
    if (cached !== undefined) return cached;
    const entry = await this.load(modelId);
    // Only a model is kept: statistics a user computes while the studio is open (painter stats) are found at the next request.
    if (entry.model !== null) this.cache.set(modelId, entry);
    return entry;
  }

  private async load(modelId: string): Promise<{ model: GaussianModel | null; reason: string }> {
    const registered = this.registry.get(modelId);
    const denoiser: Denoiser = await this.registry.load(modelId);
    try {
      // The model itself, the statistics its manifest names, or a bundled Gaussian of its image size.
      const found = await findGaussian(this.registry, registered, denoiser);
      return { model: found.gaussian, reason: '' };
    } catch (error) {
      const detail = error instanceof PainterError && error.code === 'BAD_ARGUMENT' ? '' : ` (${(error as Error).message})`;
      return {
        model: null,
        reason:
          `"${registered.manifest.name}" has no Gaussian statistics, and no Gaussian model of its image size is installed${detail}.` +
          (registered.manifest.kind === 'diffusers'
            ? ` Compute the statistics of its latents with: painter stats --model "${registered.folder}" --from-samples 200 (or --images FOLDER of your pictures).`
            : ''),
      };
    }
  }
}

/**
 * The closed-form states and the Gaussian's x̂0 along them, in one pass over U
 * per state (DESIGN.md §2): with c = Uᵀ(x_T − μ) and x⊥ the rest,
 *   x(σ)    = μ + Σ_k a_k c_k u_k + p x⊥,               a_k = √((σ² + λ_k)/(σ_T² + λ_k)), p = √((σ² + r)/(σ_T² + r)),
 *   D(x, σ) = μ + Σ_k λ_k/(λ_k + σ²) a_k c_k u_k + r/(r + σ²) p x⊥,
 * which is what GaussianModel.closedFormTrajectory and .denoise give, without
 * projecting every state again. At σ = 0, D = x (the shrink factor is 1, also
 * along zero-variance directions, where λ/(λ + σ²) would be 0/0).
 * @returns σ-form states and x̂0, [states][D] each
 */
export function closedFormWithEstimates(gaussian: GaussianModel, start: Float32Array, sigmas: ArrayLike<number>): { states: Float32Array; x0Hat: Float32Array } {
  const { dim, rank, eigvecs, eigvals, mean, residualVariance: r } = gaussian;
  const centred = new Float64Array(dim);
  for (let i = 0; i < dim; i++) centred[i] = start[i]! - mean[i]!;
  const c = gaussian.project(centred);
  const perp = new Float64Array(dim);
  const truncated = rank < dim;
  if (truncated) {
    for (let i = 0; i < dim; i++) {
      let inSpan = 0;
      for (let k = 0; k < rank; k++) inSpan += eigvecs[i * rank + k]! * c[k]!;
      perp[i] = centred[i]! - inSpan;
    }
  }
  const sT2 = Number(sigmas[0]) ** 2;
  const count = sigmas.length;
  const states = new Float32Array(count * dim);
  const x0Hat = new Float32Array(count * dim);
  const stateCoefficients = new Float64Array(rank);
  const estimateCoefficients = new Float64Array(rank);
  for (let j = 0; j < count; j++) {
    const s2 = Number(sigmas[j]) ** 2;
    for (let k = 0; k < rank; k++) {
      const lambda = eigvals[k]!;
      stateCoefficients[k] = c[k]! * Math.sqrt((s2 + lambda) / (sT2 + lambda));
      estimateCoefficients[k] = s2 === 0 ? stateCoefficients[k]! : (stateCoefficients[k]! * lambda) / (lambda + s2);
    }
    const p = truncated ? Math.sqrt((s2 + r) / (sT2 + r)) : 0;
    const shrink = s2 === 0 ? 1 : r / (r + s2);
    for (let i = 0; i < dim; i++) {
      let x = 0;
      let d = 0;
      for (let k = 0; k < rank; k++) {
        const u = eigvecs[i * rank + k]!;
        x += u * stateCoefficients[k]!;
        d += u * estimateCoefficients[k]!;
      }
      states[j * dim + i] = mean[i]! + x + p * perp[i]!;
      x0Hat[j * dim + i] = mean[i]! + d + shrink * p * perp[i]!;
    }
  }
  return { states, x0Hat };
}

/**
 * Closed form from the run's x_T on the run's σ grid. x_T in σ form is the
 * stored state 0 divided by its convention factor.
 */
export function gaussianGhost(run: RunRecord, gaussian: GaussianModel): GaussianGhost & { available: true } {
  const { summary } = run;
  const dim = gaussian.dim;
  const sigmas = summary.sigmas;
  const states = sigmas.length;
  const convention = summary.convention;
  const start = new Float32Array(dim);
  const toSigma = 1 / conventionScale(convention, sigmas[0]!);
  for (let i = 0; i < dim; i++) start[i] = run.xt[i]! * toSigma;
  const closed = closedFormWithEstimates(gaussian, start, sigmas);
  const x0Hat = closed.x0Hat;
  const xt = closed.states;
  for (let j = 0; j < states; j++) {
    const scale = conventionScale(convention, sigmas[j]!);
    if (scale !== 1) for (let i = 0; i < dim; i++) xt[j * dim + i]! *= scale;
  }

  // Commitment (DESIGN.md §2): along u_k the power fraction decided at σ is λ_k/(λ_k + σ²).
  const last = (states - 1) * dim;
  const centred = new Float64Array(dim);
  for (let i = 0; i < dim; i++) centred[i] = run.x0Hat[last + i]! - gaussian.mean[i]!;
  const c = gaussian.project(centred);
  let total = 0;
  for (let k = 0; k < gaussian.rank; k++) total += c[k]! ** 2;
  const decided = sigmas.map((sigma) => {
    if (total === 0) return 1;
    let committed = 0;
    for (let k = 0; k < gaussian.rank; k++) {
      const lambda = gaussian.eigvals[k]!;
      committed += lambda + sigma * sigma > 0 ? (c[k]! ** 2 * lambda) / (lambda + sigma * sigma) : c[k]! ** 2;
    }
    return committed / total;
  });
  const deviation = sigmas.map((_, j) => {
    let squared = 0;
    for (let i = 0; i < dim; i++) squared += (run.x0Hat[j * dim + i]! - x0Hat[j * dim + i]!) ** 2;
    return Math.sqrt(squared / dim);
  });
  return { available: true, runId: summary.runId, xt, x0Hat, decided, deviation };
}
