/**
 * The theory lab on the command line.
 *
 *   painter analyze <trajectory|agreement|emergence|perturbation|teleport|retrieval|manifold>
 *                   --model ID|FOLDER [--seeds N] [--seed-base S] [--steps N] [--sampler S] [--class N]
 *                   [--guidance G] [--prompt P] [--negative-prompt P] [--gaussian ID] [--judge FOLDER|none] [options] --json OUT.json [--png OUT.png]
 *   options: trajectory --components N · agreement --ev-sigmas a,b --probes N --gmm ID --delta ID ·
 *            emergence --directions K --spacing log|leading --region T,L,H,W · perturbation --inject-steps a,b --strengths a,b
 *            --direction random|data-pc:K|x0-pc:K|patch:S[@T,L] --convention model|vp · teleport --skips f,g --pc-dims N --bootstrap N
 *            --class-cycle · retrieval --delta ID · manifold --step S --k K --budget N --tolerance DEG --block B --fd-step h
 *            --generator-k K --generator-blocks N --amplitudes a,b --grid-directions N
 *            [--mask mask.png [--null-space-rank R] [--null-space-energy F] [--support auto|region|free] [--halo P] [--local-k K]] ·
 *            locality --inject-steps a,b --amplitude A --budget N [--mask mask.png] [--null-space-rank R] [--null-space-energy F] [--support auto|region|free] [--halo P]
 *   painter report --model ID|FOLDER --out DIR [--steps N] [--sampler S] [--class N] [--only a,b] [--quick]
 *
 * Each JSON carries the settings it ran with and where its Gaussian, reference
 * models and judge came from. Progress goes to stderr when it is a terminal.
 */
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SAMPLER_NAMES, type SamplerName } from '../api/contract';
import { integerFlag, numberFlag, parseFlags, requiredFlag, type ParsedFlags } from './args';
import { agreementAnalysis } from '../engine/analysis/agreement';
import { formatMeanSd } from '../engine/analysis/claims';
import type { AnalysisContext, RunSettings } from '../engine/analysis/context';
import { emergenceAnalysis, type ImageRegion } from '../engine/analysis/emergence';
import { meanSd } from '../engine/analysis/linalg';
import { analysisPicture, type AnalysisResult } from '../engine/analysis/figures';
import { localityAnalysis } from '../engine/analysis/locality';
import { manifoldAnalysis } from '../engine/analysis/manifold';
import { SUPPORT_CHOICES, type SupportChoice } from '../engine/analysis/local-directions';
import { readMaskFile } from '../engine/mask-file';
import { perturbationAnalysis, type DirectionSpec } from '../engine/analysis/perturbation';
import { ANALYSIS_NAMES, runReport, type AnalysisName } from '../engine/analysis/report';
import { renderReport } from '../engine/analysis/report-html';
import { dataProbes, findAnalytic, findGaussian, findJudge, localTrainingOverlap, matchingClassGaussians, referenceModels, resolveModel, withPrompt } from '../engine/analysis/resources';
import { retrievalAnalysis } from '../engine/analysis/retrieval';
import { teleportAnalysis } from '../engine/analysis/teleport';
import { trajectoryAnalysis } from '../engine/analysis/trajectory';
import { PainterError } from '../engine/errors';
import { encodePng } from '../engine/png';
import { writeFileAtomic } from '../engine/safetensors';
import type { Engine } from '../engine/service';
import { findGanGenerator } from '../engine/gan';
import { checkOverwrite, JSON_GENERATOR } from './overwrite';

const COMMON = ['model', 'seeds', 'seed-base', 'steps', 'sampler', 'class', 'guidance', 'prompt', 'negative-prompt', 'gaussian', 'judge', 'json', 'png'];
const SPECIFIC: Record<AnalysisName, string[]> = {
  trajectory: ['components'],
  agreement: ['ev-sigmas', 'probes', 'gmm', 'delta', 'local'],
  emergence: ['directions', 'spacing', 'region'],
  perturbation: ['inject-steps', 'strengths', 'direction', 'convention'],
  teleport: ['skips', 'pc-dims', 'bootstrap', 'gmm'],
  retrieval: ['delta'],
  manifold: ['step', 'k', 'budget', 'tolerance', 'block', 'fd-step', 'generator-k', 'generator-blocks', 'amplitudes', 'grid-directions', 'mask', 'null-space-rank', 'null-space-energy', 'support', 'halo', 'local-k'],
  locality: ['inject-steps', 'amplitude', 'budget', 'mask', 'null-space-rank', 'null-space-energy', 'support', 'halo'],
};
const DEFAULT_SEEDS: Record<AnalysisName, number> = { trajectory: 8, agreement: 2, emergence: 8, perturbation: 8, teleport: 32, retrieval: 8, manifold: 1, locality: 8 };

