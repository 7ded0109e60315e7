/**
 * The theory-lab report: every analysis of the paper run on one model with
 * report defaults (sized to finish in about a minute or two for the bundled
 * 28×28 network on two CPU cores), the claims of DESIGN.md §3 judged, and one
 * self-contained HTML page (report-html.ts).
 */
import type { SamplerName } from '../../api/contract';
import type { AnalyticDenoiser } from '../denoisers/analytic';
import type { Denoiser } from '../denoisers/types';
import { PainterError, throwIfCancelled } from '../errors';
import type { Judge } from '../judge';
import { agreementAnalysis } from './agreement';
import { evaluateClaims, type Claim, type ReportResults } from './claims';
import type { AnalysisContext } from './context';
import { emergenceAnalysis } from './emergence';
import { localityAnalysis } from './locality';
import { manifoldAnalysis } from './manifold';
import { perturbationAnalysis } from './perturbation';
import { dataProbes, localTrainingOverlap, matchingClassGaussians, referenceModels, type FoundGaussian } from './resources';
import { retrievalAnalysis } from './retrieval';
import { teleportAnalysis } from './teleport';
import { trajectoryAnalysis } from './trajectory';

export const ANALYSIS_NAMES = ['trajectory', 'agreement', 'emergence', 'perturbation', 'teleport', 'retrieval', 'manifold', 'locality'] as const;
export type AnalysisName = (typeof ANALYSIS_NAMES)[number];

export interface ReportInputs {
  modelId: string;
  modelName: string;
  denoiser: Denoiser;
  gaussian: FoundGaussian;
  gmm: { denoiser: AnalyticDenoiser; id: string } | null;
  delta: { denoiser: AnalyticDenoiser; id: string } | null;
  /** The local patch model of the same images, compared in the agreement analysis. */
  local?: { denoiser: AnalyticDenoiser; id: string } | null;
  judge: { judge: Judge; folder: string } | null;
}

export interface ReportOptions {
  steps?: number;
  sampler?: SamplerName;
  classLabel?: number | null;
  /** Small settings for tests and smoke runs (minutes become seconds). */
  quick?: boolean;
  /** Run only these analyses (default all). */
  only?: readonly AnalysisName[];
}

export interface ReportData {
  modelId: string;
  modelName: string;
  provider: string;
  createdAt: string;
  sources: { gaussian: string; gmm: string | null; delta: string | null; local?: string | null; judge: string | null };
  settings: { steps: number; sampler: SamplerName; classLabel: number | null; quick: boolean };
  results: ReportResults;
  claims: Claim[];
  /** Wall time of each analysis, seconds. */
  seconds: Partial<Record<AnalysisName, number>>;
  /** Analyses that could not run, with the reason. */
  skipped: Partial<Record<AnalysisName, string>>;
}

function seedList(count: number, base = 0): number[] {
  return Array.from({ length: count }, (_, i) => base + i);
}

