/**
 * The model registry: bundled models under native-models/ and folders the
 * user adds, each described by its manifest.json. Denoisers load lazily and
 * stay loaded until the registry is disposed.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import type { ModelInfo, ProviderChoice } from '../api/contract';
import { AnalyticDenoiser, gaussianFromStats } from './denoisers/analytic';
import type { GaussianModel } from './denoisers/gaussian';
import { readSafetensors } from './safetensors';
import { OnnxDenoiser, OnnxGenerator } from './denoisers/onnx';
import type { Denoiser } from './denoisers/types';
import { PainterError } from './errors';
import { fileError, quoteText, readTextFile } from './files';
import type { DiffusersManifest, ModelManifest } from './manifest';
import { validateManifest } from './manifest-validate';
import { isDiffusersFolder, readDiffusersFolder, type DiffusersFolder } from './diffusers/folder';
import { DiffusersPipeline, LATENT_RANGE, MAX_DECODED_SIZE } from './diffusers/pipeline';
import { fitPreviewFromVae, readPreviewMap, writePreviewMap, type PreviewMap } from './diffusers/preview';
import { savedLatentStats } from './diffusers/stats';

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
  /**
   * Painter's own data folder: what the engine derives from a model folder
   * (a latent pipeline's preview map) is kept here, never in the user's folder.
   * Absent: derived data stays in memory.
   */
  dataDir?: string;
}

/** Decodes the preview map of a latent pipeline is fitted on, and their grid (latent cells a side). */
const PREVIEW_FIT_SAMPLES = 4;
const PREVIEW_FIT_GRID = 16;

/** A diffusers folder's description for the registry (diffusers/folder.ts read the folder). */
function diffusersManifest(folder: DiffusersFolder, id: string): DiffusersManifest {
  const grid = folder.sampleSize ?? (folder.parts.vaeDecoder !== null ? 64 : 32);
  const channels = folder.unetChannels ?? (folder.parts.vaeDecoder !== null ? 4 : 3);
  const latent = folder.parts.vaeDecoder !== null;
  return {
    kind: 'diffusers',
    id,
    name: folder.name,
    description: `${folder.pipelineClass} (diffusers ONNX folder${folder.conditioning === 'text' ? ', text-to-image' : ', unconditional'}${latent ? ', latent' : ''})`,
    image: { channels, height: grid, width: grid, range: latent ? LATENT_RANGE : [-1, 1] },
    space: latent ? 'latent' : 'pixel',
    diffusers: folder,
  };
}

/** sha256 of what a diffusers folder's registration was read from: its files' names and sizes, and its configuration texts. */
function diffusersHash(folder: DiffusersFolder): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(folder.schedulerJson));
  for (const file of folder.files) hash.update(`${relative(folder.folder, file.path)}\0${file.size}\0`);
  return hash.digest('hex');
}

/** Every file or folder a manifest makes the engine read, besides manifest.json itself. */
function referencedPaths(manifest: ModelManifest, folder: string): string[] {
  const paths: string[] = [];
  if (manifest.kind === 'onnx') paths.push(join(folder, manifest.onnx.file));
  if (manifest.kind === 'gan') paths.push(join(folder, manifest.gan.file));
  if (manifest.stats !== undefined) paths.push(join(folder, manifest.stats));
  if (manifest.judge !== undefined) paths.push(join(folder, manifest.judge));
  if (manifest.kind !== 'onnx' && manifest.kind !== 'gan' && manifest.kind !== 'diffusers' && manifest.local !== undefined) paths.push(join(folder, manifest.local.calibration));
  return paths;
}

export class ModelRegistry {
  private readonly models = new Map<string, RegisteredModel>();
  private readonly loaded = new Map<string, Promise<Denoiser>>();
  /** GAN generators (manifest kind `gan`), loaded like denoisers. */
  private readonly generators = new Map<string, Promise<OnnxGenerator>>();
  /** Diffusers pipelines (kind `diffusers`), and their preview maps. */
  private readonly pipelines = new Map<string, Promise<DiffusersPipeline>>();
  private readonly previewMaps = new Map<string, Promise<PreviewMap>>();
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
    if (!existsSync(join(absolute, MANIFEST_FILE)) && isDiffusersFolder(absolute)) return this.registerDiffusers(absolute, source);
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

  /**
   * A diffusers folder: its id is the folder's name as a slug, made unique
   * with "-2", "-3", … when another folder already has it.
   */
  private registerDiffusers(absolute: string, source: 'bundled' | 'user'): RegisteredModel {
    const existing = [...this.models.values()].find((model) => model.folder === absolute);
    if (existing !== undefined) return existing;
    const folder = readDiffusersFolder(absolute, this.options.checkRead);
    let id = folder.id;
    for (let n = 2; this.models.has(id); n++) id = `${folder.id}-${n}`;
    const model: RegisteredModel = { manifest: diffusersManifest(folder, id), folder: absolute, source, manifestHash: diffusersHash(folder) };
    this.models.set(id, model);
    return model;
  }

