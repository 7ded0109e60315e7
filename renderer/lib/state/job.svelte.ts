/**
 * The engine jobs in flight — generations, branch re-runs, variation grids,
 * 3-D trajectories, theory charts — each with its progress (what is being
 * done, how far, time left, its place in line when the engine makes it wait),
 * its live x̂0 preview where there is one, and its own Cancel. Several can be
 * in flight at once: the engine decides what runs beside what
 * (electron/engine/jobs/scheduler.ts), so a long analysis never blocks a
 * generation, a save or painting.
 */
import type { Brush, DirectionFamily, GenerateRequest, ImageStartRequest, JobPreview, JobProgress, TrajectoryBasis, TrajectorySpace, VariationGrid, VariationRequest } from '../../../electron/api/contract';
import { api, ApiError } from '../api';
import { newJobId } from '../random';
import { models } from './models.svelte';
import { notices } from './notices.svelte';
import { run } from './run.svelte';
import { session } from './session.svelte';

export type JobKind = 'generate' | 'branch' | 'trajectories' | 'variations' | 'analysis';

export const JOB_NAMES: Record<JobKind, string> = {
  generate: 'Run',
  branch: 'Branch',
  trajectories: '3-D view',
  variations: 'Variations',
  analysis: 'Analysis',
};

export type JobOutcome =
  | { kind: 'idle' }
  | { kind: 'done'; job: JobKind; label: string; seconds: number }
  | { kind: 'cancelled'; job: JobKind; label: string }
  | { kind: 'failed'; job: JobKind; label: string };

/** One job in flight. */
export class ActiveJob {
  progress = $state<JobProgress>({ jobId: '', done: 0, total: 1, message: '' });
  preview = $state.raw<JobPreview | null>(null);
  cancelling = $state(false);
  /** The work is done and its result is on its way: too late to cancel. */
  fetching = $state(false);
  readonly cancellable = $derived(!this.cancelling && !this.fetching);
  readonly queued = $derived(this.progress.queued !== undefined && this.progress.queued > 0);

  constructor(
    readonly jobId: string,
    readonly kind: JobKind,
    /** What the user asked for, in words: "Run · Fashion-MNIST · seed 12 · 50 steps". */
    readonly label: string,
    total: number,
    /** For generations and branches: the request, so the live view can say what is coming. */
    readonly detail: { runId?: string; step?: number; request?: GenerateRequest } = {},
    readonly startedAt = performance.now(),
  ) {
    this.progress = { jobId, done: 0, total, message: 'Starting…' };
  }
}

class Jobs {
  list = $state.raw<ActiveJob[]>([]);
  outcome = $state<JobOutcome>({ kind: 'idle' });
  readonly running = $derived(this.list.length > 0);
  /** The generation or branch whose preview the studio shows: the one running (others wait in line behind it). */
  readonly live = $derived.by(() => {
    const painting = this.list.filter((entry) => entry.kind === 'generate' || entry.kind === 'branch');
    return painting.find((entry) => !entry.queued) ?? painting[0] ?? null;
  });

  constructor() {
    api.onEvent('progress', (payload) => {
      const entry = this.list.find((candidate) => candidate.jobId === payload.jobId);
      if (entry === undefined || entry.fetching) return;
      entry.progress = payload;
      if (payload.preview !== undefined) entry.preview = payload.preview;
    });
  }

  /** Jobs of one kind in flight (e.g. to say "a generation is running"). */
  of(kind: JobKind): ActiveJob[] {
    return this.list.filter((entry) => entry.kind === kind);
  }

