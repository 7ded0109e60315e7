/**
 * The timeline of the run on screen: which recorded state is shown, and
 * playback. Steps are clamped to 0 … stepCount − 1; playback advances one
 * state per tick and stops at the final image.
 */

/** Playback speed: states per second. */
export const PLAY_RATES = [4, 8, 15, 30] as const;

export class Timeline {
  step = $state(0);
  stepCount = $state(0);
  playing = $state(false);
  rate = $state<number>(15);

  readonly lastStep = $derived(Math.max(0, this.stepCount - 1));
  readonly atEnd = $derived(this.step >= this.lastStep);

  /** A new run: keeps the step when the run has it (comparing branches), else shows the final image. */
  load(stepCount: number, keepStep = false): void {
    if (!Number.isInteger(stepCount) || stepCount < 0) throw new RangeError(`A timeline needs a whole number of states; got ${stepCount}.`);
    const keep = keepStep && this.step < stepCount;
    this.stepCount = stepCount;
    if (!keep) this.step = this.lastStep;
    this.playing = false;
  }

  go(step: number): void {
    if (!Number.isFinite(step)) return;
    this.step = Math.min(this.lastStep, Math.max(0, Math.round(step)));
  }

  next(): void {
    this.go(this.step + 1);
  }

  previous(): void {
    this.go(this.step - 1);
  }

  first(): void {
    this.go(0);
  }

  last(): void {
    this.go(this.lastStep);
  }

  /** Play from the start when at the end, so ▶ always shows something. */
  togglePlay(): void {
    if (this.playing) {
      this.playing = false;
      return;
    }
    if (this.stepCount < 2) return;
    if (this.atEnd) this.step = 0;
    this.playing = true;
  }

  /** One playback tick; returns whether playback goes on. */
  tick(): boolean {
    if (!this.playing) return false;
    this.next();
    if (this.atEnd) this.playing = false;
    return this.playing;
  }
}