  /** Adds a user folder after loading it once, so a broken model is refused up front. */
  async addFolder(folder: string): Promise<RegisteredModel> {
    const model = this.register(folder, 'user');
    try {
      if (model.manifest.kind === 'gan') await this.loadGenerator(model.manifest.id);
      else await this.load(model.manifest.id);
    } catch (error) {
      this.models.delete(model.manifest.id);
      this.loaded.delete(model.manifest.id);
      this.generators.delete(model.manifest.id);
      const pipeline = this.pipelines.get(model.manifest.id);
      this.pipelines.delete(model.manifest.id);
      await pipeline?.then((p) => p.dispose()).catch(() => undefined);
      throw error;
    }
    return model;
  }

  /**
   * Forgets a folder the user added (and releases its networks); the folder
   * and everything in it stay as they are. Bundled models cannot be removed.
   */
  async remove(id: string): Promise<RegisteredModel> {
    const model = this.get(id);
    if (model.source === 'bundled') throw new PainterError('BAD_ARGUMENT', `Model "${id}" is bundled with Painter and cannot be removed.`, { id });
    this.models.delete(id);
    const pending = [this.loaded.get(id), this.generators.get(id), this.pipelines.get(id)];
    this.loaded.delete(id);
    this.generators.delete(id);
    this.pipelines.delete(id);
    this.previewMaps.delete(id);
    await Promise.all(pending.map(async (p?: Promise<{ dispose(): Promise<void> }>) => (await p?.catch(() => null))?.dispose()));
    return model;
  }

  /**
   * A model id, or a model folder's path (`--model PATH`): a folder already
   * registered gives its id; another is registered for this launch (loaded
   * once, so a broken one is refused up front) without being remembered.
   */
  async resolveId(idOrFolder: string): Promise<string> {
    if (this.models.has(idOrFolder)) return idOrFolder;
    const folder = resolve(idOrFolder);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) return this.get(idOrFolder).manifest.id; // MODEL_NOT_FOUND, naming the known ids
    return (this.list().find((m) => m.folder === folder) ?? (await this.addFolder(folder))).manifest.id;
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

  /** The generator of a `gan` model (one step z → x); refuses any other kind by name. */
  loadGenerator(id: string): Promise<OnnxGenerator> {
    const { manifest, folder } = this.get(id);
    if (manifest.kind !== 'gan') {
      throw new PainterError('BAD_ARGUMENT', `Model "${id}" is a ${manifest.kind} model, not a GAN generator (manifest kind "gan").`, { id, kind: manifest.kind });
    }
    let pending = this.generators.get(id);
    if (pending === undefined) {
      pending = OnnxGenerator.load(manifest, join(folder, manifest.gan.file));
      pending.catch(() => this.generators.delete(id));
      this.generators.set(id, pending);
    }
    return pending;
  }

  /** The pipeline of a diffusers folder (sessions opened once, shared by every size and prompt). */
  loadPipeline(id: string): Promise<DiffusersPipeline> {
    const { manifest } = this.get(id);
    if (manifest.kind !== 'diffusers') throw new PainterError('BAD_ARGUMENT', `Model "${id}" is a ${manifest.kind} model, not a diffusers pipeline.`, { id });
    let pending = this.pipelines.get(id);
    if (pending === undefined) {
      pending = DiffusersPipeline.load(manifest.diffusers, {
        provider: this.providerChoice,
        ...(this.options.onNotice ? { onNotice: this.options.onNotice } : {}),
      }).then((pipeline) => {
        // The graph may fix a size the configuration did not give.
        manifest.image = pipeline.gridImage();
        return pipeline;
      });
      pending.catch(() => this.pipelines.delete(id));
      this.pipelines.set(id, pending);
    }
    return pending;
  }

  /**
   * A latent pipeline's preview map, fitted once and kept in Painter's data
   * folder beside the registration (refitted when the folder's files change).
   */
  previewMap(id: string): Promise<PreviewMap> {
    const model = this.get(id);
    let pending = this.previewMaps.get(id);
    if (pending === undefined) {
      pending = (async () => {
        const path = this.options.dataDir !== undefined ? join(this.options.dataDir, 'diffusers', id, 'preview.json') : null;
        const saved = path !== null ? readPreviewMap(path, model.manifestHash) : null;
        if (saved !== null) return saved;
        const pipeline = await this.loadPipeline(id);
        if (pipeline.vae === null) throw new PainterError('BAD_ARGUMENT', `Model "${id}" works on pixels; it has no latent preview.`, { id });
        const map = await fitPreviewFromVae(pipeline.vae, pipeline.channels, PREVIEW_FIT_GRID, PREVIEW_FIT_SAMPLES, model.manifestHash);
        if (path !== null) writePreviewMap(path, map);
        return map;
      })();
      pending.catch(() => this.previewMaps.delete(id));
      this.previewMaps.set(id, pending);
    }
    return pending;
  }

