/**
 * The engine's service: one method per API call of the contract, plain Node.
 * Hosted by the engine worker (Electron and browser mode) and called
 * directly by the CLI and the tests.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { ApiEvents, ApiMethods, ApiParams, ApiResult, DirectionFamily, GenerateRequest, ModelInfo, RunSummary, JobProgress, VariationGrid } from '../api/contract';
import { ganRun, ganVariationGridForRun } from './gan-studio';
import type { ProviderName } from './denoisers/onnx';
import type { Denoiser } from './denoisers/types';
import { PainterError } from './errors';
import { ModelRegistry } from './models';
import { readRun, writeRun, type RunRecord } from './runs';
import { sample, toModelConvention } from './samplers';
import { accuracyWarning, gaussianSpectrum, referenceSpectrum } from './sampler-accuracy';
import { branchRun } from './branch';
import { filmstripPng, timelineGif, trajectoriesSafetensors, writeExport } from './export';
import { GaussianStatsCache, gaussianGhost } from './ghost';
import { listRecentSessions, openSession, rememberSession, saveSession } from './session';
import { trajectorySpace } from './trajectory-space';
import { theoryChart } from './theory-charts';
import { variationGrid } from './variations';

export interface EngineOptions {
  /** Folder of bundled models (native-models/). */
  nativeModelsDir: string;
  /** Where user settings and autosaved runs live. */
  userDataDir: string;
  providers?: ProviderName[];
}

export interface CallContext {
  signal?: AbortSignal;
  emit?: <E extends keyof ApiEvents>(name: E, payload: ApiEvents[E]) => void;
}

export interface JobContext {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

const USER_MODELS_FILE = 'models.json';
/** Run ids the engine makes are UUIDs; only such ids may name an autosave file. */
const FILE_SAFE_RUN_ID = /^[A-Za-z0-9-]{1,128}$/;

export class Engine {
  readonly registry: ModelRegistry;
  private readonly runs = new Map<string, RunRecord>();
  private readonly jobs = new Map<string, AbortController>();
  readonly notices: string[] = [];
  private readonly gaussians: GaussianStatsCache;

  constructor(private readonly options: EngineOptions) {
    this.registry = new ModelRegistry({
      bundledFolder: options.nativeModelsDir,
      userFolders: this.readUserFolders(),
      ...(options.providers ? { providers: options.providers } : {}),
      onNotice: (message) => this.notices.push(message),
    });
    this.gaussians = new GaussianStatsCache(this.registry);
  }

  private readUserFolders(): string[] {
    const path = join(this.options.userDataDir, USER_MODELS_FILE);
    if (!existsSync(path)) return [];
    try {
      const value: unknown = JSON.parse(readFileSync(path, 'utf-8'));
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    } catch {
      return [];
    }
  }

  private writeUserFolders(): void {
    const folders = this.registry.list().filter((m) => m.source === 'user').map((m) => m.folder);
    mkdirSync(this.options.userDataDir, { recursive: true });
    writeFileSync(join(this.options.userDataDir, USER_MODELS_FILE), JSON.stringify(folders, null, 2));
  }

  async call<M extends keyof ApiMethods>(method: M, params: ApiParams<M>, context: CallContext = {}): Promise<ApiResult<M>> {
    const handler = this.handlers[method] as (p: ApiParams<M>, c: CallContext) => Promise<ApiResult<M>>;
    return handler(params, context);
  }

