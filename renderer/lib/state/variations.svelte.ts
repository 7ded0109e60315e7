/** The variation grid of the run on screen: which directions, how far, and the last grid found. */
import type { DirectionFamily, VariationGrid } from '../../../electron/api/contract';
import { job } from './job.svelte';

export const FAMILIES: { id: DirectionFamily; label: string; hint: string }[] = [
  { id: 'jacobian', label: 'Denoiser Jacobian', hint: 'Top eigenvectors of ∂x̂0/∂xₜ at this step: where a nudge now moves the estimate most' },
  { id: 'x0-pcs', label: 'x̂0-trajectory PCs', hint: "Principal components of this run's x̂0 over all steps: how its estimate actually moved" },
  { id: 'generator', label: 'Generator map', hint: 'Top singular directions of the whole map from the start noise x_T to the final image (kicks at step 0)' },
];

/** Largest amplitude offered; the grid spans −max … max in five columns. */
export const SPREADS = [4, 8, 16, 32] as const;

class VariationState {
  family = $state<DirectionFamily>('jacobian');
  directions = $state(6);
  spread = $state<number>(8);
  grid = $state.raw<VariationGrid | null>(null);

  readonly amplitudes = $derived([-this.spread, -this.spread / 2, 0, this.spread / 2, this.spread]);

  async compute(runId: string, step: number): Promise<void> {
    const grid = await job.variations(runId, step, this.family, this.directions, this.amplitudes);
    if (grid !== null) this.grid = grid;
  }
}

export const variations = new VariationState();