  private async loadModel(model: RegisteredModel): Promise<Denoiser> {
    const { manifest, folder } = model;
    if (manifest.kind === 'diffusers') return (await this.loadPipeline(manifest.id)).denoiser();
    if (manifest.kind === 'gan') {
      throw new PainterError(
        'BAD_ARGUMENT',
        `Model "${manifest.id}" is a GAN generator: it makes an image in one step from a latent, with no denoising steps to sample or analyse. Open it in the studio's GAN view or use \`painter analyze gan-analogy --gan ${manifest.id}\`.`,
        { id: manifest.id, kind: 'gan' },
      );
    }
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
    const pipelines = [...this.pipelines.entries()];
    for (const [id] of pipelines) {
      this.pipelines.delete(id);
      this.loaded.delete(id);
    }
    await Promise.all(onnx.map(async ([, pending]) => (await pending.catch(() => null))?.dispose()));
    await Promise.all(pipelines.map(async ([, pending]) => (await pending.catch(() => null))?.dispose()));
  }

  /**
   * The Gaussian statistics a model names (its own for a Gaussian), for theory
   * overlays; for a diffusers folder, those `painter stats` saved for it in
   * Painter's data folder (diffusers/stats.ts).
   */
  statsPath(id: string): string | null {
    const { manifest, folder, manifestHash } = this.get(id);
    if (manifest.kind === 'diffusers') return this.options.dataDir === undefined ? null : savedLatentStats(this.options.dataDir, id, folder, manifestHash);
    return manifest.stats === undefined ? null : join(folder, manifest.stats);
  }

  /** Painter's own data folder, where data derived from user models is kept (absent: in memory only). */
  get dataDir(): string | undefined {
    return this.options.dataDir;
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
    if (manifest.kind === 'diffusers') return this.diffusersInfo(manifest, folder, source);
    // Before a network loads, the choice it will try; after, the provider it runs on and why not another.
    let provider: string = manifest.kind === 'onnx' ? this.providerChoice : manifest.kind === 'gan' ? 'cpu' : 'analytic';
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
    const labelInput = manifest.kind === 'onnx' ? manifest.onnx.classLabel : manifest.kind === 'gan' ? manifest.gan.classLabel : undefined;
    const conditionalOnly = labelInput !== undefined && manifest.conditioning?.nullLabel === undefined;
    return {
      id,
      name: manifest.name,
      description: manifest.description ?? '',
      kind: manifest.kind,
      image: manifest.image,
      classes: manifest.kind === 'gaussian' ? null : classes,
      unconditional: !conditionalOnly,
      defaultGuidance: manifest.conditioning?.defaultGuidance ?? 1,
      defaultSteps: manifest.kind === 'gan' ? 1 : manifest.kind === 'delta' || manifest.kind === 'gmm' || manifest.kind === 'local' ? 30 : 50,
      provider,
      providerNotice,
      source,
      folder,
    };
  }

  private async diffusersInfo(manifest: DiffusersManifest, folder: string, source: 'bundled' | 'user'): Promise<ModelInfo> {
    const spec = manifest.diffusers;
    let provider: string = this.providerChoice;
    let providerNotice: string | null = null;
    let multiple = spec.vaeScale * spec.unetDownsampling;
    // A graph exported at one size runs at that size only.
    let sizes = { minSize: multiple, maxSize: MAX_DECODED_SIZE };
    if (this.pipelines.has(manifest.id)) {
      try {
        const pipeline = await this.pipelines.get(manifest.id)!;
        provider = pipeline.provider;
        multiple = spec.vaeScale * pipeline.gridMultiple;
        const fixed = pipeline.fixedSize;
        sizes = fixed === null ? { minSize: multiple, maxSize: MAX_DECODED_SIZE } : { minSize: spec.vaeScale * Math.min(fixed.height, fixed.width), maxSize: spec.vaeScale * Math.max(fixed.height, fixed.width) };
        if (pipeline.notices.length > 0) providerNotice = pipeline.notices.join(' ');
      } catch {
        provider = 'failed to load';
      }
    }
    const text = spec.conditioning === 'text';
    const latent = manifest.space === 'latent';
    const { height, width } = manifest.image;
    return {
      id: manifest.id,
      name: manifest.name,
      description: manifest.description ?? '',
      kind: 'diffusers',
      image: manifest.image,
      classes: null,
      unconditional: true,
      defaultGuidance: text ? 7.5 : 1,
      defaultSteps: 30,
      provider,
      providerNotice,
      source,
      folder,
      space: manifest.space,
      ...(latent
        ? {
            decoded: {
              image: { channels: 3, height: height * spec.vaeScale, width: width * spec.vaeScale, range: [-1, 1] as [number, number] },
              scale: spec.vaeScale,
              sizeMultiple: multiple,
              ...sizes,
            },
          }
        : {}),
      ...(text ? { prompt: { maxTokens: (await this.pipelines.get(manifest.id)?.catch(() => null))?.tokenizer?.maxLength ?? 77, defaultNegativePrompt: '' } } : {}),
    };
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values(), ...this.generators.values(), ...this.pipelines.values()];
    this.loaded.clear();
    this.generators.clear();
    this.pipelines.clear();
    await Promise.all(all.map(async (pending: Promise<{ dispose(): Promise<void> }>) => (await pending.catch(() => null))?.dispose()));
  }
}
