/**
 * Analytical teleportation (DESIGN.md §2, §3 row 6): skip the first k % of
 * network evaluations by starting the sampler at σ_skip from the closed-form
 * Gaussian state of the same x_T. Per k: the per-sample difference to the
 * full run and the sample quality (Fréchet distance in the data's top
 * principal coordinates; with a judge also its feature Fréchet distance,
 * class accuracy and score); the largest k whose quality loss stays within
 * run-to-run noise (2 bootstrap sd over seeds of the full run).
 * @see Wang & Vastola 2024, arXiv 2412.09726, §5 (analytical teleportation)
 */
import type { GaussianModel } from '../denoisers/gaussian';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { classAccuracy, featureStatistics, frechetDistance, judgeScore, type FeatureStatistics, type JudgeOutput } from '../judge';
import { Random } from '../rng';
import { initialNoise } from '../samplers';
import { meanSd, type MeanSd } from './linalg';
import { checkJudge, type ImageJudge } from './judge-port';
import { ProgressMeter, resolveRunSettings, sampleBatch, type AnalysisContext, type ResolvedRunSettings, type RunSettings } from './context';

export interface TeleportOptions extends RunSettings {
  /** Fractions of the steps to skip (default 0, 0.1, 0.2, 0.3, 0.4, 0.5); 0 (the full run) is always added. */
  skips?: readonly number[];
  judge?: ImageJudge;
  /** Principal coordinates for the judge-free Fréchet distance (default 16). */
  pcDimensions?: number;
  /** Bootstrap replicates for run-to-run noise (default 20). */
  bootstrap?: number;
  /**
   * Give seed b the class b mod C (a class-conditional model), so that a judge
   * can score class accuracy; overrides classLabel.
   */
  classCycle?: boolean;
  /**
   * One Gaussian per class (a class-conditional Gaussian mixture's components): a
   * class-conditional run then teleports with its own class's closed form, the
   * Gaussian theory of the class's data, instead of the all-data Gaussian.
   */
  classGaussians?: readonly GaussianModel[];
}

export interface SampleQuality {
  /** Fréchet distance of the samples' top principal coordinates to the data Gaussian's. */
  pcFrechet: number;
  judgeFrechet: number | null;
  /** Fraction judged to be the class asked for (class-conditional runs only). */
  judgeAccuracy: number | null;
  judgeScore: number | null;
}

export interface TeleportRow {
  skip: number;
  startStep: number;
  sigmaSkip: number;
  /** Network evaluations per sample, and how many the skip saved. */
  evaluations: number;
  saved: number;
  /** RMS per pixel of the final image minus the full run's, over seeds. */
  difference: MeanSd;
  quality: SampleQuality;
  /** True when no quality measure is worse than the full run's by more than 2 noise sd. */
  withinNoise: boolean;
}

export interface TeleportResult {
  analysis: 'teleport';
  settings: ResolvedRunSettings & { skips: number[]; pcDimensions: number; bootstrap: number; judge: boolean; classCycle: boolean; classGaussians: boolean };
  rows: TeleportRow[];
  /** Bootstrap sd over seeds of each quality measure of the full run. */
  noise: { pcFrechet: number; judgeFrechet: number | null; judgeAccuracy: number | null; judgeScore: number | null };
  /** The largest skip with every smaller one also within noise. */
  largestSafe: { skip: number; startStep: number; saved: number; savedFraction: number };
  /** Final images of the first seed per skip, [row][D]. */
  example: Float32Array;
}

const BOOTSTRAP_STREAM = 0xb007;

function pcStatistics(images: Float32Array, count: number, gaussian: GaussianModel, dims: number): FeatureStatistics {
  const coordinates = new Float32Array(count * dims);
  const centred = new Float64Array(gaussian.dim);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < gaussian.dim; i++) centred[i] = images[n * gaussian.dim + i]! - gaussian.mean[i]!;
    coordinates.set(gaussian.project(centred).subarray(0, dims), n * dims);
  }
  return featureStatistics(coordinates, dims);
}

function dataPcStatistics(gaussian: GaussianModel, dims: number): FeatureStatistics {
  const covariance = new Float64Array(dims * dims);
  for (let k = 0; k < dims; k++) covariance[k * dims + k] = gaussian.eigvals[k]!;
  return { dim: dims, count: Number.POSITIVE_INFINITY, mean: new Float64Array(dims), covariance };
}

interface QualityInputs {
  images: Float32Array;
  judged: JudgeOutput | null;
  /** The class each image was asked for (null: unconditional). */
  labels: ReadonlyArray<number | null>;
}

