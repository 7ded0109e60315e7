/** The run on screen, its timeline, and its Gaussian ghost. */
import type { GaussianGhost, RunTensors } from '../../../electron/api/contract';
import { api } from '../api';
import { Timeline } from './timeline.svelte';

class CurrentRun {
  /** Large typed arrays: raw state, replaced whole, never deeply proxied. */
  tensors = $state.raw<RunTensors | null>(null);
  readonly timeline = new Timeline();
  /** The Gaussian theory's prediction for this run (null while loading or with no run). */
  ghost = $state.raw<GaussianGhost | null>(null);
  private readonly ghosts = new Map<string, GaussianGhost>();

  readonly summary = $derived(this.tensors?.summary ?? null);
  readonly stepCount = $derived(this.tensors?.summary.stepCount ?? 0);
  readonly lastStep = $derived(this.timeline.lastStep);
  readonly sigma = $derived(this.tensors?.summary.sigmas[this.timeline.step] ?? null);
  readonly evaluations = $derived(this.tensors?.summary.evaluations[this.timeline.step] ?? null);
  /** The theory's committed fraction of the final image at this step, when there is a ghost. */
  readonly decided = $derived(this.ghost?.available === true ? (this.ghost.decided[this.timeline.step] ?? null) : null);

  get step(): number {
    return this.timeline.step;
  }

  set step(value: number) {
    this.timeline.go(value);
  }

  /** Shows a run: at its final image, or at the same step when comparing runs of one tree. */
  show(tensors: RunTensors, keepStep = false): void {
    this.tensors = tensors;
    this.timeline.load(tensors.summary.stepCount, keepStep);
    void this.loadGhost(tensors.summary.runId);
  }

  clear(): void {
    this.tensors = null;
    this.ghost = null;
    this.timeline.load(0);
  }

  private async loadGhost(runId: string): Promise<void> {
    const cached = this.ghosts.get(runId);
    this.ghost = cached ?? null;
    if (cached !== undefined) return;
    try {
      const ghost = await api.call('gaussianGhost', { runId });
      // An unavailable ghost is asked again when the run is shown again: its statistics may have been made since (painter stats).
      if (ghost.available) this.ghosts.set(runId, ghost);
      if (this.tensors?.summary.runId === runId) this.ghost = ghost;
    } catch {
      // The ghost is an overlay; without it the run is still fully usable.
    }
  }

  forget(runIds: readonly string[]): void {
    for (const runId of runIds) this.ghosts.delete(runId);
  }
}

export const run = new CurrentRun();
