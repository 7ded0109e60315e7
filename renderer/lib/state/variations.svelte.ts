/** The variation grids: which directions, how far, and the latest grid of each run (saved with the session). */
import type { DirectionFamily, VariationGrid } from '../../../electron/api/contract';
import { job } from './job.svelte';
import { session } from './session.svelte';

export const FAMILIES: { id: DirectionFamily; label: string; hint: string }[] = [
  { id: 'jacobian', label: 'Denoiser Jacobian', hint: 'Where a small nudge to xₜ now moves the model\'s estimate x̂0 most (top eigenvectors of ∂x̂0/∂xₜ at this step)' },
  { id: 'x0-pcs', label: 'x̂0-trajectory PCs', hint: "How this run's estimate x̂0 actually moved over all steps (its principal components)" },
  { id: 'generator', label: 'Generator map', hint: 'Which changes of the start noise x_T change the final image most (top singular directions of the map x_T → final image; kicks at step 0)' },
];

/** Largest amplitude offered; the grid spans −max … max in five columns. */
export const SPREADS = [4, 8, 16, 32] as const;

class VariationState {
  family = $state<DirectionFamily>('jacobian');
  directions = $state(6);
  spread = $state<number>(8);
  /** Latest grid per run id. */
  grids = $state.raw<Record<string, VariationGrid>>({});

  readonly amplitudes = $derived([-this.spread, -this.spread / 2, 0, this.spread / 2, this.spread]);

  constructor() {
    session.onResults((results) => {
      this.grids = Object.fromEntries(results.variations.map((grid) => [grid.runId, grid]));
    });
  }

  gridOf(runId: string): VariationGrid | null {
    return this.grids[runId] ?? null;
  }

  async compute(runId: string, step: number): Promise<void> {
    const family = FAMILIES.find((f) => f.id === this.family)!;
    const at = this.family === 'generator' ? 0 : step;
    const grid = await job.variations(runId, at, this.family, this.directions, this.amplitudes, `Variations: ${family.label}, step ${at}`);
    if (grid !== null) {
      this.grids = { ...this.grids, [runId]: grid };
      session.dirty = true;
    }
  }
}

export const variations = new VariationState();
