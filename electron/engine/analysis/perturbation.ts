/**
 * Perturbation sensitivity (DESIGN.md §2 "Perturbation transfer", §3 row 5):
 * a kick of norm a along a unit direction, in the model's own x_t convention
 * (so a kick of one size compares fairly across steps), injected at step s;
 * the change of the final image (L2; judge-feature distance and label flips
 * where a judge exists) beside the Gaussian theory's prediction for the same
 * kick. Output: a step × strength table.
 * @see Wang & Vastola 2023, arXiv 2303.02490, §6 (early perturbations change content)
 */
import type { GaussianModel } from '../denoisers/gaussian';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { Random } from '../rng';
import { vpAlpha } from '../schedules';
import { meanSd, pca, spearman, type MeanSd } from './linalg';
import { compareJudged, checkJudge, type ImageJudge } from './judge-port';
import {
  ProgressMeter,
  resolveRunSettings,
  sampleBatch,
  trajectoryRows,
  type AnalysisContext,
  type ResolvedRunSettings,
  type RunSettings,
} from './context';
import type { Trajectory } from '../samplers';

/** Which unit direction a kick follows. Indices are 0-based. */
export type DirectionSpec =
  | { kind: 'random' }
  | { kind: 'data-pc'; index: number }
  | { kind: 'x0-pc'; index: number }
  | { kind: 'patch'; size: number; top?: number; left?: number };

export interface PerturbationOptions extends RunSettings {
  /** Grid indices where the kick is injected (default: 0, 10, 20, 30, 45, 60, 80 % of the steps). */
  injectSteps?: readonly number[];
  /** Kick norms (default 1, 2, 4, 8). */
  strengths?: readonly number[];
  /**
   * Where a kick has norm a: `model` (default), the model's own x_t convention; `vp`, the VP view
   * x/sqrt(1 + σ²) whatever the model (the same as `model` for a VP network) — the fair comparison
   * across steps of DESIGN.md §2 for a σ-form (EDM) model too.
   */
  convention?: 'model' | 'vp';
  direction?: DirectionSpec;
  judge?: ImageJudge;
  /** Leading data PCs that make up "content" for the judge-free content change (default 16). */
  contentDimensions?: number;
  /** Keep the final images of the first seed for a picture (default true). */
  keepExample?: boolean;
}

export interface PerturbationCell {
  step: number;
  sigma: number;
  strength: number;
  /** ‖x0' − x0‖ over seeds. */
  change: MeanSd;
  /** The Gaussian theory's ‖Δx0‖ for the same kicks. */
  theory: MeanSd;
  /**
   * Content change without a judge: ‖U_Kᵀ(x0' − x0)‖, the change along the data's K leading PCs
   * (layout, outline) as opposed to details — and the Gaussian theory's value of it.
   */
  contentChange: MeanSd;
  contentTheory: MeanSd;
  featureDistance: MeanSd | null;
  flipRate: number | null;
}

export interface PerturbationResult {
  analysis: 'perturbation';
  /** `convention`: the x_t convention the kick norms are measured in. */
  settings: ResolvedRunSettings & { injectSteps: number[]; strengths: number[]; direction: DirectionSpec; convention: 'vp' | 'sigma'; judge: boolean; contentDimensions: number };
  /** σ-form noise level at each injection step. */
  injectSigmas: number[];
  /** [injection step][strength] */
  table: PerturbationCell[][];
  /** Spearman correlations of the mean measures with step index (per strength, then averaged) and with strength (per step, averaged). */
  trend: {
    changeWithStep: number;
    changeWithStrength: number;
    theoryWithStep: number;
    contentWithStep: number;
    featureWithStep: number | null;
    flipWithStep: number | null;
  };
  /** First seed: its unperturbed final image and the final image of every cell, [step][strength][D]. */
  example: { base: Float32Array; finals: Float32Array } | null;
}

export const DIRECTION_STREAM = 0xd1ec;

function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const n = Math.sqrt(sum);
  if (n === 0) throw new PainterError('BAD_ARGUMENT', 'A perturbation direction has zero norm.');
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

