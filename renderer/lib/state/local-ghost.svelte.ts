/**
 * The local patch model's ghost of each run (engine/local-ghost.ts), computed
 * on request as a job (it takes seconds) and kept per run.
 */
import type { LocalGhost } from '../../../electron/api/contract';
import { api } from '../api';
import { job } from './job.svelte';

class LocalGhosts {
  results = $state.raw<Record<string, LocalGhost>>({});

  of(runId: string): LocalGhost | null {
    return this.results[runId] ?? null;
  }

  async compute(runId: string): Promise<void> {
    const ghost = await job.analysis('Local ghost', runId, (jobId) => api.call('localGhost', { jobId, runId }));
    if (ghost !== null) this.results = { ...this.results, [runId]: ghost };
  }
}

export const localGhosts = new LocalGhosts();
