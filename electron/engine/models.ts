/**
 * The model registry: bundled models under native-models/ and folders the
 * user adds, each described by its manifest.json. Denoisers load lazily and
 * stay loaded until the registry is disposed.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { ModelInfo, ProviderChoice } from '../api/contract';
import { AnalyticDenoiser, gaussianFromStats } from './denoisers/analytic';
import type { GaussianModel } from './denoisers/gaussian';
import { readSafetensors } from './safetensors';
import { OnnxDenoiser } from './denoisers/onnx';
import type { Denoiser } from './denoisers/types';
import { PainterError } from './errors';
import { fileError, quoteText, readTextFile } from './files';
import type { ModelManifest } from './manifest';
import { validateManifest } from './manifest-validate';

export interface RegisteredModel {
  manifest: ModelManifest;
  folder: string;
  source: 'bundled' | 'user';
  /** sha256 of manifest.json, recorded in every run. */
  manifestHash: string;
}

export const MANIFEST_FILE = 'manifest.json';

export function readManifest(folder: string): { manifest: ModelManifest; hash: string } {
  const path = join(folder, MANIFEST_FILE);
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(folder, { throwIfNoEntry: false });
  } catch (error) {
    throw fileError(folder, error);
  }
  if (stats === undefined || !stats.isDirectory()) {
    throw new PainterError('BAD_MANIFEST', `${quoteText(folder)} is not a folder.`, { path: folder });
  }
  if (!existsSync(path)) {
    throw new PainterError('BAD_MANIFEST', `${quoteText(folder)} has no ${MANIFEST_FILE}; a model folder needs one (see docs/models.md).`, { path });
  }
  const text = readTextFile(path, 'manifest');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the file; report the position only.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new PainterError('BAD_MANIFEST', `${quoteText(path)} is not valid JSON${position !== undefined ? ` (at byte ${position})` : ''}.`, { path });
  }
  return { manifest: validateManifest(json, path), hash: createHash('sha256').update(text).digest('hex') };
}

export interface RegistryOptions {
  bundledFolder: string;
  userFolders?: readonly string[];
  /** Execution provider choice for ONNX networks; `auto` when absent. */
  provider?: ProviderChoice;
  onNotice?: (message: string) => void;
  /** Throws when a model's files may not be read (browser mode's path policy); absent: any path. */
  checkRead?: (path: string) => void;
}

/** Every file or folder a manifest makes the engine read, besides manifest.json itself. */
function referencedPaths(manifest: ModelManifest, folder: string): string[] {
  const paths: string[] = [];
  if (manifest.kind === 'onnx') paths.push(join(folder, manifest.onnx.file));
  if (manifest.stats !== undefined) paths.push(join(folder, manifest.stats));
  if (manifest.judge !== undefined) paths.push(join(folder, manifest.judge));
  if (manifest.kind !== 'onnx' && manifest.local !== undefined) paths.push(join(folder, manifest.local.calibration));
  return paths;
}

export class ModelRegistry {
  private readonly models = new Map<string, RegisteredModel>();
  private readonly loaded = new Map<string, Promise<Denoiser>>();
  /** Gaussian statistics files already read, by path (the studio asks for a ghost on every run). */
  private readonly gaussians = new Map<string, GaussianModel | null>();
  /** Problems met while scanning the bundled folder (shown, never fatal). */
  readonly scanProblems: string[] = [];
  private providerChoice: ProviderChoice;

  constructor(private readonly options: RegistryOptions) {
    this.providerChoice = options.provider ?? 'auto';
    if (existsSync(options.bundledFolder)) {
      for (const entry of readdirSync(options.bundledFolder).sort()) {
        const folder = join(options.bundledFolder, entry);
        if (statSync(folder, { throwIfNoEntry: false })?.isDirectory() !== true || !existsSync(join(folder, MANIFEST_FILE))) continue;
        try {
          this.register(folder, 'bundled');
        } catch (error) {
          this.scanProblems.push((error as Error).message);
        }
      }
    }
    for (const folder of options.userFolders ?? []) {
      try {
        this.register(folder, 'user');
      } catch (error) {
        this.scanProblems.push((error as Error).message);
      }
    }
  }

  private register(folder: string, source: 'bundled' | 'user'): RegisteredModel {
    const absolute = resolve(folder);
    this.options.checkRead?.(absolute);
    const { manifest, hash } = readManifest(absolute);
    for (const path of referencedPaths(manifest, absolute)) this.options.checkRead?.(path);
    const existing = this.models.get(manifest.id);
    if (existing !== undefined && existing.folder !== absolute) {
      throw new PainterError('BAD_MANIFEST', `Model id "${manifest.id}" in ${absolute} is already used by ${existing.folder}.`, { id: manifest.id });
    }
    const model: RegisteredModel = { manifest, folder: absolute, source, manifestHash: hash };
    this.models.set(manifest.id, model);
    return model;
  }

