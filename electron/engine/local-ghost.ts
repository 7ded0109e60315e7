/**
 * The "local ghost" of a run: what the local patch model (denoisers/local.ts)
 * paints from the run's own x_T on the run's own σ grid, with the run's
 * sampler, seed and class — beside the Gaussian ghost (ghost.ts), which says
 * how the outline is decided, it shows how much of the detail a patch-wise
 * posterior over training patches reproduces (Kamb & Ganguli 2025).
 */
import type { LocalGhost } from '../api/contract';
import type { AnalyticDenoiser } from './denoisers/analytic';
import { conventionScale } from './ghost';
import type { RunRecord } from './runs';
import { sample } from './samplers';

export interface LocalGhostOptions {
  run: RunRecord;
  local: AnalyticDenoiser;
  localId: string;
  signal?: AbortSignal;
  onStep?: (done: number, total: number) => void;
}

export async function localGhost(options: LocalGhostOptions): Promise<LocalGhost & { available: true }> {
  const started = performance.now();
  const { run, local, localId } = options;
  const { summary } = run;
  const dim = local.dim;
  const sigmas = Float64Array.from(summary.sigmas);
  const states = sigmas.length;
  const convention = summary.convention;
  const start = new Float64Array(dim);
  const toSigma = 1 / conventionScale(convention, sigmas[0]!);
  for (let i = 0; i < dim; i++) start[i] = run.xt[i]! * toSigma;
  const label = summary.settings.classLabel !== null && local.classes !== null ? summary.settings.classLabel : null;
  const trajectory = await sample({
    denoiser: local,
    sampler: summary.settings.sampler,
    sigmas,
    // The run's seed: an ancestral run's ghost draws the same step noise.
    seeds: [summary.settings.seed],
    start: { step: 0, state: start },
    condition: { labels: [label], guidance: 1 },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  const xt = new Float32Array(states * dim);
  for (let j = 0; j < states; j++) {
    const scale = conventionScale(convention, sigmas[j]!);
    for (let i = 0; i < dim; i++) xt[j * dim + i] = trajectory.states[j * dim + i]! * scale;
  }
  const deviation = Array.from({ length: states }, (_, j) => {
    let squared = 0;
    for (let i = 0; i < dim; i++) squared += (run.x0Hat[j * dim + i]! - trajectory.x0Hat[j * dim + i]!) ** 2;
    return Math.sqrt(squared / dim);
  });
  return { available: true, runId: summary.runId, modelId: localId, xt, x0Hat: trajectory.x0Hat, deviation, seconds: (performance.now() - started) / 1000 };
}