/** The unit direction of a kick for seed b of a base run. */
export function kickDirection(spec: DirectionSpec, denoiser: Denoiser, gaussian: GaussianModel, base: Trajectory, b: number, seed: number): Float32Array {
  const dim = denoiser.dim;
  switch (spec.kind) {
    case 'random':
      return normalize(new Random(seed, DIRECTION_STREAM).fillNormal(new Float32Array(dim)));
    case 'data-pc': {
      if (!Number.isInteger(spec.index) || spec.index < 0 || spec.index >= gaussian.rank) {
        throw new PainterError('BAD_ARGUMENT', `Data direction ${spec.index} does not exist; the Gaussian has ${gaussian.rank} (0-based).`);
      }
      return normalize(Float32Array.from({ length: dim }, (_, i) => gaussian.eigvecs[i * gaussian.rank + spec.index]!));
    }
    case 'x0-pc': {
      const rows = trajectoryRows(base.x0Hat, base, b);
      const count = rows.length / dim;
      if (!Number.isInteger(spec.index) || spec.index < 0 || spec.index >= count - 1) {
        throw new PainterError('BAD_ARGUMENT', `x̂0-trajectory component ${spec.index} does not exist; a run of ${count} states has ${count - 1}.`);
      }
      const { components } = pca(rows, count, dim, { components: spec.index + 1 });
      return normalize(Float32Array.from(components.subarray(spec.index * dim, (spec.index + 1) * dim)));
    }
    case 'patch': {
      const { channels, height, width } = denoiser.image;
      const size = spec.size;
      const top = spec.top ?? Math.floor((height - size) / 2);
      const left = spec.left ?? Math.floor((width - size) / 2);
      if (!Number.isInteger(size) || size < 1 || top < 0 || left < 0 || top + size > height || left + size > width) {
        throw new PainterError('BAD_ARGUMENT', `A ${size}×${size} patch at (${top}, ${left}) does not fit the ${height}×${width} image.`);
      }
      const noise = new Random(seed, DIRECTION_STREAM).fillNormal(new Float32Array(dim));
      const v = new Float32Array(dim);
      for (let c = 0; c < channels; c++) {
        for (let y = top; y < top + size; y++) for (let x = left; x < left + size; x++) v[c * height * width + y * width + x] = noise[c * height * width + y * width + x]!;
      }
      return normalize(v);
    }
  }
}

/**
 * ‖Δx0‖ the Gaussian model predicts for a kick δ (model convention) at σ-form
 * noise σ: in σ form the kick is δ/s (s the model's scale at σ) and its part
 * along u_k reaches the final image scaled by sqrt(λ_k/(σ² + λ_k)); in the VP
 * convention that is δ_k·sqrt(λ_k)/sqrt(σ_t² + α_t² λ_k) (DESIGN.md §2). With
 * `leading` < K, only the part of the change along the leading PCs.
 */
export function gaussianKickResponse(gaussian: GaussianModel, delta: ArrayLike<number>, sigma: number, modelScale: number, leading = gaussian.rank): number {
  const c = gaussian.project(delta);
  const s2 = sigma * sigma;
  let total = 0;
  let inSpan = 0;
  for (let k = 0; k < leading; k++) {
    const lambda = gaussian.eigvals[k]!;
    total += (c[k]! ** 2 * lambda) / (s2 + lambda);
    inSpan += c[k]! ** 2;
  }
  if (leading === gaussian.rank && gaussian.rank < gaussian.dim) {
    let all = 0;
    for (let i = 0; i < delta.length; i++) all += delta[i]! ** 2;
    const r = gaussian.residualVariance;
    total += r === 0 ? 0 : (Math.max(all - inSpan, 0) * r) / (s2 + r);
  }
  return Math.sqrt(total) / modelScale;
}

function defaultInjectSteps(steps: number): number[] {
  return [...new Set([0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8].map((f) => Math.min(steps - 1, Math.round(f * steps))))];
}

