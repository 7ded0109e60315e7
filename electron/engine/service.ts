/**
 * The engine's service: one method per API call of the contract, plain Node.
 * Hosted by the engine worker (Electron and browser mode) and called
 * directly by the CLI and the tests.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { ApiMethods, ApiParams, ApiResult, DirectionFamily, GenerateRequest, ModelInfo, ProviderChoice, ProviderSettings, RunSummary, JobPreview, JobProgress, SessionSummary, StorageSettings, StorageStatus, VariationGrid } from '../api/contract';
import { ganRun, ganVariationGridForRun } from './gan-studio';
import { platformName, providerOptionsHere } from './denoisers/onnx';
import { readProviderSetting, writeProviderSetting } from './settings';
import type { DenoiseCondition, Denoiser } from './denoisers/types';
import type { DiffusersPipeline } from './diffusers/pipeline';
import type { ImageSpec } from './manifest';
import { PainterError } from './errors';
import { cleanStaleTemporaries, fileError, quoteText, readJsonFile } from './files';
import { writeFileAtomic } from './safetensors';
import { ModelRegistry } from './models';
import { readRun, writeRun, type RunRecord } from './runs';
import { sample, toModelConvention } from './samplers';
import { accuracyWarning, gaussianSpectrum, referenceSpectrum } from './sampler-accuracy';
import { branchRun } from './branch';
import { filmstripPng, spreadIndices, timelineGif, trajectoriesSafetensors, writeExport } from './export';
import { GaussianStatsCache, gaussianGhost } from './ghost';
import { findAnalytic } from './analysis/resources';
import { localGhost } from './local-ghost';
import { importSession, listRecentSessions, openSession, rememberSession, saveSession, sessionRunsFolder, type OpenedSession } from './session';
import { JobReporter, previewImage } from './jobs/progress';
import { JobScheduler, type JobLane } from './jobs/scheduler';
import { ResultStore } from './results';
import { parseRun } from './runs';
import { runFromImage } from './image-start';
import { PathPolicy, type ConfinementOptions } from './path-policy';
import { RunStore, type OpenRunFile } from './run-store';
import { resolveStorageSettings, saveStorageSettings, toBudgets } from './storage-settings';
import { trajectorySpace } from './trajectory-space';
import { theoryChart } from './theory-charts';
import { variationGrid } from './variations';
import { DecodeCache, decodeRunState, decodeVariationGrid, decodedRecord, latentBrush, prepareRun, runDenoiser, runPreview } from './diffusers/studio';
import { applyPreview, type PreviewMap } from './diffusers/preview';

export interface EngineOptions {
  /** Folder of bundled models (native-models/). */
  nativeModelsDir: string;
  /** Where user settings and autosaved runs live. */
  userDataDir: string;
  /**
   * Execution provider choice that overrides the saved setting (the CLI's
   * --provider, `painter serve --provider`); the studio's saved choice, else
   * `auto`, when absent.
   */
  provider?: ProviderChoice;
  /** Told each notice as it happens (the CLI prints them); the studio reads a model's from its ModelInfo. */
  onNotice?: (message: string) => void;
  /**
   * Browser mode: confine every path the API names to a workspace (read and
   * written) and read-only model folders (DESIGN.md §4). Absent: not confined.
   */
  confine?: ConfinementOptions;
  /** Unconfined: the folder relative paths resolve against (default: the working folder). */
  baseDir?: string;
  /**
   * Model folders given for this launch only (`painter serve --models DIR`):
   * registered like added folders but never written to models.json.
   */
  modelFolders?: string[];
  /** Storage budgets that override the environment and the settings file (CLI flags). */
  storage?: Partial<StorageSettings>;
  /**
   * Called between the runs of a long operation (a session save), so an engine
   * process can free their buffers promptly (engine-worker.ts); not sent over IPC.
   */
  collectGarbage?: () => void;
}

export interface CallContext {
  signal?: AbortSignal;
  /** Job progress (the engine's only event; its supervisor adds `engine` events of its own). */
  emit?: (name: 'progress', payload: JobProgress) => void;
}

export interface JobContext {
  signal?: AbortSignal;
  /** After each step; `x0Hat` is the latest estimate of the final image (batch of one), on the grid `image`. */
  onProgress?: (done: number, total: number, x0Hat?: Float32Array, image?: ImageSpec) => void;
}

