/**
 * The theory lab's analyses (analysis/, another module's work) run for the
 * studio's Theory view: with the settings of the run on screen (its model,
 * sampler, steps, class, guidance; its seed first), reduced to what the
 * charts draw (contract.ts, TheoryChart).
 */
import type { RunSummary, TheoryAnalysisName, TheoryChart } from '../api/contract';
import { agreementAnalysis } from './analysis/agreement';
import type { AnalysisContext, RunSettings } from './analysis/context';
import { emergenceAnalysis } from './analysis/emergence';
import { perturbationAnalysis } from './analysis/perturbation';
import { dataProbes, findAnalytic, findGaussian, localTrainingOverlap, matchingClassGaussians, referenceModels } from './analysis/resources';
import { teleportAnalysis } from './analysis/teleport';
import { PainterError } from './errors';
import { ganAnalogyAnalysis } from './analysis/gan-analogy';
import { findGanGenerator } from './gan';
import type { ModelRegistry } from './models';
import type { Denoiser } from './denoisers/types';

export interface TheoryChartOptions {
  registry: ModelRegistry;
  /** The run's own denoiser (a diffusers run's size and prompts); the model's default when absent. */
  denoiser?: Denoiser;
  summary: RunSummary;
  analysis: TheoryAnalysisName;
  seeds: number;
  context: AnalysisContext;
}

/**
 * The studio's perturbation chart: five injection steps and three kick
 * strengths a decade and a half apart. Each (step, strength) cell re-runs
 * every seed from its step, so the cost is Σ over the injection steps of the
 * steps left × strengths × seeds; against the lab's default (seven steps out
 * to 80 %, four strengths) this is 0.54× the network evaluations for a 50-step
 * run, and the heat map keeps what it shows — change falling with the step,
 * rising with the strength (the CLI's `analyze perturbation` keeps the full table).
 */
export const STUDIO_STRENGTHS = [1, 3, 9];
export function studioInjectSteps(steps: number): number[] {
  return [...new Set([0, 0.15, 0.3, 0.5, 0.75].map((f) => Math.min(steps - 1, Math.round(f * steps))))];
}

/** Directions drawn in the emergence chart (the analysis follows more for its rank correlation). */
const EMERGENCE_DIRECTIONS = 16;
const PROBES = 24;

