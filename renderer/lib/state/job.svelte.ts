/**
 * The generation job in flight: start (generate, then fetch the run's
 * tensors), progress events, cancellation. One job at a time.
 */
import type { GenerateRequest, JobProgress } from '../../../electron/contract';
import { api, ApiError } from '../api';
import { newJobId } from '../random';
import { notices } from './notices.svelte';
import { run } from './run.svelte';

export type JobOutcome =
  | { kind: 'idle' }
  | { kind: 'done'; seconds: number }
  | { kind: 'cancelled' }
  | { kind: 'failed' };

class Job {
  progress = $state<JobProgress | null>(null);
  cancelling = $state(false);
  /** The run is computed and its tensors are on their way: too late to cancel. */
  fetching = $state(false);
  outcome = $state<JobOutcome>({ kind: 'idle' });
  readonly running = $derived(this.progress !== null);
  readonly cancellable = $derived(this.running && !this.cancelling && !this.fetching);

  constructor() {
    api.onEvent('progress', (payload) => {
      if (payload.jobId === this.progress?.jobId) this.progress = payload;
    });
  }

  async generate(request: GenerateRequest): Promise<void> {
    if (this.running) return;
    const jobId = newJobId();
    this.progress = { jobId, done: 0, total: request.steps, message: 'Starting…' };
    this.cancelling = false;
    notices.dismiss();
    try {
      const summary = await api.call('generate', { ...request, jobId });
      this.fetching = true;
      this.progress = { jobId, done: 1, total: 1, message: 'Loading the run…' };
      run.show(await api.call('getRun', { runId: summary.runId }));
      this.outcome = { kind: 'done', seconds: summary.seconds };
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CANCELLED') {
        this.outcome = { kind: 'cancelled' };
      } else {
        this.outcome = { kind: 'failed' };
        notices.report(error);
      }
    } finally {
      this.progress = null;
      this.cancelling = false;
      this.fetching = false;
    }
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
