/**
 * Trajectory geometry (DESIGN.md §2 "Rotation", §3 rows 1–2): PCA of each
 * x_t trajectory, the part of x_t outside span{x_T, x0}, and the error of the
 * rotation approximation x_t ≈ α_t·x̂0 + σ_t·x_T; the same for the x̂0
 * trajectory. Measured in the VP view x_t = α·x (α = 1/sqrt(1+σ²)) whatever
 * the model's convention, so that x_t keeps unit scale and the rotation is
 * visible (in σ form the early states are dominated by their size).
 * @see Wang & Vastola 2023, arXiv 2303.02490, §4 (trajectories are rotations in a 2-D plane)
 */
import type { Denoiser } from '../denoisers/types';
import type { Trajectory } from '../samplers';
import { columnMeanSd, meanSd, pca, type MeanSd } from './linalg';
import { pickStates, ProgressMeter, resolveRunSettings, sampleBatch, stackStates, trajectoryRows, vpView, type AnalysisContext, type ResolvedRunSettings, type RunSettings } from './context';

export interface TrajectoryOptions extends RunSettings {
  /** How many principal components to report (default 5). */
  components?: number;
}

/** The geometry of one trajectory. */
export interface TrajectoryGeometry {
  /** Share of the variance of the x_t trajectory along PCs 1…components. */
  explained: number[];
  /** Share along the top two PCs. */
  top2: number;
  /** Per state: ‖x_t − P x_t‖/‖x_t‖, P the projection onto span{x_T, final x0}. */
  spanResidual: number[];
  /** Per state: ‖x_t − (α_t x̂0_t + σ_t x_T)‖/‖x_t‖, x̂0_t the estimate at that state. */
  rotationError: number[];
  /** Per state: ‖x_t − (α_t x0 + σ_t x_T)‖/‖x_t‖ with the final image x0 (the exact-rotation picture). */
  rotationErrorFinal: number[];
  /** The x̂0 trajectory: PCA shares, and the part of x̂0_t outside span{x̂0 at the first state, final x0}. */
  x0Hat: { explained: number[]; top2: number; spanResidual: number[] };
}

export interface TrajectoryResult {
  analysis: 'trajectory';
  settings: ResolvedRunSettings & { components: number; view: 'vp' };
  /** σ-form noise level of each recorded state, and its VP α and σ_t. */
  sigmas: number[];
  alphas: number[];
  vpSigmas: number[];
  /** Mean ± sd over seeds. */
  explained: MeanSd[];
  top2: MeanSd;
  spanResidual: MeanSd[];
  rotationError: MeanSd[];
  rotationErrorFinal: MeanSd[];
  /** Largest mean residual outside span{x_T, x0}, the state where it occurs and that state's position in [0, 1]. */
  peakResidual: { value: number; state: number; position: number };
  x0Hat: { explained: MeanSd[]; top2: MeanSd; spanResidual: MeanSd[] };
  perSeed: Array<{ seed: number } & TrajectoryGeometry>;
  /** First seed at a few states: VP x_t and x̂0, [pick][D] each. */
  example: { states: number[]; xt: Float32Array; x0Hat: Float32Array };
}

function norm(v: Float64Array | Float32Array, offset: number, dim: number): number {
  let sum = 0;
  for (let i = 0; i < dim; i++) sum += v[offset + i]! ** 2;
  return Math.sqrt(sum);
}

/**
 * Relative residual of each row outside span{a, b} (a, b two rows of `rows`),
 * by Gram–Schmidt on the pair.
 */
function residualOutsidePlane(rows: Float64Array, count: number, dim: number, aIndex: number, bIndex: number): number[] {
  const e1 = rows.slice(aIndex * dim, (aIndex + 1) * dim);
  const n1 = norm(e1, 0, dim);
  for (let i = 0; i < dim; i++) e1[i]! /= n1 || 1;
  const e2 = rows.slice(bIndex * dim, (bIndex + 1) * dim);
  let p = 0;
  for (let i = 0; i < dim; i++) p += e2[i]! * e1[i]!;
  for (let i = 0; i < dim; i++) e2[i]! -= p * e1[i]!;
  const n2 = norm(e2, 0, dim);
  for (let i = 0; i < dim; i++) e2[i]! /= n2 || 1;
  const out: number[] = [];
  for (let j = 0; j < count; j++) {
    let c1 = 0;
    let c2 = 0;
    for (let i = 0; i < dim; i++) {
      c1 += rows[j * dim + i]! * e1[i]!;
      c2 += rows[j * dim + i]! * e2[i]!;
    }
    let residual = 0;
    for (let i = 0; i < dim; i++) residual += (rows[j * dim + i]! - c1 * e1[i]! - c2 * e2[i]!) ** 2;
    const total = norm(rows, j * dim, dim);
    out.push(total === 0 ? 0 : Math.sqrt(residual) / total);
  }
  return out;
}