function subset(inputs: QualityInputs, indices: readonly number[], dim: number): QualityInputs {
  const images = new Float32Array(indices.length * dim);
  indices.forEach((n, i) => images.set(inputs.images.subarray(n * dim, (n + 1) * dim), i * dim));
  const labels = indices.map((n) => inputs.labels[n]!);
  if (inputs.judged === null) return { images, judged: null, labels };
  const { classCount, featureDim } = inputs.judged;
  const logits = new Float32Array(indices.length * classCount);
  const features = new Float32Array(indices.length * featureDim);
  indices.forEach((n, i) => {
    logits.set(inputs.judged!.logits.subarray(n * classCount, (n + 1) * classCount), i * classCount);
    features.set(inputs.judged!.features.subarray(n * featureDim, (n + 1) * featureDim), i * featureDim);
  });
  return { images, judged: { ...inputs.judged, count: indices.length, logits, features }, labels };
}

export async function teleportAnalysis(denoiser: Denoiser, gaussian: GaussianModel, options: TeleportOptions = {}, context: AnalysisContext = {}): Promise<TeleportResult> {
  const run = resolveRunSettings(options, denoiser, { seeds: 32 });
  const dim = denoiser.dim;
  if (gaussian.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The Gaussian model has D = ${gaussian.dim}; the model has D = ${dim}.`);
  if (run.sampler === 'ddpm') throw new PainterError('BAD_ARGUMENT', 'Teleportation compares deterministic runs; use the euler or heun sampler.');
  if (run.seeds.length < 4) throw new PainterError('BAD_ARGUMENT', `Teleportation needs at least 4 seeds to measure sample quality; got ${run.seeds.length}.`);
  const requested = options.skips ?? [0, 0.1, 0.2, 0.3, 0.4, 0.5];
  if (requested.some((f) => !(f >= 0 && f < 1))) throw new PainterError('BAD_ARGUMENT', `Skip fractions must lie in [0, 1); got ${requested.join(', ')}.`);
  const startSteps = [...new Set([0, ...requested.map((f) => Math.min(run.steps - 1, Math.round(f * run.steps)))])].sort((a, b) => a - b);
  const pcDimensions = Math.min(options.pcDimensions ?? 16, gaussian.rank);
  const bootstrap = options.bootstrap ?? 20;
  const judge = options.judge;
  if (judge) checkJudge(judge, denoiser);

  const seeds = run.seeds;
  const batch = seeds.length;
  const classCycle = (options.classCycle ?? false) && denoiser.classes !== null;
  const labels = seeds.map((_, b) => (classCycle ? b % denoiser.classes!.length : run.classLabel));
  const classGaussians = options.classGaussians ?? null;
  if (classGaussians !== null) {
    if (denoiser.classes === null || classGaussians.length !== denoiser.classes.length) {
      throw new PainterError('BAD_ARGUMENT', `Class Gaussians need a class-conditional model with ${classGaussians.length} classes.`);
    }
    if (classGaussians.some((g) => g.dim !== dim)) throw new PainterError('BAD_ARGUMENT', `The class Gaussians' dimension differs from the model's D = ${dim}.`);
  }
  const teleportGaussian = (b: number): GaussianModel => {
    const label = labels[b];
    return classGaussians !== null && label !== null && label !== undefined ? classGaussians[label]! : gaussian;
  };
  const sigmas = denoiser.schedule.samplingSigmas(run.steps, run.sampler);
  const meter = new ProgressMeter(context, startSteps.reduce((sum, s) => sum + run.steps - s, 0) + bootstrap);
  const noise = new Float32Array(batch * dim);
  seeds.forEach((seed, b) => noise.set(initialNoise(denoiser, seed, sigmas[0]!), b * dim));
  const reference = dataPcStatistics(gaussian, pcDimensions);

  const quality = (inputs: QualityInputs): SampleQuality => {
    const count = inputs.images.length / dim;
    return {
      pcFrechet: frechetDistance(pcStatistics(inputs.images, count, gaussian, pcDimensions), reference),
      judgeFrechet: inputs.judged && judge ? frechetDistance(featureStatistics(inputs.judged.features, inputs.judged.featureDim), judge.testStats) : null,
      judgeAccuracy: inputs.judged && inputs.labels.every((l) => l !== null) ? classAccuracy(inputs.judged, inputs.labels as number[]) : null,
      judgeScore: inputs.judged ? judgeScore(inputs.judged) : null,
    };
  };

  let fullJudged: JudgeOutput | null = null;
  const outputs: Array<{ startStep: number; finals: Float32Array; evaluations: number; quality: SampleQuality }> = [];
  for (const startStep of startSteps) {
    let trajectory;
    if (startStep === 0) {
      trajectory = await sampleBatch(denoiser, run, seeds, meter, 'full runs', context, { sigmas, labels });
    } else {
      const state = new Float32Array(batch * dim);
      for (let b = 0; b < batch; b++) {
        state.set(teleportGaussian(b).closedFormTrajectory(noise.subarray(b * dim, (b + 1) * dim), sigmas[0]!, [sigmas[startStep]!]), b * dim);
      }
      trajectory = await sampleBatch(denoiser, run, seeds, meter, `teleported from step ${startStep}`, context, { sigmas, labels, start: { step: startStep, state } });
    }
    const last = trajectory.sigmas.length - 1;
    const finals = trajectory.states.slice(last * batch * dim, (last + 1) * batch * dim);
    const judged = judge ? await judge.classify(finals) : null;
    outputs.push({ startStep, finals, evaluations: trajectory.evaluations[last * batch]!, quality: quality({ images: finals, judged, labels }) });
    if (startStep === 0) fullJudged = judged;
  }

  // Run-to-run noise: bootstrap over the seeds of the full run.
  const full = outputs[0]!;
  const random = new Random(seeds[0]!, BOOTSTRAP_STREAM);
  const replicates: SampleQuality[] = [];
  for (let r = 0; r < bootstrap; r++) {
    const indices = Array.from({ length: batch }, () => Math.min(batch - 1, Math.floor(random.uniform() * batch)));
    replicates.push(quality(subset({ images: full.finals, judged: fullJudged, labels }, indices, dim)));
    await meter.step(1, 'bootstrap');
  }
  const sdOf = (pick: (q: SampleQuality) => number | null): number | null => {
    const values = replicates.map(pick);
    return values[0] === null ? null : meanSd(values as number[]).sd;
  };
  const noiseSd = {
    pcFrechet: sdOf((q) => q.pcFrechet)!,
    judgeFrechet: sdOf((q) => q.judgeFrechet),
    judgeAccuracy: sdOf((q) => q.judgeAccuracy),
    judgeScore: sdOf((q) => q.judgeScore),
  };
  const worseBy = (value: number | null, baseline: number | null, sd: number | null, lowerIsBetter: boolean): boolean => {
    if (value === null || baseline === null || sd === null) return false;
    const loss = lowerIsBetter ? value - baseline : baseline - value;
    return loss > 2 * sd + 1e-12;
  };

  const fullEvaluations = full.evaluations;
  const rows: TeleportRow[] = outputs.map((output) => {
    const differences = seeds.map((_, b) => {
      let sum = 0;
      for (let i = 0; i < dim; i++) sum += (output.finals[b * dim + i]! - full.finals[b * dim + i]!) ** 2;
      return Math.sqrt(sum / dim);
    });
    const q = output.quality;
    const base = full.quality;
    const withinNoise = !(
      worseBy(q.pcFrechet, base.pcFrechet, noiseSd.pcFrechet, true) ||
      worseBy(q.judgeFrechet, base.judgeFrechet, noiseSd.judgeFrechet, true) ||
      worseBy(q.judgeAccuracy, base.judgeAccuracy, noiseSd.judgeAccuracy, false) ||
      worseBy(q.judgeScore, base.judgeScore, noiseSd.judgeScore, false)
    );
    return {
      skip: output.startStep / run.steps,
      startStep: output.startStep,
      sigmaSkip: sigmas[output.startStep]!,
      evaluations: output.evaluations,
      saved: fullEvaluations - output.evaluations,
      difference: meanSd(differences),
      quality: q,
      withinNoise,
    };
  });
  let safe = rows[0]!;
  for (const row of rows) {
    if (!row.withinNoise) break;
    safe = row;
  }
  const example = new Float32Array(rows.length * dim);
  outputs.forEach((output, r) => example.set(output.finals.subarray(0, dim), r * dim));
  return {
    analysis: 'teleport',
    settings: { ...run, skips: startSteps.map((s) => s / run.steps), pcDimensions, bootstrap, judge: judge !== undefined, classCycle, classGaussians: classGaussians !== null },
    rows,
    noise: noiseSd,
    largestSafe: { skip: safe.skip, startStep: safe.startStep, saved: safe.saved, savedFraction: safe.saved / fullEvaluations },
    example,
  };
}
