/**
 * Progress of one engine job as the user sees it: what is being done, how far
 * it is, how long is left, and (for a generation or branch) the latest x̂0 as
 * a live preview. Events are throttled, so a fast analytic run of 1000 steps
 * does not flood the UI, but the first step and the last are always sent: the
 * first preview must reach the screen at once.
 */
import { PREVIEW_MAX_VALUES, type JobPreview, type JobProgress } from '../../api/contract';
import type { ImageSpec } from '../manifest';

/** Least time between two progress events of one job. */
export const PROGRESS_INTERVAL_MS = 60;

export interface ProgressUpdate {
  done: number;
  total: number;
  message: string;
  /** Made only when the event is actually sent (building a preview costs a copy). */
  preview?: () => JobPreview;
}

export class JobReporter {
  private readonly started: number;
  private last = -Infinity;
  private sentAny = false;

  constructor(
    private readonly jobId: string,
    private readonly emit: ((progress: JobProgress) => void) | undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly interval = PROGRESS_INTERVAL_MS,
  ) {
    this.started = now();
  }

  /** Reports progress; sends it when the interval has passed, on the first report, and on the last (done = total). */
  report(update: ProgressUpdate): void {
    if (this.emit === undefined) return;
    const time = this.now();
    const final = update.done >= update.total;
    if (this.sentAny && !final && time - this.last < this.interval) return;
    this.sentAny = true;
    this.last = time;
    const progress: JobProgress = { jobId: this.jobId, done: update.done, total: update.total, message: update.message };
    const eta = estimateSecondsLeft(update.done, update.total, (time - this.started) / 1000);
    if (eta !== null) progress.etaSeconds = eta;
    if (update.preview) progress.preview = update.preview();
    this.emit(progress);
  }

  /** A job waiting for others: its place in line. */
  queued(position: number, message: string): void {
    this.emit?.({ jobId: this.jobId, done: 0, total: 1, message, queued: position });
  }
}

/**
 * Seconds left at a constant pace: elapsed · (total − done) / done. Null
 * before any work is done or when nothing is left to estimate.
 */
export function estimateSecondsLeft(done: number, total: number, elapsedSeconds: number): number | null {
  if (!(done > 0) || !(total > done) || !(elapsedSeconds > 0)) return null;
  return (elapsedSeconds * (total - done)) / done;
}

/**
 * A state (C·H·W values, NCHW) as a preview image of at most
 * {@link PREVIEW_MAX_VALUES} values: the visible crop, shrunk by an integer
 * box filter when it is larger than that.
 */
export function previewImage(image: ImageSpec, state: Float32Array): { image: ImageSpec; values: Float32Array } {
  const { channels, height, width } = image;
  const crop = image.crop ?? { top: 0, left: 0, height, width };
  const factor = Math.max(1, Math.ceil(Math.sqrt((channels * crop.height * crop.width) / PREVIEW_MAX_VALUES)));
  if (factor === 1 && image.crop === undefined) return { image, values: Float32Array.from(state.subarray(0, channels * height * width)) };
  const outHeight = Math.max(1, Math.floor(crop.height / factor));
  const outWidth = Math.max(1, Math.floor(crop.width / factor));
  const values = new Float32Array(channels * outHeight * outWidth);
  const area = factor * factor;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = (c * height + crop.top + y * factor + dy) * width + crop.left + x * factor;
          for (let dx = 0; dx < factor; dx++) sum += state[row + dx]!;
        }
        values[(c * outHeight + y) * outWidth + x] = sum / area;
      }
    }
  }
  return { image: { channels, height: outHeight, width: outWidth, range: image.range }, values };
}