  /**
   * Runs one job: `work` gets the job id (so Cancel works before the call
   * returns) and resolves to the result, or null when cancelled or failed.
   */
  private async start<T>(entry: ActiveJob, work: (entry: ActiveJob) => Promise<T>): Promise<T | null> {
    this.list = [...this.list, entry];
    try {
      const result = await work(entry);
      this.outcome = { kind: 'done', job: entry.kind, label: entry.label, seconds: (performance.now() - entry.startedAt) / 1000 };
      return result;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CANCELLED') {
        this.outcome = { kind: 'cancelled', job: entry.kind, label: entry.label };
      } else {
        this.outcome = { kind: 'failed', job: entry.kind, label: entry.label };
        notices.report(error);
      }
      return null;
    } finally {
      this.list = this.list.filter((other) => other !== entry);
    }
  }

  private loading(entry: ActiveJob, message: string): void {
    entry.fetching = true;
    entry.progress = { ...entry.progress, done: entry.progress.total, message };
  }

  /** A new run; resolves to its id once it is in the session and on screen. */
  async generate(request: GenerateRequest, label: string): Promise<string | null> {
    const entry = new ActiveJob(newJobId(), 'generate', label, request.steps, { request });
    return this.start(entry, async () => {
      const summary = await api.call('generate', { ...request, jobId: entry.jobId });
      this.loading(entry, 'Loading the run…');
      await session.add(summary);
      void models.load(); // the network may have just loaded: its provider and any fallback notice
      return summary.runId;
    });
  }

  /** A run from an image (SDEdit): the image noised to `startStep`, then denoised by the model. */
  async generateFromImage(request: Omit<ImageStartRequest, 'jobId'>, label: string): Promise<string | null> {
    const entry = new ActiveJob(newJobId(), 'generate', label, request.steps - request.startStep, { request });
    return this.start(entry, async () => {
      const summary = await api.call('generateFromImage', { ...request, jobId: entry.jobId });
      this.loading(entry, 'Loading the run…');
      await session.add(summary);
      return summary.runId;
    });
  }

  /** Re-runs the run on screen (or `parentId`) from `step` with the brush's kick; shows the branch at the same step. */
  async branch(step: number, brush: Brush, parentId?: string): Promise<string | null> {
    const parent = parentId !== undefined ? session.find(parentId) : run.summary;
    if (parent === null) return null;
    const entry = new ActiveJob(newJobId(), 'branch', `Branch at step ${step}`, parent.stepCount - 1 - step, { runId: parent.runId, step });
    return this.start(entry, async () => {
      // Marks for the studio benchmark (bench/studio-bench.ts): engine time vs fetching and drawing.
      performance.mark('branch:start');
      const summary = await api.call('branch', { jobId: entry.jobId, runId: parent.runId, step, brush });
      performance.mark('branch:computed');
      this.loading(entry, 'Loading the branch…');
      await session.add(summary, true);
      performance.mark('branch:shown');
      return summary.runId;
    });
  }

  async trajectories(runId: string, count: number, basis: TrajectoryBasis, steps: number): Promise<TrajectorySpace | null> {
    const entry = new ActiveJob(newJobId(), 'trajectories', `3-D view: ${count} seeds`, steps, { runId });
    return this.start(entry, () => api.call('trajectorySpace', { jobId: entry.jobId, runId, count, basis }));
  }

  /** `extra`: a region mask (local family, or to measure each cell's change inside it), or directions to apply. */
  async variations(
    runId: string,
    step: number,
    family: DirectionFamily,
    directions: number,
    amplitudes: number[],
    label: string,
    extra: Pick<VariationRequest, 'mask' | 'nullSpaceRank' | 'apply'> = {},
  ): Promise<VariationGrid | null> {
    const entry = new ActiveJob(newJobId(), 'variations', label, 1000, { runId, step });
    return this.start(entry, () => api.call('variations', { jobId: entry.jobId, runId, step, family, directions, amplitudes, ...extra }));
  }

  /** A theory-lab analysis; `call` makes the request with the job id. */
  async analysis<T>(label: string, runId: string, call: (jobId: string) => Promise<T>): Promise<T | null> {
    const entry = new ActiveJob(newJobId(), 'analysis', label, 1, { runId });
    return this.start(entry, () => call(entry.jobId));
  }

  async cancel(entry: ActiveJob): Promise<void> {
    if (!entry.cancellable) return;
    entry.cancelling = true;
    try {
      await api.call('cancel', { jobId: entry.jobId });
    } catch (error) {
      entry.cancelling = false;
      notices.report(error);
    }
  }

  /** Whether a job of this kind for this run (and step) is in flight, to avoid starting the same work twice. */
  busyWith(kind: JobKind, runId: string, step?: number): boolean {
    return this.list.some((entry) => entry.kind === kind && entry.detail.runId === runId && (step === undefined || entry.detail.step === step));
  }
}

export const job = new Jobs();
