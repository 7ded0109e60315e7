/** The run on screen and the recorded state (step) the user is looking at. */
import type { RunTensors } from '../../../electron/contract';

class CurrentRun {
  /** Large typed arrays: raw state, replaced whole, never deeply proxied. */
  tensors = $state.raw<RunTensors | null>(null);
  /** Index of the recorded state shown, 0 … stepCount − 1. */
  step = $state(0);

  readonly summary = $derived(this.tensors?.summary ?? null);
  readonly stepCount = $derived(this.tensors?.summary.stepCount ?? 0);
  readonly lastStep = $derived(Math.max(0, this.stepCount - 1));
  readonly sigma = $derived(this.tensors?.summary.sigmas[this.step] ?? null);
  readonly evaluations = $derived(this.tensors?.summary.evaluations[this.step] ?? null);

  /** Shows a newly fetched run at its final image. */
  show(tensors: RunTensors): void {
    this.tensors = tensors;
    this.step = Math.max(0, tensors.summary.stepCount - 1);
  }

  setStep(step: number): void {
    this.step = Math.min(this.lastStep, Math.max(0, Math.round(step)));
  }
}

export const run = new CurrentRun();