export async function runReport(inputs: ReportInputs, options: ReportOptions = {}, context: AnalysisContext = {}): Promise<ReportData> {
  const quick = options.quick ?? false;
  const steps = options.steps ?? (quick ? 12 : 50);
  const sampler = options.sampler ?? 'euler';
  const classLabel = options.classLabel ?? null;
  const only = new Set(options.only ?? ANALYSIS_NAMES);
  const { denoiser } = inputs;
  const gaussian = inputs.gaussian.gaussian;
  const judge = inputs.judge?.judge;
  const base = { steps, sampler, classLabel };
  const results: ReportResults = {};
  const seconds: ReportData['seconds'] = {};
  const skipped: ReportData['skipped'] = {};
  const order = ANALYSIS_NAMES.filter((name) => only.has(name));
  let index = 0;

  const stage = async (name: AnalysisName, work: (ctx: AnalysisContext) => Promise<void>): Promise<void> => {
    if (!only.has(name)) return;
    throwIfCancelled(context.signal);
    const started = performance.now();
    const position = index++;
    const inner: AnalysisContext = {
      ...(context.signal ? { signal: context.signal } : {}),
      onProgress: (done, total, message) => context.onProgress?.(position + done / Math.max(total, 1), order.length, `${name}: ${message}`),
    };
    try {
      await work(inner);
    } catch (error) {
      // A missing ingredient (no training set, a refused setting) skips that analysis, with its reason shown.
      if (!(error instanceof PainterError) || error.code === 'CANCELLED') throw error;
      skipped[name] = error.message;
    }
    seconds[name] = (performance.now() - started) / 1000;
  };

  await stage('trajectory', async (ctx) => {
    results.trajectory = await trajectoryAnalysis(denoiser, { ...base, seeds: seedList(quick ? 3 : 8) }, ctx);
  });
  await stage('agreement', async (ctx) => {
    const local = inputs.local ?? null;
    const references = referenceModels({ gmm: inputs.gmm, delta: inputs.delta, local });
    const skip = localTrainingOverlap(local?.denoiser ?? null, inputs.delta?.denoiser ?? null);
    const probe = await dataProbes(denoiser, inputs.delta, quick ? 8 : 32, base, ctx, skip);
    const evSigmas = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 50].filter((s) => s >= denoiser.schedule.sigmaMin && s <= denoiser.schedule.sigmaMax);
    results.agreement = await agreementAnalysis(denoiser, gaussian, references, { ...base, seeds: seedList(2), probes: probe.images, probeSource: probe.source, evSigmas }, ctx);
  });
  await stage('emergence', async (ctx) => {
    results.emergence = await emergenceAnalysis(denoiser, gaussian, { ...base, seeds: seedList(quick ? 3 : 8), directions: 32 }, ctx);
  });
  await stage('perturbation', async (ctx) => {
    results.perturbation = await perturbationAnalysis(denoiser, gaussian, { ...base, seeds: seedList(quick ? 2 : 6), direction: { kind: 'random' }, convention: 'vp', ...(judge ? { judge } : {}) }, ctx);
  });
  await stage('teleport', async (ctx) => {
    // A class-conditional run teleports with its class's Gaussian (the mixture's component) when a matching mixture is there.
    const classGaussians = matchingClassGaussians(denoiser, inputs.gmm);
    results.teleport = await teleportAnalysis(
      denoiser,
      gaussian,
      {
        ...base,
        sampler: sampler === 'ddpm' ? 'euler' : sampler,
        seeds: seedList(quick ? 6 : 32),
        classCycle: classLabel === null,
        ...(judge ? { judge } : {}),
        ...(classGaussians !== null ? { classGaussians } : {}),
      },
      ctx,
    );
  });
  await stage('retrieval', async (ctx) => {
    if (inputs.delta === null) throw new PainterError('BAD_ARGUMENT', 'No training set (delta-mixture model) of this image size is registered; pass --delta ID.');
    results.retrieval = await retrievalAnalysis(denoiser, inputs.delta.denoiser, { ...base, seeds: seedList(quick ? 2 : 4) }, ctx);
  });
  await stage('manifold', async (ctx) => {
    results.manifold = await manifoldAnalysis(
      denoiser,
      gaussian,
      quick
        ? { ...base, sampler: sampler === 'ddpm' ? 'euler' : sampler, seeds: [0], k: 4, budget: 40, generatorK: 2, generatorBlocks: 2, gridDirections: 2, amplitudes: [-3, 0, 3] }
        : { ...base, sampler: sampler === 'ddpm' ? 'euler' : sampler, seeds: [0], k: 16, budget: 1600, generatorK: 8, generatorBlocks: 3, gridDirections: 6 },
      ctx,
    );
  });
  await stage('locality', async (ctx) => {
    // Local variations (issue 14): top local vs top global direction, 3 regions × 3 steps; transfer from seed 0.
    results.locality = await localityAnalysis(
      denoiser,
      quick ? { ...base, sampler: sampler === 'ddpm' ? 'euler' : sampler, seeds: seedList(2), budget: 400, jacobianBudget: 200 } : { ...base, sampler: sampler === 'ddpm' ? 'euler' : sampler, seeds: seedList(8) },
      ctx,
    );
  });

  return {
    modelId: inputs.modelId,
    modelName: inputs.modelName,
    provider: denoiser.provider,
    createdAt: new Date().toISOString(),
    sources: { gaussian: inputs.gaussian.source, gmm: inputs.gmm?.id ?? null, delta: inputs.delta?.id ?? null, local: inputs.local?.id ?? null, judge: inputs.judge?.folder ?? null },
    settings: { steps, sampler, classLabel, quick },
    results,
    claims: evaluateClaims(results),
    seconds,
    skipped,
  };
}
