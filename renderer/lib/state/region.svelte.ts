/** The region painted on x̂0 for local variations (issue 14): strokes, feather, and the soft mask sent to the engine. */
import type { BrushPoint } from '../../../electron/api/contract';
import { coverage, featherMask, invertMask, paintDiscs } from '../region-mask';
import { history } from './history.svelte';

export const REGION_RADII = [1, 2, 3, 4, 6] as const;
export const FEATHERS = [0, 0.5, 1, 2] as const;

class RegionState {
  width = $state(0);
  height = $state(0);
  /** The strokes as painted, hard-edged, H·W. */
  painted = $state.raw<Float32Array>(new Float32Array(0));
  /** Brush radius in image pixels. */
  radius = $state(3);
  /** σ of the soft edge, in pixels. */
  feather = $state<number>(1);
  erasing = $state(false);

  /** The soft mask the engine gets: painted strokes, feathered. */
  readonly mask = $derived(featherMask(this.painted, this.width, this.height, this.feather));
  readonly coverage = $derived(coverage(this.mask));
  readonly empty = $derived(this.coverage === 0);

  /** Starts an empty region for images of this size, unless one of that size is already painted. */
  fit(width: number, height: number): void {
    if (width === this.width && height === this.height && this.painted.length === width * height) return;
    this.width = width;
    this.height = height;
    this.painted = new Float32Array(width * height);
  }

  paint(points: readonly BrushPoint[]): void {
    this.painted = paintDiscs(this.painted, this.width, this.height, points, this.radius, this.erasing ? 0 : 1);
  }

  /** The strokes before a drag, to hand back to endStroke when it ends: the whole drag is one undo step. */
  beginStroke(): Float32Array {
    return this.painted;
  }

  endStroke(before: Float32Array): void {
    this.record(this.erasing ? 'Erase from region' : 'Paint region', before);
  }

  clear(): void {
    if (this.painted.every((value) => value === 0)) return;
    const before = this.painted;
    this.painted = new Float32Array(this.width * this.height);
    this.record('Clear region', before);
  }

  invert(): void {
    const before = this.painted;
    this.painted = invertMask(this.painted);
    this.record('Invert region', before);
  }

  /** One undoable change of the strokes (each change makes a new array, so the two are kept as they are). */
  private record(label: string, before: Float32Array): void {
    const after = this.painted;
    if (after === before) return;
    const { width, height } = this;
    const put = (painted: Float32Array): void => {
      this.width = width;
      this.height = height;
      this.painted = painted;
    };
    history.record({ label, undo: () => put(before), redo: () => put(after) });
  }
}

export const region = new RegionState();
