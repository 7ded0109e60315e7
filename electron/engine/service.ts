/**
 * The engine's service: one method per API call of the contract, plain Node.
 * Hosted by the engine worker (Electron and browser mode) and called
 * directly by the CLI and the tests.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { ApiEvents, ApiMethods, ApiParams, ApiResult, GenerateRequest, ModelInfo, RunSummary, JobPreview, JobProgress, SessionSummary } from '../api/contract';
import type { ProviderName } from './denoisers/onnx';
import type { Denoiser } from './denoisers/types';
import type { ImageSpec } from './manifest';
import { PainterError } from './errors';
import { ModelRegistry } from './models';
import { readRun, writeRun, type RunRecord } from './runs';
import { sample, toModelConvention } from './samplers';
import { branchRun } from './branch';
import { filmstripPng, timelineGif, trajectoriesSafetensors, writeExport } from './export';
import { GaussianStatsCache, gaussianGhost } from './ghost';
import { importSession, listRecentSessions, openSession, rememberSession, saveSession, type OpenedSession } from './session';
import { JobReporter, previewImage } from './jobs/progress';
import { JobScheduler, type JobLane } from './jobs/scheduler';
import { ResultStore } from './results';
import { parseRun } from './runs';
import { runFromImage } from './image-start';
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
  /** After each step; `x0Hat` is the latest estimate of the final image (batch of one). */
  onProgress?: (done: number, total: number, x0Hat?: Float32Array) => void;
}

/** Deleted runs kept for undo, at most this many bytes of tensors (oldest go first). */
const TRASH_BYTES = 512 * 1024 * 1024;

const USER_MODELS_FILE = 'models.json';
const ANALYSIS_NAMES: Record<string, string> = { emergence: 'Emergence', perturbation: 'Perturbation', agreement: 'EV(σ)', teleport: 'Teleport' };
/** Run ids the engine makes are UUIDs; only such ids may name an autosave file. */
const FILE_SAFE_RUN_ID = /^[A-Za-z0-9-]{1,128}$/;