/** Spearman correlation of each row's means with the column positions, averaged over rows. */
function meanTrend(rows: number[][]): number {
  const values = rows.map((row) => spearman(row, row.map((_, i) => i))).filter(Number.isFinite);
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

function transpose(rows: number[][]): number[][] {
  return (rows[0] ?? []).map((_, j) => rows.map((row) => row[j]!));
}

export async function perturbationAnalysis(denoiser: Denoiser, gaussian: GaussianModel, options: PerturbationOptions = {}, context: AnalysisContext = {}): Promise<PerturbationResult> {
  const run = resolveRunSettings(options, denoiser);
  const dim = denoiser.dim;
  if (gaussian.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The Gaussian model has D = ${gaussian.dim}; the model has D = ${dim}.`);
  const injectSteps = [...(options.injectSteps ?? defaultInjectSteps(run.steps))];
  const strengths = [...(options.strengths ?? [1, 2, 4, 8])];
  const direction = options.direction ?? { kind: 'random' };
  if (injectSteps.some((s) => !Number.isInteger(s) || s < 0 || s >= run.steps)) {
    throw new PainterError('BAD_ARGUMENT', `Injection steps must be integers from 0 to ${run.steps - 1}; got ${injectSteps.join(', ')}.`);
  }
  if (strengths.length === 0 || strengths.some((a) => !(a > 0))) throw new PainterError('BAD_ARGUMENT', 'Kick strengths must be positive numbers.');
  const judge = options.judge;
  if (judge) checkJudge(judge, denoiser);
  const vpKicks = options.convention === 'vp';
  const contentDimensions = Math.min(options.contentDimensions ?? 16, gaussian.rank);
  const difference = new Float64Array(dim);

  const seeds = run.seeds;
  const batch = seeds.length;
  const cells = batch * strengths.length;
  const meter = new ProgressMeter(context, run.steps + injectSteps.reduce((sum, s) => sum + run.steps - s, 0));
  const base = await sampleBatch(denoiser, run, seeds, meter, 'unperturbed runs', context);
  const last = base.sigmas.length - 1;
  const baseFinal = base.states.slice(last * batch * dim, (last + 1) * batch * dim);
  const baseJudged = judge ? await judge.classify(baseFinal) : null;
  const units = seeds.map((seed, b) => kickDirection(direction, denoiser, gaussian, base, b, seed));
  const keepExample = options.keepExample ?? true;
  const exampleFinals = keepExample ? new Float32Array(injectSteps.length * strengths.length * dim) : null;

  const table: PerturbationCell[][] = [];
  for (const [row, step] of injectSteps.entries()) {
    const sigma = base.sigmas[step]!;
    const scale = denoiser.schedule.modelScale(sigma);
    // A kick of norm a in the VP view is a·s/α in the model's convention (s its scale, α = 1/sqrt(1+σ²)).
    const toModel = vpKicks ? scale / vpAlpha(sigma) : 1;
    // Batch layout: cell = strength index · B + seed index.
    const start = new Float32Array(cells * dim);
    const delta = new Float32Array(cells * dim);
    const branchSeeds: number[] = [];
    strengths.forEach((strength, a) => {
      for (let b = 0; b < batch; b++) {
        const cell = a * batch + b;
        start.set(base.states.subarray((step * batch + b) * dim, (step * batch + b + 1) * dim), cell * dim);
        for (let i = 0; i < dim; i++) delta[cell * dim + i] = strength * toModel * units[b]![i]!;
        branchSeeds.push(seeds[b]!);
      }
    });
    const branch = await sampleBatch(denoiser, run, branchSeeds, meter, `kicks at step ${step}`, context, {
      start: { step, state: start },
      perturbation: { step, delta },
    });
    const finals = branch.states.subarray((branch.sigmas.length - 1) * cells * dim);
    const judged = judge ? await judge.classify(Float32Array.from(finals)) : null;
    const rowCells: PerturbationCell[] = strengths.map((strength, a) => {
      const changes: number[] = [];
      const content: number[] = [];
      const contentTheory: number[] = [];
      const theory: number[] = [];
      const features: number[] = [];
      let flips = 0;
      for (let b = 0; b < batch; b++) {
        const cell = a * batch + b;
        let sum = 0;
        for (let i = 0; i < dim; i++) sum += (finals[cell * dim + i]! - baseFinal[b * dim + i]!) ** 2;
        changes.push(Math.sqrt(sum));
        const kick = delta.subarray(cell * dim, (cell + 1) * dim);
        theory.push(gaussianKickResponse(gaussian, kick, sigma, scale));
        contentTheory.push(gaussianKickResponse(gaussian, kick, sigma, scale, contentDimensions));
        for (let i = 0; i < dim; i++) difference[i] = finals[cell * dim + i]! - baseFinal[b * dim + i]!;
        const c = gaussian.project(difference);
        let power = 0;
        for (let k = 0; k < contentDimensions; k++) power += c[k]! ** 2;
        content.push(Math.sqrt(power));
      }
      if (judged && baseJudged) {
        const slice = {
          ...judged,
          count: batch,
          logits: judged.logits.subarray(a * batch * judged.classCount, (a + 1) * batch * judged.classCount),
          features: judged.features.subarray(a * batch * judged.featureDim, (a + 1) * batch * judged.featureDim),
        };
        const compared = compareJudged(baseJudged, slice);
        features.push(...compared.featureDistance);
        flips = compared.flipped.filter(Boolean).length;
      }
      if (exampleFinals) exampleFinals.set(finals.subarray(a * batch * dim, (a * batch + 1) * dim), (row * strengths.length + a) * dim);
      return {
        step,
        sigma,
        strength,
        change: meanSd(changes),
        theory: meanSd(theory),
        contentChange: meanSd(content),
        contentTheory: meanSd(contentTheory),
        featureDistance: judged ? meanSd(features) : null,
        flipRate: judged ? flips / batch : null,
      };
    });
    table.push(rowCells);
  }

  const byStrength = (pick: (cell: PerturbationCell) => number): number[][] => transpose(table.map((row) => row.map(pick)));
  return {
    analysis: 'perturbation',
    settings: {
      ...run,
      injectSteps,
      strengths,
      direction,
      convention: vpKicks || denoiser.schedule.kind === 'vp' ? 'vp' : 'sigma',
      judge: judge !== undefined,
      contentDimensions,
    },
    injectSigmas: injectSteps.map((s) => base.sigmas[s]!),
    table,
    trend: {
      changeWithStep: meanTrend(byStrength((c) => c.change.mean)),
      changeWithStrength: meanTrend(table.map((row) => row.map((c) => c.change.mean))),
      theoryWithStep: meanTrend(byStrength((c) => c.theory.mean)),
      contentWithStep: meanTrend(byStrength((c) => c.contentChange.mean)),
      featureWithStep: judge ? meanTrend(byStrength((c) => c.featureDistance!.mean)) : null,
      flipWithStep: judge ? meanTrend(byStrength((c) => c.flipRate!)) : null,
    },
    example: exampleFinals ? { base: baseFinal.slice(0, dim), finals: exampleFinals } : null,
  };
}