/** Deleted runs kept for undo, at most this many bytes of tensors (oldest go first). */
const TRASH_BYTES = 256 * 1024 * 1024;
const ANALYSIS_NAMES: Record<string, string> = { emergence: 'Emergence', perturbation: 'Perturbation', agreement: 'EV(σ)', teleport: 'Teleport' };

const USER_MODELS_FILE = 'models.json';
/** VAE decodes of recorded latent states kept for scrubbing back (an LRU cache). */
const DECODE_CACHE_BYTES = 256 * 1024 * 1024;
/** Model folders a user adds; more is a damaged file, not a collection. */
const MAX_USER_MODELS = 256;
/** Run ids the engine makes are UUIDs; only such ids may name an autosave file. */
const FILE_SAFE_RUN_ID = /^[A-Za-z0-9-]{1,128}$/;

export class Engine {
  readonly registry: ModelRegistry;
  /** The open runs, within the memory budget (the rest on disk, read back on demand). */
  readonly runs: RunStore;
  private storage: StorageSettings;
  private readonly jobs = new Map<string, AbortController>();
  readonly notices: string[] = [];
  private readonly gaussians: GaussianStatsCache;
  /** Decides which jobs run now and which wait (generations never wait for an analysis). */
  private readonly scheduler = new JobScheduler();
  /** Latest variation grid, 3-D view and charts per run, saved with sessions. */
  readonly results = new ResultStore();
  /** Runs deleted in this session, newest last, so that undo can bring them back. */
  private readonly trash = new Map<string, RunRecord>();

  /** Where the API may read and write. */
  readonly paths: PathPolicy;
  /** VAE decodes of latent runs' states (decodeState). */
  readonly decodes = new DecodeCache(DECODE_CACHE_BYTES);

  constructor(private readonly options: EngineOptions) {
    this.paths = options.confine
      ? PathPolicy.confined({ workspace: options.confine.workspace, readOnly: [...options.confine.readOnly, options.nativeModelsDir] })
      : PathPolicy.unconfined(options.baseDir);
    this.storage = resolveStorageSettings(options.userDataDir, options.storage, (message) => this.notice(message));
    this.runs = new RunStore(join(options.userDataDir, 'runs'), toBudgets(this.storage), (message) => this.notice(message));
    this.registry = new ModelRegistry({
      bundledFolder: options.nativeModelsDir,
      userFolders: [...this.readUserFolders(), ...(options.modelFolders ?? [])],
      provider: options.provider ?? readProviderSetting(options.userDataDir) ?? 'auto',
      onNotice: (message) => this.notice(message),
      ...(options.confine ? { checkRead: (path: string) => void this.paths.forRead(path) } : {}),
      dataDir: options.userDataDir,
    });
    this.gaussians = new GaussianStatsCache(this.registry);
    // Temporary files of writes that a crash or kill cut short (autosaves, settings).
    cleanStaleTemporaries(options.userDataDir);
    cleanStaleTemporaries(join(options.userDataDir, 'runs'));
  }

  private notice(message: string): void {
    this.notices.push(message);
    this.options.onNotice?.(message);
  }

  private providerSettings(): ProviderSettings {
    return {
      choice: this.registry.provider,
      source: this.options.provider === undefined ? 'settings' : 'override',
      platform: platformName(),
      providers: providerOptionsHere(),
    };
  }