  /** Adds a user folder after loading it once, so a broken model is refused up front. */
  async addFolder(folder: string): Promise<RegisteredModel> {
    const model = this.register(folder, 'user');
    try {
      await this.load(model.manifest.id);
    } catch (error) {
      this.models.delete(model.manifest.id);
      this.loaded.delete(model.manifest.id);
      throw error;
    }
    return model;
  }

  list(): RegisteredModel[] {
    return [...this.models.values()];
  }

  get(id: string): RegisteredModel {
    const model = this.models.get(id);
    if (model === undefined) {
      const known = [...this.models.keys()];
      throw new PainterError('MODEL_NOT_FOUND', `No model "${id}". Known models: ${known.join(', ') || 'none'}.`, { id, known });
    }
    return model;
  }

  load(id: string): Promise<Denoiser> {
    const model = this.get(id);
    let pending = this.loaded.get(id);
    if (pending === undefined) {
      pending = this.loadModel(model);
      pending.catch(() => this.loaded.delete(id));
      this.loaded.set(id, pending);
    }
    return pending;
  }

  private async loadModel(model: RegisteredModel): Promise<Denoiser> {
    const { manifest, folder } = model;
    if (manifest.kind === 'onnx') {
      return OnnxDenoiser.load(manifest, join(folder, manifest.onnx.file), {
        provider: this.providerChoice,
        ...(this.options.onNotice ? { onProviderFallback: this.options.onNotice } : {}),
      });
    }
    return AnalyticDenoiser.load(manifest, folder);
  }

  get provider(): ProviderChoice {
    return this.providerChoice;
  }

  /**
   * Switches the provider choice: every loaded network is released and loads
   * on the new choice at its next use. The caller makes sure no job is using one.
   */
  async setProvider(choice: ProviderChoice): Promise<void> {
    if (choice === this.providerChoice) return;
    this.providerChoice = choice;
    const onnx = [...this.loaded.entries()].filter(([id]) => this.models.get(id)?.manifest.kind === 'onnx');
    for (const [id] of onnx) this.loaded.delete(id);
    await Promise.all(onnx.map(async ([, pending]) => (await pending.catch(() => null))?.dispose()));
  }

  /** The Gaussian statistics a model names (its own for a Gaussian), for theory overlays. */
  statsPath(id: string): string | null {
    const { manifest, folder } = this.get(id);
    return manifest.stats === undefined ? null : join(folder, manifest.stats);
  }

  /**
   * The Gaussian held by a statistics file (mean + eigvecs + eigvals), read
   * once and kept; null when the file holds no single Gaussian.
   */
  gaussianFromFile(path: string, dim: number): GaussianModel | null {
    const key = `${path}\0${dim}`;
    if (!this.gaussians.has(key)) {
      const file = readSafetensors(path);
      const eigvals = file.tensors.get('eigvals');
      const isGaussian = file.tensors.has('mean') && eigvals !== undefined && eigvals.shape.length === 1;
      this.gaussians.set(key, isGaussian ? gaussianFromStats(file, path, dim) : null);
    }
    return this.gaussians.get(key)!;
  }

  /** The judge folder a model names, if any. */
  judgePath(id: string): string | null {
    const { manifest, folder } = this.get(id);
    return manifest.judge === undefined ? null : join(folder, manifest.judge);
  }

  async info(id: string): Promise<ModelInfo> {
    const { manifest, folder, source } = this.get(id);
    // Before a network loads, the choice it will try; after, the provider it runs on and why not another.
    let provider: string = manifest.kind === 'onnx' ? this.providerChoice : 'analytic';
    let providerNotice: string | null = null;
    if (this.loaded.has(id)) {
      try {
        const denoiser = await this.loaded.get(id)!;
        provider = denoiser.provider;
        if (denoiser instanceof OnnxDenoiser && denoiser.providerNotices.length > 0) providerNotice = denoiser.providerNotices.join(' ');
      } catch {
        provider = 'failed to load';
      }
    }
    const classes = manifest.conditioning?.classes ?? null;
    const conditionalOnly = manifest.kind === 'onnx' && manifest.onnx.classLabel !== undefined && manifest.conditioning?.nullLabel === undefined;
    return {
      id,
      name: manifest.name,
      description: manifest.description ?? '',
      kind: manifest.kind,
      image: manifest.image,
      classes: manifest.kind === 'gaussian' ? null : classes,
      unconditional: !conditionalOnly,
      defaultGuidance: manifest.conditioning?.defaultGuidance ?? 1,
      defaultSteps: manifest.kind === 'delta' || manifest.kind === 'gmm' || manifest.kind === 'local' ? 30 : 50,
      provider,
      providerNotice,
      source,
      folder,
    };
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map(async (pending) => (await pending.catch(() => null))?.dispose()));
  }
}
