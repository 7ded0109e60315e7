/**
 * Denoisers with a closed form, built from a statistics file (DESIGN.md §2):
 * the Gaussian, the Gaussian mixture, the delta mixture and the local patch
 * model over the same training images.
 */
import { join } from 'node:path';
import { PainterError } from '../errors';
import { readJsonFile } from '../files';
import type { AnalyticManifest } from '../manifest';
import { readSafetensors, toFloat32, type SafetensorsFile } from '../safetensors';
import { KarrasSchedule, type NoiseSchedule } from '../schedules';
import { GaussianModel } from './gaussian';
import { combineGuidance, needsGuidancePair } from './guidance';
import { checkPatchSchedule, LocalPatchModel, type PatchSchedule } from './local';
import { DeltaMixtureModel, GaussianMixtureModel } from './mixture';
import { imageDim, type DenoiseCondition, type Denoiser } from './types';

function tensor(file: SafetensorsFile, name: string, path: string, shape: number[]): Float32Array {
  const entry = file.tensors.get(name);
  if (entry === undefined) {
    throw new PainterError('BAD_FILE', `${path} has no tensor "${name}"; it has ${[...file.tensors.keys()].join(', ') || 'none'}.`, { path, tensor: name });
  }
  if (entry.shape.length !== shape.length || entry.shape.some((d, i) => shape[i]! >= 0 && d !== shape[i])) {
    throw new PainterError('BAD_FILE', `Tensor "${name}" in ${path} has shape [${entry.shape.join(', ')}]; expected [${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}].`, {
      path,
      tensor: name,
      shape: entry.shape,
    });
  }
  return toFloat32(entry, name, path);
}

function shapeOf(file: SafetensorsFile, name: string): number[] | undefined {
  return file.tensors.get(name)?.shape;
}

export function gaussianFromStats(file: SafetensorsFile, path: string, dim: number): GaussianModel {
  const rank = shapeOf(file, 'eigvals')?.[0] ?? -1;
  const mean = tensor(file, 'mean', path, [dim]);
  const eigvecs = tensor(file, 'eigvecs', path, [dim, rank]);
  const eigvals = Float64Array.from(tensor(file, 'eigvals', path, [rank]));
  const residual = file.tensors.has('residual_variance') ? tensor(file, 'residual_variance', path, [-1])[0]! : 0;
  return new GaussianModel(mean, eigvecs, eigvals, residual);
}

function mixtureFromStats(file: SafetensorsFile, path: string, dim: number): GaussianMixtureModel {
  const count = shapeOf(file, 'weights')?.[0] ?? -1;
  const rank = shapeOf(file, 'eigvals')?.[1] ?? -1;
  const weights = Float64Array.from(tensor(file, 'weights', path, [count]));
  const means = tensor(file, 'means', path, [count, dim]);
  const eigvecs = tensor(file, 'eigvecs', path, [count, dim, rank]);
  const eigvals = tensor(file, 'eigvals', path, [count, rank]);
  const residual = file.tensors.has('residual_variance') ? tensor(file, 'residual_variance', path, [count]) : new Float32Array(count);
  const components = Array.from(
    { length: count },
    (_, c) =>
      new GaussianModel(
        means.slice(c * dim, (c + 1) * dim),
        eigvecs.slice(c * dim * rank, (c + 1) * dim * rank),
        Float64Array.from(eigvals.subarray(c * rank, (c + 1) * rank)),
        residual[c]!,
      ),
  );
  return new GaussianMixtureModel(components, weights);
}

function deltaFromStats(file: SafetensorsFile, path: string, dim: number, range: [number, number]): DeltaMixtureModel {
  const entry = file.tensors.get('images');
  if (entry === undefined) throw new PainterError('BAD_FILE', `${path} has no tensor "images".`, { path, tensor: 'images' });
  if (entry.shape.length !== 2 || entry.shape[1] !== dim) {
    throw new PainterError('BAD_FILE', `Tensor "images" in ${path} has shape [${entry.shape.join(', ')}]; expected [N, ${dim}].`, { path });
  }
  let images: Float32Array;
  if (entry.dtype === 'U8') {
    // 0..255 mapped linearly onto the model's pixel range.
    const [low, high] = range;
    images = Float32Array.from(entry.data as Uint8Array, (v) => low + ((high - low) * v) / 255);
  } else {
    images = toFloat32(entry, 'images', path);
  }
  const labelsEntry = file.tensors.get('labels');
  let labels: Int32Array | null = null;
  if (labelsEntry !== undefined) {
    const data = labelsEntry.data;
    labels = data instanceof BigInt64Array ? Int32Array.from(data, (v) => Number(v)) : Int32Array.from(data as ArrayLike<number>);
  }
  return new DeltaMixtureModel(images, dim, labels);
}

/** The patch schedule a calibration file (`painter calibrate-local`) holds. */
export function readPatchSchedule(path: string): PatchSchedule {
  const value = readJsonFile(path, 'json');
  const record = value as { sigmas?: unknown; patchSizes?: unknown };
  const numbers = (list: unknown): list is number[] => Array.isArray(list) && list.every((v) => typeof v === 'number');
  if (value === null || typeof value !== 'object' || !numbers(record.sigmas) || !numbers(record.patchSizes)) {
    throw new PainterError('BAD_FILE', `${path} must hold "sigmas" and "patchSizes", two lists of numbers.`, { path });
  }
  const schedule = { sigmas: record.sigmas, patchSizes: record.patchSizes };
  try {
    checkPatchSchedule(schedule);
  } catch (error) {
    throw new PainterError('BAD_FILE', `${path}: ${(error as Error).message}`, { path });
  }
  return schedule;
}