  private readonly handlers: { [M in keyof ApiMethods]: (params: ApiParams<M>, context: CallContext) => Promise<ApiResult<M>> } = {
    listModels: () => Promise.all(this.registry.list().map((m) => this.registry.info(m.manifest.id))),
    addModelFolder: async ({ folder }) => {
      const model = await this.registry.addFolder(folder);
      this.writeUserFolders();
      return this.registry.info(model.manifest.id);
    },
    generate: ({ jobId, ...request }, context) =>
      this.runJob(jobId, context, (signal) =>
        this.generate(request, {
          signal,
          onProgress: (done, total) => context.emit?.('progress', { jobId, done, total, message: `step ${done} of ${total}` }),
        }),
      ),
    cancel: async ({ jobId }) => {
      const job = this.jobs.get(jobId);
      job?.abort();
      return { cancelled: job !== undefined };
    },
    listRuns: async () => [...this.runs.values()].map((run) => run.summary),
    getRun: async ({ runId }) => {
      const run = this.getRunRecord(runId);
      return { summary: run.summary, image: run.image, xt: run.xt, x0Hat: run.x0Hat };
    },
    saveRun: async ({ runId, path }) => {
      const absolute = resolve(path);
      saveRunFile(absolute, this.getRunRecord(runId));
      return { path: absolute };
    },
    openRun: async ({ path }) => {
      const run = readRun(resolve(path));
      this.runs.set(run.summary.runId, run);
      return run.summary;
    },
    branch: ({ jobId, runId, step, brush }, context) =>
      this.runJob(jobId, context, async (signal) => {
        const parent = this.getRunRecord(runId);
        const denoiser = await this.registry.load(parent.summary.modelId);
        const needsStats = brush.kind === 'direction' && brush.direction?.kind === 'gaussian-pc';
        const run = await branchRun({
          parent,
          denoiser,
          step,
          brush,
          gaussian: needsStats ? (await this.gaussians.get(parent.summary.modelId)).model : null,
          signal,
          onStep: (done, total) => context.emit?.('progress', { jobId, done, total, message: `Branch: step ${done} of ${total}` }),
        });
        this.runs.set(run.summary.runId, run);
        this.autosave(run);
        return run.summary;
      }),
    variations: ({ jobId, runId, step, family, directions, amplitudes }, context) =>
      this.runJob(jobId, context, async (signal) => {
        const run = this.getRunRecord(runId);
        const ganGrid = await this.ganVariations(run, family, directions, amplitudes, signal, (done, total, message) => context.emit?.('progress', { jobId, done, total, message: `Variations: ${message}` }));
        if (ganGrid !== null) return ganGrid;
        return variationGrid({
          denoiser: await this.registry.load(run.summary.modelId),
          run,
          step,
          family,
          directions,
          amplitudes,
          signal,
          onProgress: (done, total, message) => context.emit?.('progress', { jobId, done, total, message: `Variations: ${message}` }),
        });
      }),
    theory: ({ jobId, runId, analysis, seeds }, context) =>
      this.runJob(jobId, context, async (signal) =>
        theoryChart({
          registry: this.registry,
          summary: this.getRunRecord(runId).summary,
          analysis,
          seeds,
          context: { signal, onProgress: (done, total, message) => context.emit?.('progress', { jobId, done, total, message: `${analysis}: ${message}` }) },
        }),
      ),
    deleteRuns: async ({ runIds }) => {
      const deleted = runIds.filter((runId) => this.runs.delete(runId));
      for (const runId of deleted) {
        if (FILE_SAFE_RUN_ID.test(runId)) rmSync(this.autosavePath(runId), { force: true });
      }
      return { deleted };
    },
    gaussianGhost: async ({ runId }) => {
      const run = this.getRunRecord(runId);
      if (this.isGanModel(run.summary.modelId)) {
        return { available: false, runId, reason: 'A GAN run has no denoising trajectory to compare with the Gaussian theory.' };
      }
      const { model, reason } = await this.gaussians.get(run.summary.modelId);
      if (model === null) return { available: false, runId, reason };
      const dim = run.image.channels * run.image.height * run.image.width;
      if (model.dim !== dim) {
        return { available: false, runId, reason: `The model's statistics describe ${model.dim}-value images; its runs have ${dim}.` };
      }
      return gaussianGhost(run, model);
    },
    trajectorySpace: ({ jobId, runId, count, basis }, context) =>
      this.runJob(jobId, context, async (signal) => {
        const run = this.getRunRecord(runId);
        const denoiser = await this.registry.load(run.summary.modelId);
        return trajectorySpace({
          denoiser,
          runId,
          settings: run.summary.settings,
          sigmas: Float64Array.from(run.summary.sigmas),
          count,
          basis,
          gaussian: (await this.gaussians.get(run.summary.modelId)).model,
          signal,
          onStep: (done, total) => context.emit?.('progress', { jobId, done, total, message: `${count} trajectories: step ${done} of ${total}` }),
        });
      }),
    saveSession: async ({ path, name, runIds, current }) => {
      const saved = saveSession(resolve(path), name, runIds.map((runId) => this.getRunRecord(runId)), current);
      rememberSession(this.options.userDataDir, saved);
      return { path: saved.path };
    },
    openSession: async ({ path }) => {
      const opened = openSession(resolve(path));
      for (const run of opened.runs) this.runs.set(run.summary.runId, run);
      rememberSession(this.options.userDataDir, opened);
      return { path: opened.path, name: opened.name, savedAt: opened.savedAt, runs: opened.runs.map((run) => run.summary), current: opened.current };
    },
    recentSessions: async () => listRecentSessions(this.options.userDataDir),
    exportStrip: async ({ runId, path, layer, frames, scale }) =>
      writeExport(resolve(path), filmstripPng(this.getRunRecord(runId), layer, frames, scale)),
    exportAnimation: async ({ runId, path, layer, frameMs, scale }) =>
      writeExport(resolve(path), timelineGif(this.getRunRecord(runId), layer, frameMs, scale)),
    exportTrajectories: async ({ runIds, path, includeGhost }) => {
      const runs = runIds.map((runId) => this.getRunRecord(runId));
      const ghosts = includeGhost ? await Promise.all(runIds.map((runId) => this.handlers.gaussianGhost({ runId }, {}))) : runs.map(() => null);
      return writeExport(resolve(path), trajectoriesSafetensors(runs, ghosts));
    },
    studioPaths: async () => ({
      dataDir: this.options.userDataDir,
      sessionsDir: join(this.options.userDataDir, 'sessions'),
      exportsDir: join(this.options.userDataDir, 'exports'),
    }),
  };

