/**
 * Finds what the analyses compare a model with: its data Gaussian, the
 * mixture and delta (training-set) models of the same images, its judge, and
 * probe data images. Looked up through the model registry by manifest fields
 * (`stats`, `judge`) and image shape; every choice can be overridden and each
 * is reported with where it came from.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AnalyticDenoiser } from '../denoisers/analytic';
import type { GaussianModel } from '../denoisers/gaussian';
import { imageDim, type Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { Judge } from '../judge';
import type { ModelRegistry, RegisteredModel } from '../models';
import { Random } from '../rng';
import type { ReferenceModel } from './agreement';
import { ProgressMeter, resolveRunSettings, sampleBatch, type AnalysisContext, type RunSettings } from './context';

/** A model id, or a model folder (registered on the fly). */
export async function resolveModel(registry: ModelRegistry, idOrFolder: string): Promise<{ model: RegisteredModel; denoiser: Denoiser }> {
  const model = registry.get(await registry.resolveId(idOrFolder));
  return { model, denoiser: await registry.load(model.manifest.id) };
}

/**
 * The denoiser the analyses run on a text-conditional diffusers pipeline: its
 * default size with the prompt pair bound (guidance between them comes from
 * the run settings); any other model's denoiser as it is. A prompt for a
 * model that takes none is refused.
 */
export async function withPrompt(registry: ModelRegistry, model: RegisteredModel, denoiser: Denoiser, prompt?: string, negativePrompt?: string): Promise<Denoiser> {
  const text = model.manifest.kind === 'diffusers' && model.manifest.diffusers.conditioning === 'text';
  if (!text) {
    if (prompt !== undefined || negativePrompt !== undefined) throw new PainterError('BAD_ARGUMENT', `Model "${model.manifest.id}" takes no prompt.`);
    return denoiser;
  }
  const pipeline = await registry.loadPipeline(model.manifest.id);
  return pipeline.denoiser(pipeline.defaultSize, await pipeline.textCondition(prompt ?? '', negativePrompt ?? ''));
}

function sameImage(a: RegisteredModel, b: RegisteredModel): boolean {
  const x = a.manifest.image;
  const y = b.manifest.image;
  return x.channels === y.channels && x.height === y.height && x.width === y.width;
}

export interface FoundGaussian {
  gaussian: GaussianModel;
  /** Where it came from: a model id or a statistics file. */
  source: string;
}

/**
 * The data Gaussian of a model: `override` (a Gaussian model id or folder); the
 * model itself when it is one; the statistics file its manifest names when
 * that holds a Gaussian; else a bundled Gaussian model of the same image shape.
 */
export async function findGaussian(registry: ModelRegistry, model: RegisteredModel, denoiser: Denoiser, override?: string): Promise<FoundGaussian> {
  if (override !== undefined) {
    const found = await resolveModel(registry, override);
    const gaussian = found.denoiser instanceof AnalyticDenoiser ? found.denoiser.gaussian : null;
    if (gaussian === null) throw new PainterError('BAD_ARGUMENT', `--gaussian: "${override}" is not a Gaussian model.`);
    if (gaussian.dim !== denoiser.dim) throw new PainterError('BAD_ARGUMENT', `--gaussian: "${override}" has D = ${gaussian.dim}; the model has D = ${denoiser.dim}.`);
    return { gaussian, source: found.model.manifest.id };
  }
  if (denoiser instanceof AnalyticDenoiser && denoiser.gaussian !== null) return { gaussian: denoiser.gaussian, source: model.manifest.id };
  const path = registry.statsPath(model.manifest.id);
  if (path !== null && existsSync(path)) {
    const gaussian = registry.gaussianFromFile(path, denoiser.dim);
    if (gaussian !== null) return { gaussian, source: path };
  }
  const candidate = registry.list().find((m) => m.manifest.kind === 'gaussian' && sameImage(m, model));
  if (candidate === undefined) {
    throw new PainterError('BAD_ARGUMENT', `Model "${model.manifest.id}" has no Gaussian statistics and no Gaussian model of its image size is registered; pass --gaussian ID.`);
  }
  const loaded = (await registry.load(candidate.manifest.id)) as AnalyticDenoiser;
  return { gaussian: loaded.gaussian!, source: candidate.manifest.id };
}

/**
 * An analytic model of a kind (mixture, delta or local patch) for the same images:
 * `override` (id or folder; "none" for none), else the first registered one
 * of that kind and image shape other than the model itself.
 */
export async function findAnalytic(registry: ModelRegistry, model: RegisteredModel, kind: 'gmm' | 'delta' | 'local', override?: string): Promise<{ denoiser: AnalyticDenoiser; id: string } | null> {
  if (override === 'none') return null;
  if (override !== undefined) {
    const found = await resolveModel(registry, override);
    if (!(found.denoiser instanceof AnalyticDenoiser) || found.model.manifest.kind !== kind) {
      throw new PainterError('BAD_ARGUMENT', `--${kind}: "${override}" is a ${found.model.manifest.kind} model, not a ${kind} model.`);
    }
    if (!sameImage(found.model, model)) throw new PainterError('BAD_ARGUMENT', `--${kind}: "${override}" has images of another size than model "${model.manifest.id}".`);
    return { denoiser: found.denoiser, id: found.model.manifest.id };
  }
  const candidate = registry.list().find((m) => m.manifest.kind === kind && m.manifest.id !== model.manifest.id && sameImage(m, model));
  if (candidate === undefined) return null;
  return { denoiser: (await registry.load(candidate.manifest.id)) as AnalyticDenoiser, id: candidate.manifest.id };
}