function numberList(flags: ParsedFlags, name: string): number[] | undefined {
  const text = flags.values.get(name);
  if (text === undefined) return undefined;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (text.trim() === '' || values.some((v) => !Number.isFinite(v))) throw new PainterError('BAD_ARGUMENT', `--${name} must be a comma-separated list of numbers; got "${text}".`);
  return values;
}

function parseRegion(text: string): ImageRegion {
  const parts = text.split(',').map(Number);
  if (parts.length !== 4 || parts.some((v) => !Number.isInteger(v))) throw new PainterError('BAD_ARGUMENT', `--region must be TOP,LEFT,HEIGHT,WIDTH in pixels; got "${text}".`);
  const [top, left, height, width] = parts as [number, number, number, number];
  return { top, left, height, width };
}

/** random | data-pc:K | x0-pc:K | patch:SIZE[@TOP,LEFT] (K 0-based). */
export function parseDirection(text: string): DirectionSpec {
  const [kind, argument] = text.split(':', 2) as [string, string | undefined];
  const integer = (value: string | undefined, what: string): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < 0) throw new PainterError('BAD_ARGUMENT', `--direction ${kind}: needs ${what}; got "${text}".`);
    return n;
  };
  switch (kind) {
    case 'random':
      return { kind: 'random' };
    case 'data-pc':
      return { kind: 'data-pc', index: integer(argument, 'a 0-based index, e.g. data-pc:0') };
    case 'x0-pc':
      return { kind: 'x0-pc', index: integer(argument, 'a 0-based index, e.g. x0-pc:0') };
    case 'patch': {
      const [size, at] = (argument ?? '').split('@', 2);
      const spec: DirectionSpec = { kind: 'patch', size: integer(size, 'a size, e.g. patch:6 or patch:6@4,10') };
      if (at !== undefined) {
        const [top, left] = at.split(',');
        return { ...spec, top: integer(top, 'TOP,LEFT after @'), left: integer(left, 'TOP,LEFT after @') };
      }
      return spec;
    }
    default:
      throw new PainterError('BAD_ARGUMENT', `--direction must be random, data-pc:K, x0-pc:K or patch:SIZE[@TOP,LEFT]; got "${text}".`);
  }
}

/** --null-space-rank R, --null-space-energy F, --support and --halo of the local directions. */
function localFlags(flags: ParsedFlags): { nullSpaceRank?: number; energyThreshold?: number; support?: SupportChoice; halo?: number } {
  const rank = flags.values.get('null-space-rank');
  const energy = flags.values.get('null-space-energy');
  const support = flags.values.get('support');
  if (support !== undefined && !(SUPPORT_CHOICES as readonly string[]).includes(support)) {
    throw new PainterError('BAD_ARGUMENT', `--support must be ${SUPPORT_CHOICES.slice(0, -1).join(', ')} or ${SUPPORT_CHOICES.at(-1)}; got "${support}".`);
  }
  return {
    ...(support !== undefined ? { support: support as SupportChoice } : {}),
    ...(flags.values.has('halo') ? { halo: integerFlag(flags, 'halo', 2, 0, 64) } : {}),
    ...(rank !== undefined ? { nullSpaceRank: integerFlag(flags, 'null-space-rank', 0, 0, 100_000) } : {}),
    ...(energy !== undefined ? { energyThreshold: numberFlag(flags, 'null-space-energy', 0.98, 1e-6, 1) } : {}),
  };
}