/**
 * The geometry of one trajectory from its σ-form states and x̂0 estimates
 * (rows [state][D]) and the σ of each state. Pure; also applied to closed-form
 * trajectories by the tests.
 */
export function trajectoryGeometry(states: ArrayLike<number>, x0Hat: ArrayLike<number>, sigmas: ArrayLike<number>, dim: number, components = 5): TrajectoryGeometry {
  const count = sigmas.length;
  const xt = new Float64Array(count * dim);
  for (let j = 0; j < count; j++) {
    const { alpha } = vpView(sigmas[j]!);
    for (let i = 0; i < dim; i++) xt[j * dim + i] = alpha * states[j * dim + i]!;
  }
  const statesPca = pca(xt, count, dim, { components });
  const last = count - 1;
  const rotationError: number[] = [];
  const rotationErrorFinal: number[] = [];
  for (let j = 0; j < count; j++) {
    const { alpha, noise } = vpView(sigmas[j]!);
    let current = 0;
    let final = 0;
    for (let i = 0; i < dim; i++) {
      const x = xt[j * dim + i]!;
      const start = xt[i]!;
      current += (x - alpha * x0Hat[j * dim + i]! - noise * start) ** 2;
      final += (x - alpha * xt[last * dim + i]! - noise * start) ** 2;
    }
    const size = norm(xt, j * dim, dim) || 1;
    rotationError.push(Math.sqrt(current) / size);
    rotationErrorFinal.push(Math.sqrt(final) / size);
  }
  const x0Rows = Float64Array.from({ length: count * dim }, (_, k) => x0Hat[k]!);
  const x0Pca = pca(x0Rows, count, dim, { components });
  const explained = Array.from(statesPca.explained);
  const x0Explained = Array.from(x0Pca.explained);
  return {
    explained,
    top2: (explained[0] ?? 0) + (explained[1] ?? 0),
    spanResidual: residualOutsidePlane(xt, count, dim, 0, last),
    rotationError,
    rotationErrorFinal,
    x0Hat: {
      explained: x0Explained,
      top2: (x0Explained[0] ?? 0) + (x0Explained[1] ?? 0),
      spanResidual: residualOutsidePlane(x0Rows, count, dim, 0, last),
    },
  };
}

export async function trajectoryAnalysis(denoiser: Denoiser, options: TrajectoryOptions = {}, context: AnalysisContext = {}): Promise<TrajectoryResult> {
  const run = resolveRunSettings(options, denoiser);
  const components = options.components ?? 5;
  const meter = new ProgressMeter(context, run.steps + run.seeds.length);
  const trajectory = await sampleBatch(denoiser, run, run.seeds, meter, 'sampling', context);
  const sigmas = Array.from(trajectory.sigmas);
  const perSeed: TrajectoryResult['perSeed'] = [];
  for (const [b, seed] of run.seeds.entries()) {
    const geometry = trajectoryGeometry(trajectoryRows(trajectory.states, trajectory, b), trajectoryRows(trajectory.x0Hat, trajectory, b), sigmas, denoiser.dim, components);
    perSeed.push({ seed, ...geometry });
    await meter.step(1, `geometry of seed ${seed}`);
  }
  const spanResidual = columnMeanSd(perSeed.map((g) => g.spanResidual));
  let peak = 0;
  spanResidual.forEach((value, j) => {
    if (value.mean > spanResidual[peak]!.mean) peak = j;
  });
  return {
    analysis: 'trajectory',
    settings: { ...run, components, view: 'vp' },
    sigmas,
    alphas: sigmas.map((s) => vpView(s).alpha),
    vpSigmas: sigmas.map((s) => vpView(s).noise),
    explained: columnMeanSd(perSeed.map((g) => g.explained)),
    top2: meanSd(perSeed.map((g) => g.top2)),
    spanResidual,
    rotationError: columnMeanSd(perSeed.map((g) => g.rotationError)),
    rotationErrorFinal: columnMeanSd(perSeed.map((g) => g.rotationErrorFinal)),
    peakResidual: { value: spanResidual[peak]!.mean, state: peak, position: peak / Math.max(sigmas.length - 1, 1) },
    x0Hat: {
      explained: columnMeanSd(perSeed.map((g) => g.x0Hat.explained)),
      top2: meanSd(perSeed.map((g) => g.x0Hat.top2)),
      spanResidual: columnMeanSd(perSeed.map((g) => g.x0Hat.spanResidual)),
    },
    perSeed,
    example: exampleOf(trajectory),
  };
}

function exampleOf(trajectory: Trajectory): TrajectoryResult['example'] {
  const states = pickStates(trajectory.sigmas.length, 10);
  return {
    states,
    xt: stackStates(trajectory.states, trajectory, 0, states, (s) => vpView(s).alpha),
    x0Hat: stackStates(trajectory.x0Hat, trajectory, 0, states),
  };
}