type FoundAnalytic = { denoiser: AnalyticDenoiser; id: string } | null;

/** The analytic models the agreement analysis compares a network with, besides its Gaussian. */
export function referenceModels(found: { gmm: FoundAnalytic; delta: FoundAnalytic; local?: FoundAnalytic }): ReferenceModel[] {
  const references: ReferenceModel[] = [];
  for (const [kind, reference] of [
    ['gmm', found.gmm],
    ['delta', found.delta],
    ['local', found.local ?? null],
  ] as const) {
    if (reference !== null) references.push({ name: reference.id, kind, denoise: (x, s, c) => reference.denoiser.denoise(x, s, c) });
  }
  return references;
}

/**
 * The per-class Gaussians (a class mixture's components) a class-conditional
 * model teleports with, or null when the model has no classes or the mixture's
 * classes do not match its own.
 */
export function matchingClassGaussians(denoiser: Denoiser, gmm: { denoiser: AnalyticDenoiser } | null): readonly GaussianModel[] | null {
  const components = gmm?.denoiser.classGaussians ?? null;
  return components !== null && denoiser.classes !== null && components.length === denoiser.classes.length ? components : null;
}

/**
 * The model's judge: `override` (a judge folder, or "none"), else the folder
 * its manifest names. An automatic judge whose input is not the model's image
 * is left out; an explicit one is refused.
 */
export async function findJudge(registry: ModelRegistry, model: RegisteredModel, denoiser: Denoiser, override?: string): Promise<{ judge: Judge; folder: string } | null> {
  if (override === 'none') return null;
  const folder = override !== undefined ? resolve(override) : registry.judgePath(model.manifest.id);
  if (folder === null) return null;
  if (override === undefined && !existsSync(folder)) return null;
  const judge = await Judge.load(folder);
  const [c, h, w] = judge.inputShape;
  const { channels, height, width } = denoiser.image;
  if (c !== channels || h !== height || w !== width) {
    await judge.dispose();
    if (override === undefined) return null;
    throw new PainterError('BAD_ARGUMENT', `--judge: the judge takes ${c}×${h}×${w} images; the model makes ${channels}×${height}×${width}.`);
  }
  return { judge, folder };
}

export const PROBE_STREAM = 0x9e0b;

/**
 * `count` training images (of class `label` when given), picked at random
 * (seeded) from a delta model, leaving out its first `skip` images.
 */
export function probeImages(delta: AnalyticDenoiser, count: number, label: number | null, seed = 0, skip = 0): Float32Array {
  const training = delta.delta;
  if (training === null) throw new PainterError('BAD_ARGUMENT', `"${delta.manifest.id}" is not a delta (training-set) model.`);
  const dim = imageDim(delta.image);
  const pool: number[] = [];
  for (let n = skip; n < training.count; n++) if (label === null || training.labels === null || training.labels[n] === label) pool.push(n);
  if (pool.length === 0) throw new PainterError('BAD_ARGUMENT', `The training set has no image of class ${label}.`);
  const random = new Random(seed, PROBE_STREAM);
  // Partial Fisher–Yates shuffle: the first `count` picks without replacement.
  const picks = Math.min(count, pool.length);
  for (let i = 0; i < picks; i++) {
    const j = i + Math.min(pool.length - i - 1, Math.floor(random.uniform() * (pool.length - i)));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const out = new Float32Array(picks * dim);
  for (let i = 0; i < picks; i++) out.set(training.images.subarray(pool[i]! * dim, (pool[i]! + 1) * dim), i * dim);
  return out;
}

/**
 * How many leading images of the delta model's training set the local patch
 * model was built on (0 when it was built on other images): probes taken
 * after them are held out from it.
 */
export function localTrainingOverlap(local: AnalyticDenoiser | null, delta: AnalyticDenoiser | null): number {
  const patches = local?.local ?? null;
  const training = delta?.delta ?? null;
  if (patches === null || training === null || patches.dim !== training.dim || patches.count > training.count) return 0;
  const dim = patches.dim;
  const same = (n: number): boolean => patches.images.subarray(n * dim, (n + 1) * dim).every((v, i) => v === training.images[n * dim + i]);
  return same(0) && same(patches.count - 1) ? patches.count : 0;
}

/**
 * Probe data for the explained variance: `count` training images when a
 * training set is known (after its first `skip`), else the model's own final
 * samples (seeds 10000…).
 */
export async function dataProbes(
  denoiser: Denoiser,
  delta: { denoiser: AnalyticDenoiser; id: string } | null,
  count: number,
  run: RunSettings,
  context: AnalysisContext,
  skip = 0,
): Promise<{ images: Float32Array; source: string }> {
  if (delta !== null) {
    const images = probeImages(delta.denoiser, count, run.classLabel ?? null, 0, skip);
    const held = skip > 0 ? ` (after the first ${skip}, the local model's training images)` : '';
    return { images, source: `${images.length / denoiser.dim} training images of ${delta.id}${held}` };
  }
  const settings = resolveRunSettings({ ...run, seeds: Array.from({ length: count }, (_, i) => 10_000 + i) }, denoiser);
  const samples = await sampleBatch(denoiser, settings, settings.seeds, new ProgressMeter(context, settings.steps), 'probe samples', context);
  return { images: samples.states.slice((samples.sigmas.length - 1) * count * denoiser.dim), source: `${count} samples of the model itself (no training set registered)` };
}
