/**
 * GAN runs on screen (model kind `gan`): one image per run, no timeline. Their
 * variation grid kicks the latent z along the eigenvectors of the generator's
 * metric JᵀJ; keeping a cell generates the run from z + a·v as a branch.
 */
import type { RunSummary, VariationGrid } from '../../../electron/api/contract';
import { job } from './job.svelte';

/** Whether a run was made by a GAN generator (its settings carry the latent z). */
export function isGanRun(summary: RunSummary | null | undefined): boolean {
  return summary?.settings.latent !== undefined;
}

/** Largest kick offered, in latent units (z ~ N(0, I)); the grid spans −max … max in five columns. */
export const GAN_SPREADS = [1, 2, 3, 4] as const;

class GanVariationState {
  directions = $state(6);
  spread = $state<number>(2);
  grid = $state.raw<VariationGrid | null>(null);

  readonly amplitudes = $derived([-this.spread, -this.spread / 2, 0, this.spread / 2, this.spread]);

  async compute(runId: string): Promise<void> {
    const grid = await job.variations(runId, 0, 'gan-latent', this.directions, this.amplitudes, 'GAN latent directions');
    if (grid !== null) this.grid = grid;
  }

  /** Generates the cell z + a·v_d of the grid as a new run, a branch of the grid's run. */
  async keep(parent: RunSummary, d: number, amplitude: number): Promise<boolean> {
    const grid = this.grid;
    const z = parent.settings.latent;
    if (grid === null || grid.latentDirections === undefined || z === undefined || amplitude === 0) return false;
    const k = z.length;
    const v = grid.latentDirections.subarray(d * k, (d + 1) * k);
    const latent = z.map((value, i) => value + amplitude * v[i]!);
    const perturbation = `${amplitude > 0 ? '+' : '−'}${Math.abs(amplitude)} along G${d + 1} (GAN latent)`;
    const kept = await job.generate({ ...parent.settings, latent, branchOf: { runId: parent.runId, perturbation } }, `Keep ${perturbation}`);
    return kept !== null;
  }
}

export const ganVariations = new GanVariationState();