function samplerFlag(flags: ParsedFlags): SamplerName | undefined {
  const text = flags.values.get('sampler');
  if (text === undefined) return undefined;
  if (!(SAMPLER_NAMES as readonly string[]).includes(text)) throw new PainterError('BAD_ARGUMENT', `--sampler must be one of ${SAMPLER_NAMES.join(', ')}; got "${text}".`);
  return text as SamplerName;
}

function runSettings(flags: ParsedFlags, seeds: number): RunSettings {
  const classText = flags.values.get('class');
  const sampler = samplerFlag(flags);
  const base = integerFlag(flags, 'seed-base', 0, 0, 2 ** 31);
  const count = integerFlag(flags, 'seeds', seeds, 1, 4096);
  return {
    steps: integerFlag(flags, 'steps', 50, 2, 1000),
    ...(sampler ? { sampler } : {}),
    seeds: Array.from({ length: count }, (_, i) => base + i),
    classLabel: classText === undefined ? null : integerFlag(flags, 'class', 0, 0, 1_000_000),
    guidance: numberFlag(flags, 'guidance', 1, 0, 50),
  };
}

/** JSON with typed arrays as plain arrays (6 significant digits). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v, (x) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null));
      if (v instanceof Int32Array || v instanceof Uint8Array) return Array.from(v);
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      return v;
    },
    1,
  );
}

export function progressContext(): AnalysisContext {
  if (!process.stderr.isTTY) return {};
  let last = 0;
  return {
    onProgress: (done, total, message) => {
      const now = Date.now();
      if (now - last < 200 && done < total) return;
      last = now;
      process.stderr.write(`\r\x1b[K${Math.round((100 * done) / Math.max(total, 1))}% ${message}`.slice(0, 120));
      if (done >= total) process.stderr.write('\r\x1b[K');
    },
  };
}

/** A few numbers that say what a result found, one line each. */
export function headline(result: AnalysisResult): string[] {
  switch (result.analysis) {
    case 'trajectory':
      return [`top-2 PCs: ${formatMeanSd(result.top2, 2, 100)} % of the x_t trajectory's variance (x̂0: ${formatMeanSd(result.x0Hat.top2, 2, 100)} %)`, `largest residual outside span{x_T, x0}: ${result.peakResidual.value.toFixed(3)} at ${(100 * result.peakResidual.position).toFixed(0)} % of the run`];
    case 'agreement':
      return result.ev.references.map((r) => `EV ${r.name}: ${result.ev.sigmas.map((s, i) => `σ=${s.toPrecision(2)}: ${r.ev[i]!.mean.toFixed(4)}`).join(', ')}`);
    case 'emergence':
      return [`Spearman ρ(commitment σ_k, sqrt λ_k): pooled ${result.pooledRankCorrelation.toFixed(3)}, per seed ${formatMeanSd(result.rankCorrelation, 3)} (${result.directions.length} PCs)`];
    case 'perturbation':
      return [
        ...result.table.map((row, r) => `step ${result.settings.injectSteps[r]}: ${row.map((c) => `a=${c.strength}: ${c.change.mean.toFixed(2)} (theory ${c.theory.mean.toFixed(2)}${c.flipRate !== null ? `, flips ${(100 * c.flipRate).toFixed(0)}%` : ''})`).join('; ')}`),
        `trend with step: L2 ρ = ${result.trend.changeWithStep.toFixed(2)}, leading-PC content ρ = ${result.trend.contentWithStep.toFixed(2)}${result.trend.featureWithStep !== null ? `, features ρ = ${result.trend.featureWithStep.toFixed(2)}, flips ρ = ${result.trend.flipWithStep!.toFixed(2)}` : ''}; with strength ρ = ${result.trend.changeWithStrength.toFixed(2)}`,
      ];
    case 'teleport':
      return [
        ...result.rows.map((r) => `skip ${(100 * r.skip).toFixed(0)}%: saved ${r.saved} evals, RMS Δ ${r.difference.mean.toFixed(4)}, PC-Fréchet ${r.quality.pcFrechet.toFixed(3)}${r.quality.judgeFrechet !== null ? `, judge-Fréchet ${r.quality.judgeFrechet.toFixed(3)}` : ''}${r.withinNoise ? '' : ' (worse than noise)'}`),
        `largest skip within noise: ${(100 * result.largestSafe.skip).toFixed(0)}% (${result.largestSafe.saved} evaluations saved per sample)`,
      ];
    case 'retrieval':
      return [
        `network: final nearest-training-image RMS ${formatMeanSd(meanSd(result.network.finalNearest.map((f) => f.distance)), 3)}; entropy collapse ${result.network.collapse ? `at σ = ${result.network.collapse.sigma.toPrecision(3)}` : 'never'}`,
        `delta mixture: final RMS ${formatMeanSd(meanSd(result.delta.finalNearest.map((f) => f.distance)), 4)}; entropy collapse ${result.delta.collapse ? `at σ = ${result.delta.collapse.sigma.toPrecision(3)} (${(100 * result.delta.collapse.position).toFixed(0)}% of the run)` : 'never'}`,
      ];
    case 'manifold': {
      const first = result.jacobian.first;
      const local = result.local;
      return [
        `Jacobian at step ${result.settings.step} (σ = ${result.settings.sigma.toPrecision(3)}): ${first.found} of ${result.settings.k} directions converged (< ${first.toleranceDeg}°) in ${first.forwardPasses} of at most ${first.budget} forward passes, ${first.calls} calls, ${first.seconds.toFixed(2)} s; top eigenvalues ${result.jacobian.eigenvalues.slice(0, 6).map((v) => v.mean.toFixed(3)).join(', ')}`,
        `  convergence (degrees moved since half the space): ${first.convergenceDeg.map((a) => (Number.isFinite(a) ? a.toFixed(1) : '–')).join(', ')}`,
        ...(local
          ? [
              `local directions: ${local.support === 'region' ? `${local.found} on the region's ${local.supportSize} values, exact there,` : `${local.found} of ${local.strengths.length} converged`} in ${local.forwardPasses} of at most ${local.budget} forward passes (${local.seconds.toFixed(1)} s); null space R = ${local.nullSpaceRank} (${(100 * local.explainedEnergy).toFixed(1)} % of the outside's energy, ${local.rankChosenBy === 'user' ? 'given' : `threshold ${+(100 * local.energyThreshold).toFixed(1)} %`}); skew share ${local.asymmetry.toFixed(3)}`,
              `  share of x̂0's change inside the region (first order): ${local.insideShare.map((v) => v.toFixed(2)).join(', ')}; convergence ${local.convergenceDeg.map((a) => (Number.isFinite(a) ? a.toFixed(1) : '–')).join(', ')}°`,
            ]
          : []),
        ...(result.generator ? [`generator singular values ${result.generator.singularValues.slice(0, 6).map((v) => v.toExponential(2)).join(', ')} (Gaussian ${result.generator.theory.slice(0, 6).map((v) => v.toExponential(2)).join(', ')})`] : []),
      ];
    }
    case 'locality':
      return [
        ...result.cells.map(
          (c) =>
            `step ${c.step} (σ = ${c.sigma.toPrecision(3)}) ${c.region}: final change inside — local ${formatMeanSd(c.local, 2)}, global ${formatMeanSd(c.global, 2)}; first order ${formatMeanSd(c.linear, 2)}; R ${formatMeanSd(c.rank, 0)}; converged ${(100 * c.convergedShare).toFixed(0)} %; ${formatMeanSd(c.forwardPasses, 0)} passes, ${formatMeanSd(c.seconds, 1)} s`,
        ),
        ...result.transfer.map(
          (t) => `transfer step ${t.step} ${t.region}: seed ${t.sourceSeed} inside ${t.source.local.toFixed(2)} (change ${t.source.change.toFixed(3)}) → other seeds inside ${formatMeanSd(t.others.local, 2)} (change ${formatMeanSd(t.others.change, 3)})`,
        ),
      ];
  }
}