  private readUserFolders(): string[] {
    const path = join(this.options.userDataDir, USER_MODELS_FILE);
    if (!existsSync(path)) return [];
    try {
      const value = readJsonFile(path, 'settings');
      if (!Array.isArray(value)) throw new PainterError('BAD_FILE', `${quoteText(path)} is not a list of model folders.`, { path });
      return value.filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 4096).slice(0, MAX_USER_MODELS);
    } catch (error) {
      this.notice(`Your added model folders were not loaded: ${(error as Error).message}`);
      return [];
    }
  }

  /**
   * Remembers an added folder in models.json, keeping every folder already
   * listed there (even one that failed to load this time). Browser mode keeps
   * added folders for the launch only: it never edits the desktop's list.
   */
  private forgetUserFolder(folder: string): void {
    if (this.paths.confined) return;
    const folders = this.readUserFolders().filter((listed) => listed !== folder);
    mkdirSync(this.options.userDataDir, { recursive: true });
    writeFileAtomic(join(this.options.userDataDir, USER_MODELS_FILE), Buffer.from(JSON.stringify(folders, null, 2)));
  }

  private rememberUserFolder(folder: string): void {
    if (this.paths.confined) return;
    const folders = [...new Set([...this.readUserFolders(), folder])];
    mkdirSync(this.options.userDataDir, { recursive: true });
    writeFileAtomic(join(this.options.userDataDir, USER_MODELS_FILE), Buffer.from(JSON.stringify(folders, null, 2)));
  }

  async call<M extends keyof ApiMethods>(method: M, params: ApiParams<M>, context: CallContext = {}): Promise<ApiResult<M>> {
    const handler = this.handlers[method] as (p: ApiParams<M>, c: CallContext) => Promise<ApiResult<M>>;
    return handler(params, context);
  }

  private readonly handlers: { [M in keyof ApiMethods]: (params: ApiParams<M>, context: CallContext) => Promise<ApiResult<M>> } = {
    listModels: () => Promise.all(this.registry.list().map((m) => this.registry.info(m.manifest.id))),
    addModelFolder: async ({ folder }) => {
      const model = await this.registry.addFolder(this.paths.forRead(folder));
      this.rememberUserFolder(model.folder);
      return this.registry.info(model.manifest.id);
    },
    removeModel: async ({ modelId }) => {
      // Its networks are released: no job may be using them.
      if (this.jobs.size > 0) throw new PainterError('BAD_ARGUMENT', 'A job is running; wait for it or cancel it before removing a model.', { modelId });
      const model = await this.registry.remove(modelId);
      this.forgetUserFolder(model.folder);
      return { removed: modelId };
    },
    generate: ({ jobId, ...request }, context) =>
      this.runJob(jobId, 'interactive', context, async (signal, reporter) => {
        const map = await this.previewMapOf(request.modelId);
        return this.generate(request, {
          signal,
          onProgress: (done, total, x0Hat, image) =>
            reporter.report({
              done,
              total,
              message: `Step ${done} of ${total}`,
              ...(x0Hat && image ? { preview: () => this.preview(image, x0Hat, done - 1, total + 1, map) } : {}),
            }),
        });
      }),
    decodeState: async ({ runId, step, which }) => {
      const run = this.getRunRecord(runId);
      const pipeline = await this.pipelineOf(run.summary.modelId);
      if (pipeline === null) throw new PainterError('BAD_ARGUMENT', `Run ${runId} is of a pixel-space model; its states are images already (getRun).`, { runId });
      return this.decodes.get({ runId, step, which }, () => decodeRunState(pipeline, run, step, which));
    },
    generateFromImage: ({ jobId, ...request }, context) =>
      this.runJob(jobId, 'interactive', context, async (signal, reporter) => {
        const model = this.registry.get(request.modelId);
        let denoiser: Denoiser;
        let start = request;
        let map: PreviewMap | null = null;
        if (model.manifest.kind === 'diffusers') {
          // The image is what the user sees (decoded pixels); a latent pipeline starts from its VAE encoding.
          const pipeline = await this.registry.loadPipeline(request.modelId);
          denoiser = (await prepareRun(pipeline, request)).denoiser;
          if (pipeline.vae !== null) {
            const decoded = pipeline.vae.imageOf(denoiser.image);
            const expected = 3 * decoded.height * decoded.width;
            if (request.image.length !== expected) {
              throw new PainterError('BAD_ARGUMENT', `The image has ${request.image.length} values; a ${decoded.width}×${decoded.height} run of "${request.modelId}" starts from 3×${decoded.height}×${decoded.width}.`);
            }
            start = { ...request, image: await pipeline.vae.encode(request.image, decoded, denoiser.image.channels) };
            map = await this.previewMapOf(request.modelId);
          }
        } else {
          denoiser = await this.registry.load(request.modelId);
          this.checkRequest(request, denoiser, await this.registry.info(request.modelId));
        }
        const stepCount = request.steps + 1;
        const run = await runFromImage({
          request: start,
          denoiser,
          manifestHash: model.manifestHash,
          signal,
          onStep: (done, total, x0Hat) =>
            reporter.report({
              done,
              total,
              message: `From ${request.name}: step ${request.startStep + done} of ${request.steps}`,
              preview: () => this.preview(denoiser.image, x0Hat, request.startStep + done - 1, stepCount, map),
            }),
        });
        this.keep(run);
        return run.summary;
      }),
    cancel: async ({ jobId }) => {
      const job = this.jobs.get(jobId);
      job?.abort();
      return { cancelled: job !== undefined };
    },
    listRuns: async () => this.runs.summaries(),
    getRun: async ({ runId }) => {
      const run = this.getRunRecord(runId);
      const map = await this.previewMapOf(run.summary.modelId);
      return { summary: run.summary, image: run.image, xt: run.xt, x0Hat: run.x0Hat, ...(map !== null ? { preview: runPreview(map, run) } : {}) };
    },
    saveRun: async ({ runId, path }) => {
      const absolute = this.paths.forWrite(path);
      saveRunFile(absolute, this.getRunRecord(runId));
      return { path: absolute };
    },
    openRun: async ({ path }) => {
      const file = this.paths.forRead(path);
      const run = readRun(file);
      this.runs.add(run, file, false);
      return run.summary;
    },
    branch: ({ jobId, runId, step, brush }, context) =>
      this.runJob(jobId, 'interactive', context, async (signal, reporter) => {
        const parent = this.getRunRecord(runId);
        const denoiser = await this.runDenoiserOf(parent);
        const needsStats = brush.kind === 'direction' && brush.direction?.kind === 'gaussian-pc';
        const pipeline = await this.pipelineOf(parent.summary.modelId);
        // Latent runs: the brush was painted on the decoded image.
        const map = pipeline?.vae ? await this.previewMapOf(parent.summary.modelId) : null;
        const run = await branchRun({
          parent,
          denoiser,
          step,
          brush: pipeline?.vae ? latentBrush(brush, pipeline.vae.scale, map) : brush,
          painted: brush,
          gaussian: needsStats ? (await this.gaussians.get(parent.summary.modelId)).model : null,
          signal,
          onStep: (done, total, x0Hat) =>
            reporter.report({
              done,
              total,
              message: `Branch: step ${step + done} of ${parent.summary.stepCount - 1}`,
              preview: () => this.preview(parent.image, x0Hat, step + done - 1, parent.summary.stepCount, map),
            }),
        });
        this.keep(run);
        return run.summary;
      }),
    variations: ({ jobId, runId, step, family, directions, amplitudes, mask, nullSpaceRank, apply }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const run = this.getRunRecord(runId);
        const ganGrid = await this.ganVariations(run, family, directions, amplitudes, signal, (done, total, message) => context.emit?.('progress', { jobId, done, total, message: `Variations: ${message}` }));
        if (ganGrid !== null) return ganGrid;
        // Directions only mean the same thing on the model they were found on.
        const source = apply !== undefined ? this.runs.get(apply.sourceRunId) : undefined;
        if (source !== undefined && source.summary.modelId !== run.summary.modelId) {
          throw new PainterError('BAD_ARGUMENT', `These directions were found on model "${source.summary.modelId}"; this run is of "${run.summary.modelId}". Apply them to a run of the same model.`, {
            source: source.summary.modelId,
            target: run.summary.modelId,
          });
        }
        const found = await variationGrid({
          denoiser: await this.runDenoiserOf(run),
          run,
          step,
          family,
          directions,
          amplitudes,
          ...(mask !== undefined ? { mask } : {}),
          ...(nullSpaceRank !== undefined ? { nullSpaceRank } : {}),
          ...(apply !== undefined ? { apply } : {}),
          signal,
          onProgress: (done, total, message) => reporter.report({ done, total, message: `Variations: ${message}` }),
        });
        const pipeline = await this.pipelineOf(run.summary.modelId);
        const grid = pipeline !== null ? await decodeVariationGrid(pipeline, found, run.image) : found;
        this.results.keepVariations(grid);
        return grid;
      }),
    theory: ({ jobId, runId, analysis, seeds }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const run = this.getRunRecord(runId);
        const chart = await theoryChart({
          registry: this.registry,
          denoiser: await this.runDenoiserOf(run),
          summary: run.summary,
          analysis,
          seeds,
          context: { signal, onProgress: (done, total, message) => reporter.report({ done, total, message: `${ANALYSIS_NAMES[analysis]}: ${message}` }) },
        });
        this.results.keepChart(chart);
        return chart;
      }),
    deleteRuns: async ({ runIds }) => {
      const deleted: string[] = [];
      for (const runId of runIds) {
        if (!this.runs.has(runId)) continue;
        // Kept in memory for undo (restoreRuns), within a budget; its autosave goes now.
        this.toTrash(this.runs.get(runId));
        this.runs.delete(runId);
        deleted.push(runId);
        this.decodes.drop(runId);
        if (FILE_SAFE_RUN_ID.test(runId)) rmSync(this.runs.autosavePath(runId), { force: true });
      }
      return { deleted };
    },
    restoreRuns: async ({ runIds }) => {
      const missing = runIds.filter((runId) => !this.trash.has(runId) && !this.runs.has(runId));
      if (missing.length > 0) {
        throw new PainterError('RUN_NOT_FOUND', `Run ${missing[0]} was deleted too long ago to bring back (the engine keeps the most recently deleted runs only).`, { runIds: missing });
      }
      return runIds.map((runId) => {
        const run = this.trash.get(runId);
        if (run === undefined) return this.getRunRecord(runId).summary;
        this.trash.delete(runId);
        this.keep(run);
        return run.summary;
      });
    },
    runThumbnails: async ({ runIds }) => {
      const thumbnails = [];
      for (const runId of runIds) {
        const run = this.getRunRecord(runId);
        const dim = run.image.channels * run.image.height * run.image.width;
        const map = await this.previewMapOf(run.summary.modelId);
        const { image, values } = this.preview(run.image, run.x0Hat.subarray((run.summary.stepCount - 1) * dim, run.summary.stepCount * dim), 0, 1, map);
        thumbnails.push({ runId, image, values });
      }
      return thumbnails;
    },
    importRun: async ({ file }) => {
      const run = parseRun(file.bytes, file.name);
      this.keep(run);
      return run.summary;
    },
    importSession: async ({ session, runs }) => {
      const opened = importSession(session, runs);
      opened.runs.forEach((run) => this.keep(run));
      return this.sessionSummary(opened);
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
    localGhost: ({ jobId, runId }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const run = this.getRunRecord(runId);
        const model = this.registry.get(run.summary.modelId);
        if (model.manifest.kind === 'local') return { available: false, runId, reason: 'This run is the local patch model itself.' };
        const found = await findAnalytic(this.registry, model, 'local');
        if (found === null) {
          return { available: false, runId, reason: `No local patch model of ${model.manifest.name}'s image size is installed.` };
        }
        return localGhost({
          run,
          local: found.denoiser,
          localId: found.id,
          signal,
          onStep: (done, total) => reporter.report({ done, total, message: `Local ghost: step ${done} of ${total}` }),
        });
      }),
    trajectorySpace: ({ jobId, runId, count, basis }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const run = this.getRunRecord(runId);
        const denoiser = await this.runDenoiserOf(run);
        const space = await trajectorySpace({
          denoiser,
          runId,
          settings: run.summary.settings,
          sigmas: Float64Array.from(run.summary.sigmas),
          count,
          basis,
          gaussian: (await this.gaussians.get(run.summary.modelId)).model,
          signal,
          onStep: (done, total) => reporter.report({ done, total, message: `Sampling ${count} seeds: step ${done} of ${total}` }),
        });
        this.results.keepTrajectories(space);
        return space;
      }),
    saveSession: async ({ path, name, runIds, current }) => {
      const target = this.paths.forWrite(path);
      this.paths.forWrite(sessionRunsFolder(target)); // its runs folder too (a link there must not lead out)
      for (const runId of runIds) if (!this.runs.has(runId)) this.getRunRecord(runId); // RUN_NOT_FOUND before anything is written
      // One run at a time: runs moved out of memory come back, are written, and may go again.
      const saved = saveSession(
        target,
        name,
        {
          runIds,
          load: (runId) => {
            this.options.collectGarbage?.();
            return this.getRunRecord(runId);
          },
        },
        current,
        this.results.forRuns(runIds),
      );
      rememberSession(this.options.userDataDir, saved);
      return { path: saved.path };
    },
    openSession: async ({ path }) => {
      const opened = openSession(this.paths.forRead(path));
      opened.runs.forEach((run, i) => this.runs.add(run, opened.files[i]!, false));
      rememberSession(this.options.userDataDir, opened);
      return this.sessionSummary(opened);
    },
    // Browser mode lists only the sessions it could open (the desktop's list may name any folder).
    recentSessions: async () => listRecentSessions(this.options.userDataDir).filter((session) => !this.paths.confined || this.paths.allowsRead(session.path)),
    // Latent runs: strips and animations show the VAE's decodes (through the decode cache).
    exportStrip: async ({ runId, path, layer, frames, scale }) => {
      const run = await this.shownRecord(this.getRunRecord(runId), layer, spreadIndices(this.getRunRecord(runId).summary.stepCount, frames));
      return writeExport(this.paths.forWrite(path), filmstripPng(run, layer, frames, scale));
    },
    exportAnimation: async ({ runId, path, layer, frameMs, scale }) => {
      const record = this.getRunRecord(runId);
      const run = await this.shownRecord(record, layer, Array.from({ length: record.summary.stepCount }, (_, i) => i));
      return writeExport(this.paths.forWrite(path), timelineGif(run, layer, frameMs, scale));
    },
    exportTrajectories: async ({ runIds, path, includeGhost }) => {
      const runs = runIds.map((runId) => this.getRunRecord(runId));
      const ghosts = includeGhost ? await Promise.all(runIds.map((runId) => this.handlers.gaussianGhost({ runId }, {}))) : runs.map(() => null);
      return writeExport(this.paths.forWrite(path), trajectoriesSafetensors(runs, ghosts));
    },
    storage: async () => this.storageStatus(),
    setStorage: async (settings) => {
      this.storage = settings;
      // Browser mode changes the budgets for this launch only; the desktop's settings file stays as it was.
      if (!this.paths.confined) saveStorageSettings(this.options.userDataDir, settings);
      this.runs.budgets = toBudgets(settings);
      this.runs.enforceMemory();
      this.runs.pruneAutosaves();
      return this.storageStatus();
    },
    studioPaths: async () => {
      // Browser mode suggests places inside its workspace, the only place it may write.
      const root = this.paths.workspace ?? this.options.userDataDir;
      return { dataDir: root, sessionsDir: join(root, 'sessions'), exportsDir: join(root, 'exports') };
    },
    providerSettings: async () => this.providerSettings(),
    setProvider: async ({ provider }) => {
      if (this.options.provider !== undefined) {
        throw new PainterError('BAD_ARGUMENT', `The execution provider was fixed to "${this.options.provider}" when the engine started (--provider); restart without it to choose here.`, {
          provider: this.options.provider,
        });
      }
      if (this.jobs.size > 0) throw new PainterError('BAD_ARGUMENT', 'A job is running; wait for it or cancel it before switching the execution provider.');
      writeProviderSetting(this.options.userDataDir, provider);
      await this.registry.setProvider(provider);
      return this.providerSettings();
    },
  };

  /**
   * Runs a job in its lane (the scheduler may make it wait; it says so in its
   * progress), cancellable by its id from the moment it is submitted.
   */
  private async runJob<T>(jobId: string, lane: JobLane, context: CallContext, work: (signal: AbortSignal, reporter: JobReporter) => Promise<T>): Promise<T> {
    if (this.jobs.has(jobId)) throw new PainterError('BAD_ARGUMENT', `Job id "${jobId}" is already running.`, { jobId });
    const controller = new AbortController();
    context.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    this.jobs.set(jobId, controller);
    const emit = context.emit ? (progress: JobProgress): void => context.emit!('progress', progress) : undefined;
    try {
      return await this.scheduler.run(
        lane,
        async () => {
          const reporter = new JobReporter(jobId, emit);
          return work(controller.signal, reporter).finally(() => reporter.report({ done: 1, total: 1, message: 'Done' }));
        },
        {
          signal: controller.signal,
          onQueued: (position) =>
            new JobReporter(jobId, emit).queued(position, position === 1 ? 'Waiting for the job before it to finish' : `Waiting: ${position - 1} jobs before it`),
        },
      );
    } finally {
      this.jobs.delete(jobId);
    }
  }

  /** A state as the studio shows it in progress: latent states through the model's preview map. */
  private preview(image: ImageSpec, x0Hat: Float32Array, step: number, stepCount: number, map: PreviewMap | null = null): JobPreview {
    const dim = image.channels * image.height * image.width;
    if (map === null) return { step, stepCount, ...previewImage(image, x0Hat.subarray(0, dim)) };
    const rgb: ImageSpec = { channels: 3, height: image.height, width: image.width, range: [-1, 1] };
    return { step, stepCount, ...previewImage(rgb, applyPreview(map, x0Hat.subarray(0, dim), image)) };
  }

  /** A diffusers model's pipeline; null for any other kind (or an unknown id: its own error comes later). */
  private async pipelineOf(modelId: string): Promise<DiffusersPipeline | null> {
    const model = this.registry.list().find((m) => m.manifest.id === modelId);
    return model?.manifest.kind === 'diffusers' ? this.registry.loadPipeline(modelId) : null;
  }

  /** A latent pipeline's preview map; null for every other model. */
  private async previewMapOf(modelId: string): Promise<PreviewMap | null> {
    const pipeline = await this.pipelineOf(modelId);
    return pipeline?.vae ? this.registry.previewMap(modelId) : null;
  }

  /** A run as exports draw it: a latent run's states at `indices` decoded by the VAE; any other run as it is. */
  private async shownRecord(run: RunRecord, layer: 'xt' | 'x0Hat' | 'both', indices: readonly number[]): Promise<RunRecord> {
    const pipeline = await this.pipelineOf(run.summary.modelId);
    if (pipeline === null || pipeline.vae === null) return run;
    const runId = run.summary.runId;
    return decodedRecord(run, layer === 'both' ? ['x0Hat', 'xt'] : [layer], indices, (step, which) =>
      this.decodes.get({ runId, step, which }, () => decodeRunState(pipeline, run, step, which)),
    );
  }

  /** The denoiser a recorded run was made with (a diffusers run: its size and its prompts). */
  private async runDenoiserOf(run: RunRecord): Promise<Denoiser> {
    const pipeline = await this.pipelineOf(run.summary.modelId);
    return pipeline !== null ? runDenoiser(pipeline, run.summary, run.image) : this.registry.load(run.summary.modelId);
  }

  private toTrash(run: RunRecord): void {
    this.trash.set(run.summary.runId, run);
    let bytes = 0;
    for (const kept of this.trash.values()) bytes += kept.xt.byteLength + kept.x0Hat.byteLength;
    for (const [runId, kept] of this.trash) {
      if (bytes <= TRASH_BYTES || this.trash.size === 1) break;
      bytes -= kept.xt.byteLength + kept.x0Hat.byteLength;
      this.trash.delete(runId);
      this.results.drop([runId]);
    }
  }

  /** An opened session's summary for the UI; its results join the engine's. */
  private sessionSummary(opened: OpenedSession): SessionSummary {
    this.results.add(opened.results);
    return {
      path: opened.path,
      name: opened.name,
      savedAt: opened.savedAt,
      runs: opened.runs.map((run) => run.summary),
      current: opened.current,
      results: opened.results,
    };
  }

  getRunRecord(runId: string): RunRecord {
    return this.runs.get(runId);
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
      this.keep(run);
      return run.summary;
    }
    if (request.latent !== undefined || request.branchOf !== undefined) {
      throw new PainterError('BAD_ARGUMENT', `"latent" and "branchOf" are for GAN models; model "${request.modelId}" is a ${model.manifest.kind} model.`);
    }
    let denoiser: Denoiser;
    let condition: DenoiseCondition;
    if (model.manifest.kind === 'diffusers') {
      ({ denoiser, condition } = await prepareRun(await this.registry.loadPipeline(request.modelId), request));
    } else {
      if (request.prompt !== undefined || request.negativePrompt !== undefined || request.width !== undefined || request.height !== undefined) {
        throw new PainterError('BAD_ARGUMENT', `Model "${request.modelId}" takes no prompt and has one image size; prompts and sizes are for diffusers pipelines.`);
      }
      denoiser = await this.registry.load(request.modelId);
      this.checkRequest(request, denoiser, await this.registry.info(request.modelId));
      condition = { labels: [request.classLabel], guidance: request.guidance };
    }
    const sigmas = denoiser.schedule.samplingSigmas(request.steps, request.sampler);
    const onProgress = context.onProgress;
    const trajectory = await sample({
      denoiser,
      sampler: request.sampler,
      sigmas,
      seeds: [request.seed],
      condition,
      ...(context.signal ? { signal: context.signal } : {}),
      ...(onProgress ? { onStep: (done: number, total: number, x0Hat: Float32Array) => onProgress(done, total, x0Hat, denoiser.image) } : {}),
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
      provider: denoiser.provider,
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
    this.keep(run);
    return summary;
  }

  /**
   * Re-opens the runs an engine that stopped had open (its supervisor kept
   * their files): each must still hold the run it is named for.
   */
  restoreRuns(list: readonly OpenRunFile[]): { restored: string[]; lost: Array<{ runId: string; reason: string }> } {
    const restored: string[] = [];
    const lost: Array<{ runId: string; reason: string }> = [];
    for (const { runId, file } of list) {
      try {
        const run = readRun(file);
        if (run.summary.runId !== runId) throw new PainterError('BAD_FILE', `${quoteText(file)} now holds another run.`);
        this.runs.add(run, file, file === this.runs.autosavePath(runId));
        restored.push(runId);
      } catch (error) {
        lost.push({ runId, reason: (error as Error).message });
      }
    }
    return { restored, lost };
  }

  /** A warning when the chosen sampler and steps are far from converged on the model's data spectrum. */
  private async samplerWarning(request: GenerateRequest, denoiser: Denoiser): Promise<string | null> {
    const { model } = await this.gaussians.get(request.modelId);
    const spectrum = model !== null && model.dim === denoiser.dim ? gaussianSpectrum(model) : referenceSpectrum(denoiser.image.range);
    const source = model !== null ? "the data's Gaussian statistics" : 'a reference spectrum (the model has no data statistics)';
    return accuracyWarning(denoiser.schedule, request.sampler, request.steps, spectrum, source);
  }

  /** What the storage budgets are and how much of them is used. */
  storageStatus(): StorageStatus {
    const MiB = 1024 * 1024;
    return {
      ...this.storage,
      residentMB: this.runs.residentBytes / MiB,
      autosaveMB: this.runs.autosaveBytes() / MiB,
      openRuns: this.runs.openCount,
      residentRuns: this.runs.residentCount,
      evictions: this.runs.evictions,
    };
  }

  /**
   * A new run: autosaved at once (so a crash loses nothing), then open,
   * within the memory and disk budgets.
   */
  private keep(run: RunRecord): void {
    const file = this.autosave(run);
    this.runs.add(run, file, file !== null);
    this.runs.pruneAutosaves();
  }

  /** Writes a run's autosave file; null (and a notice) when it cannot be written. */
  private autosave(run: RunRecord): string | null {
    // Run ids the engine makes are UUIDs; never let another id name a path.
    if (!FILE_SAFE_RUN_ID.test(run.summary.runId)) return null;
    const path = this.runs.autosavePath(run.summary.runId);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeRun(path, run);
      return path;
    } catch (error) {
      this.notice(`Could not autosave run ${run.summary.runId}: ${(error as Error).message}`);
      return null;
    }
  }

  async dispose(): Promise<void> {
    for (const job of this.jobs.values()) job.abort();
    this.runs.dispose();
    await this.registry.dispose();
  }
}

/**
 * Saves a run, refusing to overwrite a file that exists but is not a Painter
 * run (so a mistyped path never destroys someone's data) unless `force`.
 */
export function saveRunFile(path: string, run: RunRecord, options: { force?: boolean } = {}): void {
  if (existsSync(path) && options.force !== true) {
    try {
      readRun(path);
    } catch {
      throw new PainterError('BAD_FILE', `${quoteText(path)} exists and is not a Painter run; refusing to overwrite it.`, { path });
    }
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw fileError(dirname(path), error, 'create');
  }
  writeRun(path, run);
}
