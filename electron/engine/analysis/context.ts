/**
 * What every analysis shares: the job context (cancellation, progress), the
 * run settings (sampler, steps, seeds, class), and the batched sampling of
 * one trajectory per seed.
 */
import type { SamplerName } from '../../api/contract';
import type { DenoiseCondition, Denoiser } from '../denoisers/types';
import { PainterError, throwIfCancelled } from '../errors';
import { sample, type SampleOptions, type Trajectory } from '../samplers';
import { vpAlpha } from '../schedules';

/** How the studio (or the CLI) runs an analysis as a cancellable job. */
export interface AnalysisContext {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

/** The sampling settings an analysis runs with; every result echoes them back. */
export interface RunSettings {
  sampler?: SamplerName;
  steps?: number;
  /** One trajectory per seed. */
  seeds?: readonly number[];
  /** Class label (null: unconditional). */
  classLabel?: number | null;
  guidance?: number;
}

export interface ResolvedRunSettings {
  sampler: SamplerName;
  steps: number;
  seeds: number[];
  classLabel: number | null;
  guidance: number;
}

export const DEFAULT_SEEDS = 8;

export function resolveRunSettings(settings: RunSettings, denoiser: Denoiser, defaults: { seeds?: number; steps?: number } = {}): ResolvedRunSettings {
  const steps = settings.steps ?? defaults.steps ?? 50;
  if (!Number.isInteger(steps) || steps < 2 || steps > 1000) {
    throw new PainterError('BAD_ARGUMENT', `An analysis needs 2 to 1000 steps; got ${steps}.`, { steps });
  }
  const seeds = settings.seeds !== undefined ? [...settings.seeds] : Array.from({ length: defaults.seeds ?? DEFAULT_SEEDS }, (_, i) => i);
  if (seeds.length === 0) throw new PainterError('BAD_ARGUMENT', 'An analysis needs at least one seed.');
  const classLabel = settings.classLabel ?? null;
  if (classLabel !== null && (denoiser.classes === null || !Number.isInteger(classLabel) || classLabel < 0 || classLabel >= denoiser.classes.length)) {
    const known = denoiser.classes === null ? 'the model takes no class' : `classes are 0–${denoiser.classes.length - 1}`;
    throw new PainterError('BAD_ARGUMENT', `Class ${classLabel} is not valid: ${known}.`, { classLabel });
  }
  if (classLabel === null && !denoiser.unconditional) {
    throw new PainterError('BAD_ARGUMENT', `This model is class-conditional only; choose a class (0–${(denoiser.classes?.length ?? 1) - 1}).`);
  }
  return { sampler: settings.sampler ?? 'euler', steps, seeds, classLabel, guidance: settings.guidance ?? 1 };
}

export function conditionFor(run: ResolvedRunSettings, batch: number): DenoiseCondition {
  return { labels: new Array<number | null>(batch).fill(run.classLabel), guidance: run.guidance };
}

/** Progress over a known number of units of work, with cancellation checks. */
export class ProgressMeter {
  private done = 0;
  constructor(
    private readonly context: AnalysisContext,
    private readonly total: number,
  ) {}

  advance(units: number, message: string): void {
    this.done = Math.min(this.total, this.done + units);
    this.context.onProgress?.(this.done, this.total, message);
    throwIfCancelled(this.context.signal);
  }

  check(): void {
    throwIfCancelled(this.context.signal);
  }

  private lastYield = performance.now();

  /**
   * advance(), and at most every 8 ms a turn of the event loop, so that a
   * cancel request queued behind long synchronous work (the analytic models,
   * the delta-mixture sweeps) gets in; then checks cancellation again.
   */
  async step(units: number, message: string): Promise<void> {
    this.advance(units, message);
    await this.breathe();
  }

  /** The event-loop turn of step(), without progress. */
  async breathe(): Promise<void> {
    if (performance.now() - this.lastYield >= 8) {
      await new Promise((resolve) => setImmediate(resolve));
      this.lastYield = performance.now();
      this.check();
    }
  }

  /** A sampler step callback that advances by one unit per step. */
  stepCallback(message: string): (done: number, total: number) => void {
    let last = 0;
    return (done, total) => {
      this.advance(done - last, `${message}: step ${done} of ${total}`);
      last = done;
    };
  }
}

/**
 * One trajectory per seed (or per row of a given start state), batched.
 * `extra` passes a start state or a perturbation through to the sampler, or
 * gives each trajectory its own class label.
 */
export async function sampleBatch(
  denoiser: Denoiser,
  run: ResolvedRunSettings,
  seeds: readonly number[],
  meter: ProgressMeter,
  message: string,
  context: AnalysisContext,
  extra: Pick<SampleOptions, 'start' | 'perturbation'> & { sigmas?: Float64Array; labels?: ReadonlyArray<number | null> } = {},
): Promise<Trajectory> {
  const sigmas = extra.sigmas ?? denoiser.schedule.samplingSigmas(run.steps, run.sampler);
  return sample({
    denoiser,
    sampler: run.sampler,
    sigmas,
    seeds,
    condition: extra.labels ? { labels: extra.labels, guidance: run.guidance } : conditionFor(run, seeds.length),
    ...(extra.start ? { start: extra.start } : {}),
    ...(extra.perturbation ? { perturbation: extra.perturbation } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
    onStep: meter.stepCallback(message),
  });
}

/** All states of trajectory b as rows [state][D] (a copy). */
export function trajectoryRows(data: Float32Array, trajectory: Trajectory, b: number): Float32Array {
  const { batch, dim } = trajectory;
  const count = data.length / (batch * dim);
  const out = new Float32Array(count * dim);
  for (let j = 0; j < count; j++) out.set(data.subarray((j * batch + b) * dim, (j * batch + b + 1) * dim), j * dim);
  return out;
}

/**
 * The σ a model actually evaluates at: a discrete VP network snaps σ to its
 * nearest timestep, so comparisons with a closed form use that σ.
 */
export function effectiveSigma(denoiser: Denoiser, sigma: number): number {
  return denoiser.schedule.networkSigma(sigma);
}

/** VP view of σ-form noise level σ: α = 1/sqrt(1+σ²) and the VP noise scale σ·α (DESIGN.md §2). */
export function vpView(sigma: number): { alpha: number; noise: number } {
  const alpha = vpAlpha(sigma);
  return { alpha, noise: sigma * alpha };
}


/** `count` state indices spread evenly from the first to the last of `states`. */
export function pickStates(states: number, count: number): number[] {
  const n = Math.min(count, states);
  return [...new Set(Array.from({ length: n }, (_, i) => Math.round((i * (states - 1)) / Math.max(n - 1, 1))))];
}

/** Images of trajectory b at some states, stacked [pick][D]; `scale` maps a state's σ to a display gain. */
export function stackStates(data: Float32Array, trajectory: Trajectory, b: number, picks: readonly number[], gain: (sigma: number) => number = () => 1): Float32Array {
  const { batch, dim } = trajectory;
  const out = new Float32Array(picks.length * dim);
  picks.forEach((j, row) => {
    const g = gain(trajectory.sigmas[j]!);
    const offset = (j * batch + b) * dim;
    for (let i = 0; i < dim; i++) out[row * dim + i] = g * data[offset + i]!;
  });
  return out;
}
