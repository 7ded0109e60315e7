/** The 3-D trajectory view's data and options, for the run on screen. */
import type { TrajectorySpace } from '../../../electron/api/contract';
import { job } from './job.svelte';

export const TRAJECTORY_COUNTS = [4, 8, 16, 32] as const;

class TheoryState {
  space = $state.raw<TrajectorySpace | null>(null);
  count = $state<number>(16);
  basis = $state<'run' | 'all'>('run');
  showGhost = $state(true);
  showPlane = $state(true);
  autoRotate = $state(false);

  /** Samples `count` seeds like the run (same settings) and projects them; keeps the last result on failure. */
  async compute(runId: string, steps: number): Promise<void> {
    const space = await job.trajectories(runId, this.count, this.basis, steps);
    if (space !== null) this.space = space;
  }
}

export const theory = new TheoryState();