export async function commandAnalyze(args: string[], engine: Engine): Promise<void> {
  const [name, ...rest] = args;
  if (name === 'gan-analogy') return (await import('./gan')).commandGanAnalogy(rest, engine);
  if (name === undefined || !(ANALYSIS_NAMES as readonly string[]).includes(name)) {
    throw new PainterError('BAD_ARGUMENT', `painter analyze needs an analysis: ${ANALYSIS_NAMES.join(', ')}, gan-analogy${name === undefined ? '' : `; got "${name}"`}.`);
  }
  const analysis = name as AnalysisName;
  const flags = parseFlags(rest, { values: [...COMMON, ...SPECIFIC[analysis]], switches: analysis === 'teleport' ? ['class-cycle', 'force'] : ['force'] }, `analyze ${analysis}`);
  const jsonPath = resolve(requiredFlag(flags, 'json', `analyze ${analysis}`));
  const pngPath = flags.values.get('png');
  // Refuse to replace someone else's file before minutes of work, not after.
  checkOverwrite(jsonPath, 'json', '--json', flags.switches.has('force'), JSON_GENERATOR.analyze);
  if (pngPath !== undefined) checkOverwrite(resolve(pngPath), 'png', '--png', flags.switches.has('force'));
  const started = performance.now();
  const registry = engine.registry;
  const resolved = await resolveModel(registry, requiredFlag(flags, 'model', `analyze ${analysis}`));
  const model = resolved.model;
  const denoiser = await withPrompt(registry, model, resolved.denoiser, flags.values.get('prompt'), flags.values.get('negative-prompt'));
  const run = runSettings(flags, DEFAULT_SEEDS[analysis]);
  const context = progressContext();
  const sources: Record<string, string | null> = {};
  const needsGaussian = analysis !== 'trajectory' && analysis !== 'retrieval' && analysis !== 'locality';
  const found = needsGaussian ? await findGaussian(registry, model, denoiser, flags.values.get('gaussian')) : null;
  if (found) sources['gaussian'] = found.source;
  const gaussian = found?.gaussian ?? null;
  const judged = analysis === 'perturbation' || analysis === 'teleport' ? await findJudge(registry, model, denoiser, flags.values.get('judge')) : null;
  if (analysis === 'perturbation' || analysis === 'teleport') sources['judge'] = judged?.folder ?? null;
  const judge = judged?.judge;
  let result: AnalysisResult;
  try {
    switch (analysis) {
      case 'trajectory':
        result = await trajectoryAnalysis(denoiser, { ...run, components: integerFlag(flags, 'components', 5, 1, 50) }, context);
        break;
      case 'agreement': {
        const gmm = await findAnalytic(registry, model, 'gmm', flags.values.get('gmm'));
        const delta = await findAnalytic(registry, model, 'delta', flags.values.get('delta'));
        const local = await findAnalytic(registry, model, 'local', flags.values.get('local'));
        sources['gmm'] = gmm?.id ?? null;
        sources['delta'] = delta?.id ?? null;
        sources['local'] = local?.id ?? null;
        const references = referenceModels({ gmm, delta, local });
        // Probes held out from the local model's training images when it was built on the delta set's first ones.
        const skip = localTrainingOverlap(local?.denoiser ?? null, delta?.denoiser ?? null);
        const probe = await dataProbes(denoiser, delta, integerFlag(flags, 'probes', 32, 2, 10_000), run, context, skip);
        const evSigmas = numberList(flags, 'ev-sigmas');
        result = await agreementAnalysis(denoiser, gaussian!, references, { ...run, probes: probe.images, probeSource: probe.source, ...(evSigmas ? { evSigmas } : {}) }, context);
        break;
      }
      case 'emergence': {
        const region = flags.values.get('region');
        const spacing = flags.values.get('spacing') ?? 'log';
        if (spacing !== 'log' && spacing !== 'leading') throw new PainterError('BAD_ARGUMENT', `--spacing must be log or leading; got "${spacing}".`);
        result = await emergenceAnalysis(denoiser, gaussian!, { ...run, directions: integerFlag(flags, 'directions', 32, 2, 10_000), spacing, ...(region ? { region: parseRegion(region) } : {}) }, context);
        break;
      }
      case 'perturbation': {
        const injectSteps = numberList(flags, 'inject-steps');
        const strengths = numberList(flags, 'strengths');
        const direction = flags.values.get('direction');
        const convention = flags.values.get('convention') ?? 'model';
        if (convention !== 'model' && convention !== 'vp') throw new PainterError('BAD_ARGUMENT', `--convention must be model or vp; got "${convention}".`);
        result = await perturbationAnalysis(
          denoiser,
          gaussian!,
          { ...run, convention, ...(injectSteps ? { injectSteps } : {}), ...(strengths ? { strengths } : {}), ...(direction ? { direction: parseDirection(direction) } : {}), ...(judge ? { judge } : {}) },
          context,
        );
        break;
      }
      case 'teleport': {
        const skips = numberList(flags, 'skips');
        // A class-conditional model teleports with its class's Gaussian from a matching mixture, when one is registered.
        const gmm = denoiser.classes !== null ? await findAnalytic(registry, model, 'gmm', flags.values.get('gmm')) : null;
        const classGaussians = matchingClassGaussians(denoiser, gmm);
        if (classGaussians !== null) sources['gmm'] = gmm!.id;
        result = await teleportAnalysis(
          denoiser,
          gaussian!,
          { ...run, ...(skips ? { skips } : {}), pcDimensions: integerFlag(flags, 'pc-dims', 16, 1, 256), bootstrap: integerFlag(flags, 'bootstrap', 20, 2, 1000), classCycle: flags.switches.has('class-cycle'), ...(judge ? { judge } : {}), ...(classGaussians !== null ? { classGaussians } : {}) },
          context,
        );
        break;
      }
      case 'retrieval': {
        const delta = await findAnalytic(registry, model, 'delta', flags.values.get('delta'));
        if (delta === null) throw new PainterError('BAD_ARGUMENT', `No training set (delta-mixture model) with model "${model.manifest.id}"'s image size is registered; pass --delta ID|FOLDER.`);
        sources['delta'] = delta.id;
        result = await retrievalAnalysis(denoiser, delta.denoiser, run, context);
        break;
      }
      case 'manifold': {
        const amplitudes = numberList(flags, 'amplitudes');
        const step = flags.values.get('step');
        const block = flags.values.get('block');
        const mask = flags.values.get('mask');
        const localK = flags.values.get('local-k');
        result = await manifoldAnalysis(
          denoiser,
          gaussian,
          {
            ...run,
            ...(step !== undefined ? { step: integerFlag(flags, 'step', 0, 0, 999) } : {}),
            k: integerFlag(flags, 'k', 16, 1, denoiser.dim),
            budget: integerFlag(flags, 'budget', 1600, 2, 100_000),
            toleranceDeg: numberFlag(flags, 'tolerance', 10, 0, 90),
            ...(mask !== undefined ? { mask: readMaskFile(resolve(mask), denoiser.image) } : {}),
            ...localFlags(flags),
            ...(localK !== undefined ? { localK: integerFlag(flags, 'local-k', 6, 1, 64) } : {}),
            ...(block !== undefined ? { blockSize: integerFlag(flags, 'block', 4, 1, denoiser.dim) } : {}),
            fdStep: numberFlag(flags, 'fd-step', 0.05, 1e-6, 10),
            generatorK: integerFlag(flags, 'generator-k', 8, 0, denoiser.dim),
            generatorBlocks: integerFlag(flags, 'generator-blocks', 3, 1, 100),
            gridDirections: integerFlag(flags, 'grid-directions', 6, 0, 64),
            ...(amplitudes ? { amplitudes } : {}),
          },
          context,
        );
        break;
      }
      case 'locality': {
        const injectSteps = numberList(flags, 'inject-steps');
        const mask = flags.values.get('mask');
        result = await localityAnalysis(
          denoiser,
          {
            ...run,
            ...(injectSteps ? { injectSteps } : {}),
            ...(mask !== undefined ? { regions: [{ name: basename(mask), mask: readMaskFile(resolve(mask), denoiser.image) }] } : {}),
            amplitude: numberFlag(flags, 'amplitude', 8, 1e-6, 1000),
            budget: integerFlag(flags, 'budget', 1600, 8, 100_000),
            ...localFlags(flags),
          },
          context,
        );
        break;
      }
    }
  } finally {
    await judge?.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  const picture = pngPath === undefined ? null : analysisPicture(result, denoiser.image);
  writeFileAtomic(jsonPath, Buffer.from(toJson({ generator: JSON_GENERATOR.analyze, model: model.manifest.id, kind: model.manifest.kind, provider: denoiser.provider, sources, seconds, result })));
  if (picture !== null) writeFileAtomic(resolve(pngPath!), encodePng(picture));
  for (const line of headline(result)) process.stdout.write(`${line}\n`);
  process.stdout.write(`Wrote ${jsonPath}${picture !== null ? ` and ${resolve(pngPath!)}` : ''} (${seconds.toFixed(1)} s)\n`);
}

export async function commandReport(args: string[], engine: Engine): Promise<void> {
  const flags = parseFlags(args, { values: ['model', 'out', 'steps', 'sampler', 'class', 'prompt', 'negative-prompt', 'gaussian', 'gmm', 'delta', 'local', 'judge', 'only', 'gan'], switches: ['quick', 'force'] }, 'report');
  const out = resolve(requiredFlag(flags, 'out', 'report'));
  checkOverwrite(join(out, 'report.html'), 'html', '--out', flags.switches.has('force'));
  checkOverwrite(join(out, 'report.json'), 'json', '--out', flags.switches.has('force'), JSON_GENERATOR.report);
  const registry = engine.registry;
  const resolved = await resolveModel(registry, requiredFlag(flags, 'model', 'report'));
  const model = resolved.model;
  const denoiser = await withPrompt(registry, model, resolved.denoiser, flags.values.get('prompt'), flags.values.get('negative-prompt'));
  const onlyText = flags.values.get('only');
  const listed = onlyText?.split(',').map((s) => s.trim());
  // The GAN analogy runs when a GAN of the model's image size is registered (--gan ID|none), and with --only when listed.
  const ganAnalogy = listed === undefined || listed.includes('gan-analogy');
  const only = listed?.filter((s) => s !== 'gan-analogy');
  const unknown = only?.filter((s) => !(ANALYSIS_NAMES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw new PainterError('BAD_ARGUMENT', `--only: unknown analysis ${unknown.join(', ')}; known: ${ANALYSIS_NAMES.join(', ')}, gan-analogy.`);
  const gaussian = await findGaussian(registry, model, denoiser, flags.values.get('gaussian'));
  const gmm = await findAnalytic(registry, model, 'gmm', flags.values.get('gmm'));
  const delta = await findAnalytic(registry, model, 'delta', flags.values.get('delta'));
  const local = await findAnalytic(registry, model, 'local', flags.values.get('local'));
  const judge = await findJudge(registry, model, denoiser, flags.values.get('judge'));
  const gan = ganAnalogy ? await findGanGenerator(registry, denoiser.image, flags.values.get('gan')) : null;
  const classText = flags.values.get('class');
  const sampler = samplerFlag(flags);
  const steps = flags.values.get('steps');
  const started = performance.now();
  try {
    const data = await runReport(
      { modelId: model.manifest.id, modelName: model.manifest.name, denoiser, gaussian, gmm, delta, local, judge, gan },
      {
        ...(steps !== undefined ? { steps: integerFlag(flags, 'steps', 50, 2, 1000) } : {}),
        ...(sampler ? { sampler } : {}),
        classLabel: classText === undefined ? null : integerFlag(flags, 'class', 0, 0, 1_000_000),
        quick: flags.switches.has('quick'),
        ...(only ? { only: only as AnalysisName[] } : {}),
        ganAnalogy,
      },
      progressContext(),
    );
    mkdirSync(out, { recursive: true });
    const html = join(out, 'report.html');
    writeFileAtomic(html, Buffer.from(renderReport(data, denoiser.image)));
    writeFileAtomic(join(out, 'report.json'), Buffer.from(toJson({ generator: JSON_GENERATOR.report, ...data })));
    for (const claim of data.claims) process.stdout.write(`${claim.holds === null ? '–' : claim.holds ? '✓' : '✗'} ${claim.claim}: ${claim.measured}\n`);
    for (const [name, reason] of Object.entries(data.skipped)) process.stdout.write(`– ${name} not run: ${reason}\n`);
    process.stdout.write(`Wrote ${html} and report.json (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  } finally {
    await judge?.judge.dispose();
  }
}
