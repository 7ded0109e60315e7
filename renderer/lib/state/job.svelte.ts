/**
 * The engine job in flight — a generation, a branch re-run, or the
 * trajectories of the 3-D view: progress events, cancellation, and how the
 * last one ended. One job at a time.
 */
import type { Brush, DirectionFamily, GenerateRequest, JobProgress, TrajectorySpace, VariationGrid, VariationRequest } from '../../../electron/api/contract';
import { api, ApiError } from '../api';
import { newJobId } from '../random';
import { models } from './models.svelte';
import { notices } from './notices.svelte';
import { run } from './run.svelte';
import { session } from './session.svelte';

export type JobKind = 'generate' | 'branch' | 'trajectories' | 'variations' | 'analysis';

export type JobOutcome =
  | { kind: 'idle' }
  | { kind: 'done'; job: JobKind; seconds: number }
  | { kind: 'cancelled'; job: JobKind }
  | { kind: 'failed'; job: JobKind };

class Job {
  progress = $state<JobProgress | null>(null);
  kind = $state<JobKind | null>(null);
  cancelling = $state(false);
  /** The work is done and its result is on its way: too late to cancel. */
  fetching = $state(false);
  outcome = $state<JobOutcome>({ kind: 'idle' });
  readonly running = $derived(this.progress !== null);
  readonly cancellable = $derived(this.running && !this.cancelling && !this.fetching);

  constructor() {
    api.onEvent('progress', (payload) => {
      if (payload.jobId === this.progress?.jobId && !this.fetching) this.progress = payload;
    });
  }

  /**
   * Runs one job: `work` gets the job id (so Cancel works before the call
   * returns) and resolves to the result, or null when cancelled or failed.
   */
  private async run<T>(kind: JobKind, total: number, work: (jobId: string) => Promise<T>): Promise<T | null> {
    if (this.running) return null;
    const jobId = newJobId();
    const started = performance.now();
    this.kind = kind;
    this.progress = { jobId, done: 0, total, message: 'Starting…' };
    this.cancelling = false;
    notices.dismiss();
    try {
      const result = await work(jobId);
      this.outcome = { kind: 'done', job: kind, seconds: (performance.now() - started) / 1000 };
      return result;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CANCELLED') {
        this.outcome = { kind: 'cancelled', job: kind };
      } else {
        this.outcome = { kind: 'failed', job: kind };
        notices.report(error);
      }
      return null;
    } finally {
      this.progress = null;
      this.kind = null;
      this.cancelling = false;
      this.fetching = false;
    }
  }

  private loading(jobId: string, message: string): void {
    this.fetching = true;
    this.progress = { jobId, done: 1, total: 1, message };
  }

  async generate(request: GenerateRequest): Promise<void> {
    await this.run('generate', request.steps, async (jobId) => {
      const summary = await api.call('generate', { ...request, jobId });
      this.loading(jobId, 'Loading the run…');
      await session.add(summary);
      void models.load(); // the network may have just loaded: its provider and any fallback notice
    });
  }

  /** Re-runs the run on screen (or `parentId`) from `step` with the brush's kick; shows the branch at the same step. */
  async branch(step: number, brush: Brush, parentId?: string): Promise<void> {
    const parent = parentId !== undefined ? session.find(parentId) : run.summary;
    if (parent === null) return;
    await this.run('branch', parent.stepCount - 1 - step, async (jobId) => {
      // Marks for the studio benchmark (bench/studio-bench.ts): engine time vs fetching and drawing.
      performance.mark('branch:start');
      const summary = await api.call('branch', { jobId, runId: parent.runId, step, brush });
      performance.mark('branch:computed');
      this.loading(jobId, 'Loading the branch…');
      await session.add(summary, true);
      performance.mark('branch:shown');
    });
  }

  async trajectories(runId: string, count: number, basis: 'run' | 'all', steps: number): Promise<TrajectorySpace | null> {
    return this.run('trajectories', steps, (jobId) => api.call('trajectorySpace', { jobId, runId, count, basis }));
  }

  /** `extra`: a region mask (local family, or to measure each cell's change inside it), or directions to apply. */
  async variations(
    runId: string,
    step: number,
    family: DirectionFamily,
    directions: number,
    amplitudes: number[],
    extra: Pick<VariationRequest, 'mask' | 'nullSpaceRank' | 'apply'> = {},
  ): Promise<VariationGrid | null> {
    return this.run('variations', 1000, (jobId) => api.call('variations', { jobId, runId, step, family, directions, amplitudes, ...extra }));
  }

  /** A theory-lab analysis; `call` makes the request with the job id. */
  async analysis<T>(call: (jobId: string) => Promise<T>): Promise<T | null> {
    return this.run('analysis', 1, call);
  }

  async cancel(): Promise<void> {
    const jobId = this.progress?.jobId;
    if (jobId === undefined || !this.cancellable) return;
    this.cancelling = true;
    try {
      await api.call('cancel', { jobId });
    } catch (error) {
      this.cancelling = false;
      notices.report(error);
    }
  }
}

export const job = new Job();
