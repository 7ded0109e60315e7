/**
 * The studio's variation grid (DESIGN.md §1.4): at one step of a run, the
 * directions along which the model's output changes most — the denoiser
 * Jacobian's top eigenvectors, the principal components of the run's x̂0
 * trajectory, or the top singular directions of the generator map x_T → x0 —
 * and the final image after a kick of each amplitude along each of them.
 *
 * The directions come from the theory lab (analysis/): `jacobianDirections`,
 * `pca`, and block Krylov with `restrictedSvd`. Amplitudes are kick norms in
 * the unit-variance x_t convention, as the brushes' strength (branch.ts), so
 * keeping a cell as a branch re-makes exactly that cell.
 */
import type { DirectionFamily, RunSummary, VariationGrid } from '../api/contract';
import { resolveRunSettings, type ResolvedRunSettings } from './analysis/context';
import { blockKrylov, restrictedSvd, type BlockOperator } from './analysis/krylov';
import { pca } from './analysis/linalg';
import { jacobianDirections } from './analysis/manifold';
import type { Denoiser } from './denoisers/types';
import { PainterError, throwIfCancelled } from './errors';
import type { RunRecord } from './runs';
import { sample } from './samplers';
import { vpAlpha } from './schedules';

export interface VariationOptions {
  denoiser: Denoiser;
  run: RunRecord;
  step: number;
  family: DirectionFamily;
  directions: number;
  amplitudes: readonly number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

/** Progress as a fraction of the whole job: finding directions is the first half, the grid the second. */
function report(options: VariationOptions, fraction: number, message: string): void {
  options.onProgress?.(Math.round(Math.min(1, fraction) * 1000), 1000, message);
}

/** Forward passes the Jacobian may use: enough for 8 directions to settle at 28×28. */
const JACOBIAN_BUDGET = 160;
const GENERATOR_BLOCKS = 3;
const FD_STEP = 0.05;

function stateInSigmaForm(run: RunRecord, denoiser: Denoiser, step: number): Float32Array {
  const dim = denoiser.dim;
  const scale = 1 / denoiser.schedule.modelScale(run.summary.sigmas[step]!);
  return Float32Array.from(run.xt.subarray(step * dim, (step + 1) * dim), (v) => v * scale);
}

function settingsOf(summary: RunSummary, denoiser: Denoiser): ResolvedRunSettings {
  const { sampler, steps, seed, classLabel, guidance } = summary.settings;
  return resolveRunSettings({ sampler, steps, seeds: [seed], classLabel, guidance }, denoiser);
}

/** Unit-variance kick → the model's own convention at σ (contract.ts, Brush). */
function toModelConvention(summary: RunSummary, sigma: number): number {
  return summary.convention === 'sigma' ? 1 / vpAlpha(sigma) : 1;
}

/**
 * Final images of the run re-made from `step` with a kick a·v for every
 * direction v and amplitude a, batched: [direction][amplitude][D].
 */
async function kickGrid(options: VariationOptions, step: number, directions: Float32Array, count: number): Promise<Float32Array> {
  const { denoiser, run, amplitudes } = options;
  const dim = denoiser.dim;
  const summary = run.summary;
  const sigmas = Float64Array.from(summary.sigmas);
  const cells = count * amplitudes.length;
  const state = stateInSigmaForm(run, denoiser, step);
  const start = new Float32Array(cells * dim);
  const delta = new Float32Array(cells * dim);
  const scale = toModelConvention(summary, sigmas[step]!);
  for (let d = 0; d < count; d++) {
    amplitudes.forEach((amplitude, j) => {
      const cell = d * amplitudes.length + j;
      start.set(state, cell * dim);
      for (let i = 0; i < dim; i++) delta[cell * dim + i] = amplitude * scale * directions[d * dim + i]!;
    });
  }
  const { settings } = summary;
  const trajectory = await sample({
    denoiser,
    sampler: settings.sampler,
    sigmas,
    seeds: new Array<number>(cells).fill(settings.seed),
    condition: { labels: new Array<number | null>(cells).fill(settings.classLabel), guidance: settings.guidance },
    start: { step, state: start },
    perturbation: { step, delta },
    ...(options.signal ? { signal: options.signal } : {}),
    onStep: (i, n) => report(options, 0.5 + (0.5 * i) / n, 'variations'),
  });
  return trajectory.x0Hat.slice((sigmas.length - 1 - step) * cells * dim);
}

/** Top singular directions of the generator map x_T → final image, by central differences of whole runs (σ form). */
async function generatorDirections(options: VariationOptions, run: ResolvedRunSettings, count: number): Promise<{ directions: Float32Array; values: number[] }> {
  const { denoiser } = options;
  const dim = denoiser.dim;
  const sigmas = Float64Array.from(options.run.summary.sigmas);
  const xT = stateInSigmaForm(options.run, denoiser, 0);
  const h = FD_STEP * sigmas[0]!;
  let blocksDone = 0;
  const operator: BlockOperator = async (block, size) => {
    const start = new Float32Array(2 * size * dim);
    for (let r = 0; r < size; r++) {
      for (let i = 0; i < dim; i++) {
        start[r * dim + i] = xT[i]! + h * block[r * dim + i]!;
        start[(size + r) * dim + i] = xT[i]! - h * block[r * dim + i]!;
      }
    }
    const runs = await sample({
      denoiser,
      sampler: run.sampler,
      sigmas,
      seeds: new Array<number>(2 * size).fill(run.seeds[0]!),
      condition: { labels: new Array<number | null>(2 * size).fill(run.classLabel), guidance: run.guidance },
      start: { step: 0, state: start },
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (i, n) => report(options, (0.5 * (blocksDone + i / n)) / GENERATOR_BLOCKS, 'generator map'),
    });
    blocksDone++;
    const finals = runs.states.subarray((sigmas.length - 1) * 2 * size * dim);
    return Float64Array.from({ length: size * dim }, (_, j) => (finals[j]! - finals[size * dim + j]!) / (2 * h));
  };
  const space = await blockKrylov(operator, { dim, blockSize: Math.min(count + 2, dim), blocks: GENERATOR_BLOCKS, seed: run.seeds[0]! + 1 });
  const svd = restrictedSvd(space, count);
  return { directions: Float32Array.from(svd.right), values: svd.values };
}

export async function variationGrid(options: VariationOptions): Promise<VariationGrid> {
  const started = performance.now();
  const { denoiser, run: record, family } = options;
  const summary = record.summary;
  const dim = denoiser.dim;
  const last = summary.stepCount - 1;
  const settings = settingsOf(summary, denoiser);
  const count = Math.min(options.directions, dim);
  let step = options.step;
  if (!Number.isInteger(step) || step < 0 || step >= last) {
    throw new PainterError('BAD_ARGUMENT', `Variations start at step 0 to ${last - 1} (the final image has nothing left to vary); got ${step}.`, { step });
  }

  let directions: Float32Array;
  let values: number[];
  let valueLabel: string;
  if (family === 'jacobian') {
    const sigma = summary.sigmas[step]!;
    const blockSize = Math.max(2, Math.ceil(count / 4));
    const blocks = Math.max(2, Math.floor(JACOBIAN_BUDGET / (2 * blockSize)));
    const found = await jacobianDirections(
      denoiser,
      stateInSigmaForm(record, denoiser, step),
      sigma,
      settings,
      { k: count, blockSize, blocks, fdStep: FD_STEP, maxBatch: 64, seed: summary.settings.seed },
      (done, total) => {
        throwIfCancelled(options.signal);
        report(options, (0.5 * done) / total, 'denoiser Jacobian');
      },
    );
    directions = found.directions;
    values = found.eigenvalues;
    valueLabel = 'eigenvalue of ∂x̂0/∂x';
  } else if (family === 'x0-pcs') {
    const result = pca(record.x0Hat, summary.stepCount, dim, { components: count });
    directions = Float32Array.from(result.components);
    values = Array.from(result.explained);
    valueLabel = 'share of the x̂0 trajectory\'s variance';
  } else {
    if (summary.settings.sampler === 'ddpm') {
      throw new PainterError('BAD_ARGUMENT', 'The generator map needs a deterministic sampler: this run used DDPM; generate with Euler or Heun.');
    }
    const found = await generatorDirections(options, settings, count);
    directions = found.directions;
    values = found.values;
    valueLabel = 'singular value of x_T → x0 (σ form)';
    step = 0;
  }
  const found = values.length;
  report(options, 0.5, 'variations');
  const images = await kickGrid(options, step, directions, found);
  return {
    runId: summary.runId,
    step,
    family,
    amplitudes: [...options.amplitudes],
    count: found,
    directions: directions.slice(0, found * dim),
    values,
    valueLabel,
    images,
    seconds: (performance.now() - started) / 1000,
  };
}