export class Engine {
  readonly registry: ModelRegistry;
  private readonly runs = new Map<string, RunRecord>();
  private readonly jobs = new Map<string, AbortController>();
  readonly notices: string[] = [];
  private readonly gaussians: GaussianStatsCache;
  /** Decides which jobs run now and which wait (generations never wait for an analysis). */
  private readonly scheduler = new JobScheduler();
  /** Latest variation grid, 3-D view and charts per run, saved with sessions. */
  readonly results = new ResultStore();
  /** Runs deleted in this session, newest last, so that undo can bring them back. */
  private readonly trash = new Map<string, RunRecord>();

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
      this.runJob(jobId, 'interactive', context, async (signal, reporter) => {
        const model = this.registry.get(request.modelId);
        return this.generate(request, {
          signal,
          onProgress: (done, total, x0Hat) =>
            reporter.report({
              done,
              total,
              message: `Step ${done} of ${total}`,
              ...(x0Hat ? { preview: () => this.preview(model.manifest.image, x0Hat, done - 1, total + 1) } : {}),
            }),
        });
      }),
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
      this.runJob(jobId, 'interactive', context, async (signal, reporter) => {
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
          onStep: (done, total, x0Hat) =>
            reporter.report({
              done,
              total,
              message: `Branch: step ${step + done} of ${parent.summary.stepCount - 1}`,
              ...(x0Hat ? { preview: () => this.preview(parent.image, x0Hat, step + done - 1, parent.summary.stepCount) } : {}),
            }),
        });
        this.runs.set(run.summary.runId, run);
        this.autosave(run);
        return run.summary;
      }),
    variations: ({ jobId, runId, step, family, directions, amplitudes }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const run = this.getRunRecord(runId);
        const grid = await variationGrid({
          denoiser: await this.registry.load(run.summary.modelId),
          run,
          step,
          family,
          directions,
          amplitudes,
          signal,
          onProgress: (done, total, message) => reporter.report({ done, total, message: `Variations: ${message}` }),
        });
        this.results.keepVariations(grid);
        return grid;
      }),
    theory: ({ jobId, runId, analysis, seeds }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const chart = await theoryChart({
          registry: this.registry,
          summary: this.getRunRecord(runId).summary,
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
        const run = this.runs.get(runId);
        if (run === undefined) continue;
        this.runs.delete(runId);
        this.toTrash(run);
        deleted.push(runId);
        if (FILE_SAFE_RUN_ID.test(runId)) rmSync(this.autosavePath(runId), { force: true });
      }
      return { deleted };
    },
    restoreRuns: async ({ runIds }) => {
      const missing = runIds.filter((runId) => !this.trash.has(runId) && !this.runs.has(runId));
      if (missing.length > 0) {
        throw new PainterError('RUN_NOT_FOUND', `Run ${missing[0]} was deleted too long ago to bring back (the engine keeps the most recently deleted runs only).`, { runIds: missing });
      }
      return runIds.map((runId) => {
        const run = this.trash.get(runId) ?? this.getRunRecord(runId);
        this.trash.delete(runId);
        this.runs.set(runId, run);
        this.autosave(run);
        return run.summary;
      });
    },
    runThumbnails: async ({ runIds }) =>
      runIds.map((runId) => {
        const run = this.getRunRecord(runId);
        const dim = run.image.channels * run.image.height * run.image.width;
        const { image, values } = previewImage(run.image, run.x0Hat.subarray((run.summary.stepCount - 1) * dim, run.summary.stepCount * dim));
        return { runId, image, values };
      }),
    generateFromImage: ({ jobId, ...request }, context) =>
      this.runJob(jobId, 'interactive', context, async (signal, reporter) => {
        const model = this.registry.get(request.modelId);
        const denoiser = await this.registry.load(request.modelId);
        this.checkRequest(request, denoiser, await this.registry.info(request.modelId));
        const stepCount = request.steps + 1;
        const run = await runFromImage({
          request,
          denoiser,
          manifestHash: model.manifestHash,
          signal,
          onStep: (done, total, x0Hat) =>
            reporter.report({
              done,
              total,
              message: `From ${request.name}: step ${request.startStep + done} of ${request.steps}`,
              preview: () => this.preview(denoiser.image, x0Hat, request.startStep + done - 1, stepCount),
            }),
        });
        this.runs.set(run.summary.runId, run);
        this.autosave(run);
        return run.summary;
      }),
    importRun: async ({ file }) => {
      const run = parseRun(file.bytes, file.name);
      this.runs.set(run.summary.runId, run);
      this.autosave(run);
      return run.summary;
    },
    importSession: async ({ session, runs }) => this.adoptSession(importSession(session, runs)),
    gaussianGhost: async ({ runId }) => {
      const run = this.getRunRecord(runId);
      const { model, reason } = await this.gaussians.get(run.summary.modelId);
      if (model === null) return { available: false, runId, reason };
      const dim = run.image.channels * run.image.height * run.image.width;
      if (model.dim !== dim) {
        return { available: false, runId, reason: `The model's statistics describe ${model.dim}-value images; its runs have ${dim}.` };
      }
      return gaussianGhost(run, model);
    },
    trajectorySpace: ({ jobId, runId, count, basis }, context) =>
      this.runJob(jobId, 'analysis', context, async (signal, reporter) => {
        const run = this.getRunRecord(runId);
        const denoiser = await this.registry.load(run.summary.modelId);
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
      const saved = saveSession(resolve(path), name, runIds.map((runId) => this.getRunRecord(runId)), current, this.results.forRuns(runIds));
      rememberSession(this.options.userDataDir, saved);
      return { path: saved.path };
    },
    openSession: async ({ path }) => {
      const opened = openSession(resolve(path));
      rememberSession(this.options.userDataDir, opened);
      return this.adoptSession(opened);
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

  private preview(image: ImageSpec, x0Hat: Float32Array, step: number, stepCount: number): JobPreview {
    const dim = image.channels * image.height * image.width;
    return { step, stepCount, ...previewImage(image, x0Hat.subarray(0, dim)) };
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

  /** Takes an opened session's runs and results into the engine. */
  private adoptSession(opened: OpenedSession): SessionSummary {
    for (const run of opened.runs) this.runs.set(run.summary.runId, run);
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

  async generate(request: GenerateRequest, context: JobContext = {}): Promise<RunSummary> {
    const started = performance.now();
    const model = this.registry.get(request.modelId);
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
