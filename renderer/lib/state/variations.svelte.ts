/**
 * The variation grids: which directions, how far, the latest grid of each run
 * (saved with the session), and the directions the user kept (to apply to
 * other runs of the same model at the same step, issue 14).
 */
import type { DirectionFamily, VariationGrid } from '../../../electron/api/contract';
import { job } from './job.svelte';
import { region } from './region.svelte';
import { run } from './run.svelte';
import { session } from './session.svelte';

export const FAMILIES: { id: DirectionFamily; label: string; hint: string }[] = [
  { id: 'jacobian', label: 'Denoiser Jacobian', hint: "Where a small nudge to xₜ now moves the model's estimate x̂0 most (top eigenvectors of ∂x̂0/∂xₜ at this step)" },
  { id: 'x0-pcs', label: 'x̂0-trajectory PCs', hint: "How this run's estimate x̂0 actually moved over all steps (its principal components)" },
  { id: 'generator', label: 'Generator map', hint: 'Which changes of the start noise x_T change the final image most (top singular directions of the map x_T → final image; kicks at step 0)' },
  {
    id: 'local',
    label: 'Local (region)',
    hint: 'Paint a region on x̂0: the directions that change it most while keeping the rest of the image as it is (LOCO Edit, Chen et al. 2024)',
  },
];

/** Largest amplitude offered; the grid spans −max … max in five columns. */
export const SPREADS = [4, 8, 16, 32] as const;

/** A direction kept from a grid cell, with where it was found. */
export interface KeptDirection {
  id: string;
  label: string;
  /** Unit direction, C·H·W. */
  values: Float32Array;
  family: DirectionFamily;
  modelId: string;
  runId: string;
  seed: number;
  step: number;
  /** The region it was found for (local directions), H·W. */
  mask: Float32Array | null;
}

class VariationState {
  family = $state<DirectionFamily>('jacobian');
  directions = $state(6);
  spread = $state<number>(8);
  /** Latest grid per run id. */
  grids = $state.raw<Record<string, VariationGrid>>({});
  kept = $state.raw<KeptDirection[]>([]);

  readonly amplitudes = $derived([-this.spread, -this.spread / 2, 0, this.spread / 2, this.spread]);

  constructor() {
    session.onResults((results) => {
      this.grids = Object.fromEntries(results.variations.map((grid) => [grid.runId, grid]));
    });
  }

  gridOf(runId: string): VariationGrid | null {
    return this.grids[runId] ?? null;
  }

  private keepGrid(grid: VariationGrid): void {
    this.grids = { ...this.grids, [grid.runId]: grid };
    session.dirty = true;
  }

  async compute(runId: string, step: number): Promise<void> {
    const extra = this.family === 'local' ? { mask: Float32Array.from(region.mask) } : {};
    const family = FAMILIES.find((f) => f.id === this.family)!;
    const at = this.family === 'generator' ? 0 : step;
    const grid = await job.variations(runId, at, this.family, this.directions, this.amplitudes, `Variations: ${family.label}, step ${at}`, extra);
    if (grid !== null) this.keepGrid(grid);
  }

  /** Remembers a direction of the grid on screen (once per direction). */
  keep(direction: Omit<KeptDirection, 'id'>): void {
    const id = `${direction.runId}:${direction.step}:${direction.label}`;
    if (this.kept.some((k) => k.id === id)) return;
    this.kept = [...this.kept, { ...direction, id }];
  }

  forget(id: string): void {
    this.kept = this.kept.filter((k) => k.id !== id);
  }

  /** Kicks another run along kept directions at their step, and shows that run with the grid. */
  async apply(targetRunId: string, directions: readonly KeptDirection[]): Promise<void> {
    if (directions.length === 0) return;
    const first = directions[0]!;
    const dim = first.values.length;
    const values = new Float32Array(directions.length * dim);
    directions.forEach((d, i) => values.set(d.values, i * dim));
    const mask = first.mask;
    const grid = await job.variations(targetRunId, first.step, first.family, directions.length, this.amplitudes, `Variations: ${directions.length} kept applied`, {
      apply: { directions: values, labels: directions.map((d) => d.label), sourceRunId: first.runId, sourceStep: first.step },
      ...(mask !== null ? { mask } : {}),
    });
    if (grid === null) return;
    this.keepGrid(grid);
    await session.select(targetRunId);
    run.timeline.go(first.step);
  }
}

export const variations = new VariationState();
