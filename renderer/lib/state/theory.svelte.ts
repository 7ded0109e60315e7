/** The 3-D trajectory view: options, and the latest view of each run (saved with the session). */
import type { TrajectoryBasis, TrajectorySpace } from '../../../electron/api/contract';
import { job } from './job.svelte';
import { session } from './session.svelte';

export const TRAJECTORY_COUNTS = [4, 8, 16, 32] as const;

export const BASES: { id: TrajectoryBasis; label: string; hint: string }[] = [
  { id: 'plane', label: 'each path\'s own plane', hint: 'Axes: the final image, the start noise (made perpendicular to it), and the largest step out of that plane. The theory says every path is an arc in this plane.' },
  { id: 'run', label: "this run's PCs", hint: "The three directions along which this run's own path varies most (principal components)" },
  { id: 'all', label: 'all paths\' PCs', hint: 'The three directions along which all the paths together vary most' },
];

class TheoryState {
  spaces = $state.raw<Record<string, TrajectorySpace>>({});
  count = $state<number>(16);
  basis = $state<TrajectoryBasis>('plane');
  showGhost = $state(true);
  showPlane = $state(true);
  autoRotate = $state(false);
  /** Scale each axis to fill the view (a small residual becomes visible) instead of equal units. */
  fitAxes = $state(true);

  constructor() {
    session.onResults((results) => {
      this.spaces = Object.fromEntries(results.trajectories.map((space) => [space.runId, space]));
    });
  }

  spaceOf(runId: string): TrajectorySpace | null {
    return this.spaces[runId] ?? null;
  }

  /** Samples `count` seeds like the run (same settings) and projects them; keeps the last result on failure. */
  async compute(runId: string, steps: number): Promise<void> {
    const space = await job.trajectories(runId, this.count, this.basis, steps);
    if (space !== null) {
      this.spaces = { ...this.spaces, [runId]: space };
      session.dirty = true;
    }
  }
}

export const theory = new TheoryState();
