/**
 * Which engine jobs run now and which wait (the engine decides, so a long
 * analysis never blocks a generation): two lanes, each running at most its
 * limit of jobs at once, first come first served.
 * - `interactive`: generations and branches, what the user waits to see.
 * - `analysis`: variation grids, 3-D trajectories, theory charts.
 * The lanes run beside each other. A waiting job can be cancelled; it then
 * never starts.
 */
import { PainterError } from '../errors';

export type JobLane = 'interactive' | 'analysis';

interface Waiting {
  start: () => void;
  fail: (error: unknown) => void;
  onPosition: (position: number) => void;
}

export class JobScheduler {
  private readonly running: Record<JobLane, number> = { interactive: 0, analysis: 0 };
  private readonly waiting: Record<JobLane, Waiting[]> = { interactive: [], analysis: [] };

  constructor(private readonly limits: Record<JobLane, number> = { interactive: 1, analysis: 1 }) {}

  /** Jobs running and waiting in a lane. */
  load(lane: JobLane): { running: number; waiting: number } {
    return { running: this.running[lane], waiting: this.waiting[lane].length };
  }

  /**
   * Runs `work` when the lane has room. `onQueued` hears the job's place in
   * line while it waits (1 = next), each time it changes. Aborting `signal`
   * while it waits rejects with CANCELLED.
   */
  async run<T>(lane: JobLane, work: () => Promise<T>, options: { signal?: AbortSignal; onQueued?: (position: number) => void } = {}): Promise<T> {
    await this.admit(lane, options.signal, options.onQueued);
    try {
      return await work();
    } finally {
      this.running[lane]--;
      this.next(lane);
    }
  }

  private admit(lane: JobLane, signal: AbortSignal | undefined, onQueued: ((position: number) => void) | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.running[lane] < this.limits[lane] && this.waiting[lane].length === 0) {
      this.running[lane]++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', abort);
          this.running[lane]++;
          resolve();
        },
        fail: reject,
        onPosition: (position) => onQueued?.(position),
      };
      const abort = (): void => {
        const queue = this.waiting[lane];
        const index = queue.indexOf(entry);
        if (index < 0) return;
        queue.splice(index, 1);
        reject(cancelled());
        this.announce(lane);
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.waiting[lane].push(entry);
      entry.onPosition(this.waiting[lane].length);
    });
  }

  private next(lane: JobLane): void {
    while (this.running[lane] < this.limits[lane] && this.waiting[lane].length > 0) {
      this.waiting[lane].shift()!.start();
    }
    this.announce(lane);
  }

  private announce(lane: JobLane): void {
    this.waiting[lane].forEach((entry, index) => entry.onPosition(index + 1));
  }
}

function cancelled(): PainterError {
  return new PainterError('CANCELLED', 'Cancelled before it started.');
}