  private async runJob<T>(jobId: string, context: CallContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.jobs.has(jobId)) throw new PainterError('BAD_ARGUMENT', `Job id "${jobId}" is already running.`, { jobId });
    const controller = new AbortController();
    context.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    this.jobs.set(jobId, controller);
    const progress = (done: number, total: number, message: string): void =>
      context.emit?.('progress', { jobId, done, total, message } satisfies JobProgress);
    try {
      return await work(controller.signal).finally(() => progress(1, 1, 'done'));
    } finally {
      this.jobs.delete(jobId);
    }
  }

  getRunRecord(runId: string): RunRecord {
    const run = this.runs.get(runId);
    if (run === undefined) throw new PainterError('RUN_NOT_FOUND', `No run "${runId}" is open.`, { runId });
    return run;
  }

  /** Checks a request against the model before any work starts. */
  checkRequest(request: GenerateRequest, denoiser: Denoiser, info: ModelInfo): void {
    const { classLabel, guidance } = request;
    if (classLabel !== null) {
      const classes = denoiser.classes;
      if (classes === null) {
        throw new PainterError('BAD_ARGUMENT', `Model "${info.id}" takes no class; leave the class empty.`, { classLabel });
      }
      if (!Number.isInteger(classLabel) || classLabel < 0 || classLabel >= classes.length) {
        throw new PainterError('BAD_ARGUMENT', `Class ${classLabel} is not one of model "${info.id}"'s classes 0–${classes.length - 1} (${classes.join(', ')}).`, {
          classLabel,
          classes,
        });
      }
    } else if (!info.unconditional) {
      throw new PainterError('BAD_ARGUMENT', `Model "${info.id}" needs a class (0–${(denoiser.classes?.length ?? 1) - 1}).`);
    }
    if (guidance !== 1 && classLabel !== null && !info.unconditional) {
      throw new PainterError('BAD_ARGUMENT', `Model "${info.id}" has no unconditional mode, so guidance must be 1.`, { guidance });
    }
  }

  /** Whether a model id names a registered GAN generator (false for unknown ids: their own errors come later). */
  private isGanModel(modelId: string): boolean {
    return this.registry.list().some((m) => m.manifest.id === modelId && m.manifest.kind === 'gan');
  }

  /** A GAN run's variation grid (null for a diffusion run, which must not ask for GAN latent directions). */
  private async ganVariations(
    run: RunRecord,
    family: DirectionFamily,
    directions: number,
    amplitudes: number[],
    signal: AbortSignal,
    onProgress: (done: number, total: number, message: string) => void,
  ): Promise<VariationGrid | null> {
    if (!this.isGanModel(run.summary.modelId)) {
      if (family === 'gan-latent') throw new PainterError('BAD_ARGUMENT', 'GAN latent directions need a run of a GAN model; pick the Jacobian, x̂0 PCs or the generator map for a diffusion run.');
      return null;
    }
    if (family !== 'gan-latent') throw new PainterError('BAD_ARGUMENT', `A GAN run has no denoising steps; its directions are the GAN latent directions (family "gan-latent"), not "${family}".`);
    return ganVariationGridForRun(await this.registry.loadGenerator(run.summary.modelId), run, directions, amplitudes, signal, onProgress);
  }