function localFromStats(manifest: AnalyticManifest, folder: string, file: SafetensorsFile, path: string, dim: number): LocalPatchModel {
  const spec = manifest.local;
  if (spec === undefined) throw new PainterError('BAD_MANIFEST', `Model "${manifest.id}" is of kind local but has no "local" section.`);
  const training = deltaFromStats(file, path, dim, manifest.image.range);
  const count = Math.min(spec.trainingImages ?? training.count, training.count);
  const { channels, height, width } = manifest.image;
  return new LocalPatchModel(training.images.subarray(0, count * dim), training.labels?.subarray(0, count) ?? null, {
    channels,
    height,
    width,
    shiftWindow: spec.shiftWindow ?? 0,
    patchSchedule: readPatchSchedule(join(folder, spec.calibration)),
  });
}

type Model =
  | { kind: 'gaussian'; model: GaussianModel }
  | { kind: 'gmm'; model: GaussianMixtureModel }
  | { kind: 'delta'; model: DeltaMixtureModel }
  | { kind: 'local'; model: LocalPatchModel };

export class AnalyticDenoiser implements Denoiser {
  readonly provider = 'analytic';
  readonly dim: number;
  readonly schedule: NoiseSchedule;
  readonly classes: readonly string[] | null;
  readonly unconditional = true;

  constructor(
    readonly manifest: AnalyticManifest,
    private readonly model: Model,
    schedule?: NoiseSchedule,
  ) {
    this.dim = imageDim(manifest.image);
    this.schedule = schedule ?? new KarrasSchedule(manifest.sigmaMin, manifest.sigmaMax);
    this.classes = model.kind === 'gaussian' ? null : (manifest.conditioning?.classes ?? null);
  }

  get image(): AnalyticManifest['image'] {
    return this.manifest.image;
  }

  /** The Gaussian model, when this denoiser is one (for closed-form analyses). */
  get gaussian(): GaussianModel | null {
    return this.model.kind === 'gaussian' ? this.model.model : null;
  }

  /** One Gaussian per class, when this denoiser is a class-conditional Gaussian mixture (class c = component c). */
  get classGaussians(): readonly GaussianModel[] | null {
    if (this.model.kind !== 'gmm' || this.classes === null || this.model.model.components.length !== this.classes.length) return null;
    return this.model.model.components;
  }

  /** The delta mixture (the training images), when this denoiser is one (for retrieval analyses). */
  get delta(): DeltaMixtureModel | null {
    return this.model.kind === 'delta' ? this.model.model : null;
  }

  /** The local patch model, when this denoiser is one. */
  get local(): LocalPatchModel | null {
    return this.model.kind === 'local' ? this.model.model : null;
  }

  static load(manifest: AnalyticManifest, folder: string): AnalyticDenoiser {
    const path = join(folder, manifest.stats);
    const file = readSafetensors(path);
    const dim = imageDim(manifest.image);
    switch (manifest.kind) {
      case 'gaussian':
        return new AnalyticDenoiser(manifest, { kind: 'gaussian', model: gaussianFromStats(file, path, dim) });
      case 'gmm':
        return new AnalyticDenoiser(manifest, { kind: 'gmm', model: mixtureFromStats(file, path, dim) });
      case 'delta':
        return new AnalyticDenoiser(manifest, { kind: 'delta', model: deltaFromStats(file, path, dim, manifest.image.range) });
      case 'local':
        return new AnalyticDenoiser(manifest, { kind: 'local', model: localFromStats(manifest, folder, file, path, dim) });
    }
  }

  async denoise(x: Float32Array, sigmas: ArrayLike<number>, condition?: DenoiseCondition): Promise<Float32Array> {
    const batch = x.length / this.dim;
    const labels = condition?.labels ?? new Array<number | null>(batch).fill(null);
    const conditional = this.denoiseWithLabels(x, sigmas, labels);
    if (!needsGuidancePair(condition)) return conditional;
    const unconditional = this.denoiseWithLabels(x, sigmas, labels.map(() => null));
    return combineGuidance(unconditional, conditional, condition!.guidance);
  }

  private denoiseWithLabels(x: Float32Array, sigmas: ArrayLike<number>, labels: ReadonlyArray<number | null>): Float32Array {
    switch (this.model.kind) {
      case 'gaussian':
        return this.model.model.denoise(x, sigmas);
      case 'gmm':
        return this.model.model.denoise(x, sigmas, labels);
      case 'delta':
      case 'local':
        return this.model.model.denoise(x, sigmas, labels);
    }
  }

  /** The same model walking another schedule (e.g. a network's σ grid, for a side-by-side). */
  withSchedule(schedule: NoiseSchedule): AnalyticDenoiser {
    return new AnalyticDenoiser(this.manifest, this.model, schedule);
  }

  async dispose(): Promise<void> {}
}