export async function theoryChart(options: TheoryChartOptions): Promise<TheoryChart> {
  const started = performance.now();
  const { registry, summary, context } = options;
  const model = registry.get(summary.modelId);
  const denoiser = options.denoiser ?? (await registry.load(summary.modelId));
  const { gaussian } = await findGaussian(registry, model, denoiser).catch(() => {
    throw new PainterError('BAD_ARGUMENT', `The theory charts compare "${model.manifest.name}" with a Gaussian, and it has no Gaussian statistics (nor is a Gaussian model of its image size installed).`);
  });
  const { sampler, steps, seed, classLabel, guidance } = summary.settings;
  const seeds = Array.from({ length: options.seeds }, (_, i) => (seed + i) % 2 ** 32);
  const run: RunSettings = { sampler, steps, seeds, classLabel, guidance };
  const base = { runId: summary.runId, modelId: summary.modelId, seeds };
  const seconds = (): number => (performance.now() - started) / 1000;

  switch (options.analysis) {
    case 'emergence': {
      const result = await emergenceAnalysis(denoiser, gaussian, { ...run, directions: Math.min(32, gaussian.rank) }, context);
      return {
        ...base,
        analysis: 'emergence',
        seconds: seconds(),
        sigmas: result.sigmas,
        directions: result.directions.slice(0, EMERGENCE_DIRECTIONS).map((d) => ({
          index: d.index,
          sqrtLambda: d.sqrtLambda,
          commitment: d.pooledCommitment,
          curve: d.curve,
          theory: d.theory,
        })),
        rankCorrelation: result.pooledRankCorrelation,
      };
    }
    case 'perturbation': {
      const result = await perturbationAnalysis(
        denoiser,
        gaussian,
        { ...run, injectSteps: studioInjectSteps(steps), strengths: STUDIO_STRENGTHS, direction: { kind: 'random' }, keepExample: false },
        context,
      );
      return {
        ...base,
        analysis: 'perturbation',
        seconds: seconds(),
        injectSteps: result.settings.injectSteps,
        injectSigmas: result.injectSigmas,
        strengths: result.settings.strengths,
        change: result.table.map((row) => row.map((cell) => cell.change.mean)),
        theory: result.table.map((row) => row.map((cell) => cell.theory.mean)),
        changeWithStep: result.trend.changeWithStep,
        changeWithStrength: result.trend.changeWithStrength,
      };
    }
    case 'agreement': {
      const delta = await findAnalytic(registry, model, 'delta');
      const local = await findAnalytic(registry, model, 'local');
      const references = referenceModels({ gmm: await findAnalytic(registry, model, 'gmm'), delta, local });
      const skip = localTrainingOverlap(local?.denoiser ?? null, delta?.denoiser ?? null);
      const probe = await dataProbes(denoiser, delta, PROBES, run, context, skip);
      const result = await agreementAnalysis(denoiser, gaussian, references, { ...run, seeds: seeds.slice(0, 2), probes: probe.images, probeSource: probe.source }, context);
      return {
        ...base,
        analysis: 'agreement',
        seconds: seconds(),
        sigmas: result.ev.sigmas,
        references: result.ev.references.map((reference) => ({ name: reference.name, kind: reference.kind, ev: reference.ev.map((v) => v.mean), r2: reference.r2.map((v) => v.mean) })),
        probeSource: probe.source,
      };
    }
    case 'gan-analogy': {
      // The GAN analogy (issue 13 part 3): the registered GAN of this image size beside this run's generator map.
      const found = await findGanGenerator(registry, denoiser.image);
      if (found === null) throw new PainterError('BAD_ARGUMENT', `No GAN generator of ${denoiser.image.channels}×${denoiser.image.height}×${denoiser.image.width} images is installed to compare with.`);
      const result = await ganAnalogyAnalysis(found.generator, denoiser, gaussian, { ...run, sampler: sampler === 'ddpm' ? 'euler' : sampler, seeds: [seed], blocks: 2 }, context);
      return {
        ...base,
        seeds: [seed],
        analysis: 'gan-analogy',
        seconds: seconds(),
        gan: found.id,
        k: result.settings.k,
        compare: result.settings.compare,
        maps: result.maps.map((m) => ({ name: m.name, title: m.title, normalized: m.normalized, effectiveRank: m.effectiveRank, coarseTop: m.coarse.top, coarseBottom: m.coarse.bottom })),
      };
    }
    case 'teleport': {
      if (options.seeds < 4) throw new PainterError('BAD_ARGUMENT', 'Teleportation measures sample quality over at least 4 seeds.');
      // A class-conditional run teleports with its class's Gaussian when the model's mixture is registered.
      const classGaussians = classLabel !== null ? matchingClassGaussians(denoiser, await findAnalytic(registry, model, 'gmm')) : null;
      const result = await teleportAnalysis(
        denoiser,
        gaussian,
        { ...run, sampler: sampler === 'ddpm' ? 'euler' : sampler, ...(classGaussians !== null ? { classGaussians } : {}) },
        context,
      );
      return {
        ...base,
        analysis: 'teleport',
        seconds: seconds(),
        rows: result.rows.map((row) => ({
          skip: row.skip,
          startStep: row.startStep,
          sigmaSkip: row.sigmaSkip,
          evaluations: row.evaluations,
          saved: row.saved,
          difference: row.difference.mean,
          pcFrechet: row.quality.pcFrechet,
          withinNoise: row.withinNoise,
        })),
        noise: result.noise.pcFrechet,
        largestSafe: { skip: result.largestSafe.skip, saved: result.largestSafe.saved, savedFraction: result.largestSafe.savedFraction },
      };
    }
  }
}