  async generate(request: GenerateRequest, context: JobContext = {}): Promise<RunSummary> {
    const started = performance.now();
    const model = this.registry.get(request.modelId);
    if (model.manifest.kind === 'gan') {
      // A GAN generator: one evaluation, no timeline (gan-studio.ts).
      const run = await ganRun(await this.registry.loadGenerator(request.modelId), request, model.manifestHash, context.signal);
      this.runs.set(run.summary.runId, run);
      this.autosave(run);
      return run.summary;
    }
    if (request.latent !== undefined || request.branchOf !== undefined) {
      throw new PainterError('BAD_ARGUMENT', `"latent" and "branchOf" are for GAN models; model "${request.modelId}" is a ${model.manifest.kind} model.`);
    }
    const denoiser = await this.registry.load(request.modelId);
    const info = await this.registry.info(request.modelId);
    this.checkRequest(request, denoiser, info);
    const sigmas = denoiser.schedule.samplingSigmas(request.steps);
    const trajectory = await sample({
      denoiser,
      sampler: request.sampler,
      sigmas,
      seeds: [request.seed],
      condition: { labels: [request.classLabel], guidance: request.guidance },
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.onProgress ? { onStep: context.onProgress } : {}),
    });
    const summary: RunSummary = {
      runId: randomUUID(),
      modelId: request.modelId,
      settings: { ...request },
      stepCount: sigmas.length,
      sigmas: Array.from(sigmas),
      evaluations: Array.from(trajectory.evaluations),
      seconds: (performance.now() - started) / 1000,
      createdAt: new Date().toISOString(),
      branch: null,
      convention: denoiser.schedule.kind === 'vp' ? 'vp' : 'sigma',
    };
    const warning = await this.samplerWarning(request, denoiser);
    if (warning !== null) summary.warnings = [warning];
    const run: RunRecord = {
      summary,
      manifestHash: model.manifestHash,
      image: denoiser.image,
      xt: toModelConvention(trajectory.states, sigmas, denoiser.dim, denoiser),
      x0Hat: trajectory.x0Hat,
    };
    this.runs.set(summary.runId, run);
    this.autosave(run);
    return summary;
  }

  /** A warning when the chosen sampler and steps are far from converged on the model's data spectrum. */
  private async samplerWarning(request: GenerateRequest, denoiser: Denoiser): Promise<string | null> {
    const { model } = await this.gaussians.get(request.modelId);
    const spectrum = model !== null && model.dim === denoiser.dim ? gaussianSpectrum(model) : referenceSpectrum(denoiser.image.range);
    const source = model !== null ? "the data's Gaussian statistics" : 'a reference spectrum (the model has no data statistics)';
    return accuracyWarning(denoiser.schedule, request.sampler, request.steps, spectrum, source);
  }

  private autosavePath(runId: string): string {
    // A run opened from a file carries whatever id the file says: never let it name a path.
    if (!FILE_SAFE_RUN_ID.test(runId)) throw new PainterError('BAD_ARGUMENT', `Run id "${runId.slice(0, 64)}" cannot name a file.`);
    return join(this.options.userDataDir, 'runs', `${runId}.safetensors`);
  }

  /** Every run is kept on disk as it is made, so a crash loses nothing. */
  private autosave(run: RunRecord): void {
    const path = this.autosavePath(run.summary.runId);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeRun(path, run);
    } catch (error) {
      this.notices.push(`Could not autosave run ${run.summary.runId}: ${(error as Error).message}`);
    }
  }

  async dispose(): Promise<void> {
    for (const job of this.jobs.values()) job.abort();
    await this.registry.dispose();
  }
}

/**
 * Saves a run, refusing to overwrite a file that exists but is not a Painter
 * run (so a mistyped path never destroys someone's data).
 */
export function saveRunFile(path: string, run: RunRecord): void {
  if (existsSync(path)) {
    try {
      readRun(path);
    } catch {
      throw new PainterError('BAD_FILE', `${path} exists and is not a Painter run; refusing to overwrite it.`, { path });
    }
  }
  mkdirSync(dirname(path), { recursive: true });
  writeRun(path, run);
}
