/**
 * The studio's variation grid (DESIGN.md §1.4): at one step of a run, the
 * directions along which the model's output changes most — the denoiser
 * Jacobian's top eigenvectors, the principal components of the run's x̂0
 * trajectory, the top singular directions of the generator map x_T → x0, or
 * the local directions of a painted region (issue 14) — and the final image
 * after a kick of each amplitude along each of them. Directions kept on one
 * run can be applied to another run of the same model.
 *
 * The directions come from the theory lab (analysis/): `jacobianDirections`
 * and `localDirections` (shown only once converged), `pca`, and block Krylov
 * with `restrictedSvd`. Amplitudes are kick norms in the unit-variance x_t
 * convention, as the brushes' strength (branch.ts), so keeping a cell as a
 * branch re-makes exactly that cell.
 */
import type { AppliedDirections, DirectionFamily, DirectionSearch, RunSummary, VariationGrid } from '../api/contract';
import { resolveRunSettings, type ResolvedRunSettings } from './analysis/context';
import { jacobianDirections } from './analysis/jacobian';
import { blockKrylov, restrictedSvd, type BlockOperator } from './analysis/krylov';
import { pca } from './analysis/linalg';
import { insideShares, localDirections, regionWeights } from './analysis/local-directions';
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
  /** The region (H·W weights): required by `local`; with any family, each cell's change inside it is reported. */
  mask?: Float32Array;
  nullSpaceRank?: number;
  /** Kick along these instead of finding directions. */
  apply?: AppliedDirections;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

/** Progress as a fraction of the whole job: finding directions is the first half, the grid the second. */
function report(options: VariationOptions, fraction: number, message: string): void {
  options.onProgress?.(Math.round(Math.min(1, fraction) * 1000), 1000, message);
}

/**
 * Caps on forward passes for the Jacobian and local searches, which stop as soon as the directions asked
 * for have converged. Measured on the bundled 28×28 network (bench/localvar-bench.ts): 6 Jacobian
 * directions converge in about 100–250 passes, 6 local ones in about 200–600.
 */
const JACOBIAN_BUDGET = 800;
const LOCAL_BUDGET = 1600;
const SEARCH_BLOCK = 4;
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
 * direction v and amplitude a, batched: [direction][amplitude][D]. An
 * amplitude of 0 is the run itself: its recorded final image, not re-made.
 */
async function kickGrid(options: VariationOptions, step: number, directions: Float32Array, count: number): Promise<Float32Array> {
  const { denoiser, run, amplitudes } = options;
  const dim = denoiser.dim;
  const summary = run.summary;
  const sigmas = Float64Array.from(summary.sigmas);
  const images = new Float32Array(count * amplitudes.length * dim);
  const final = run.x0Hat.subarray((summary.stepCount - 1) * dim, summary.stepCount * dim);
  const kicked: Array<{ d: number; j: number }> = [];
  for (let d = 0; d < count; d++) {
    amplitudes.forEach((amplitude, j) => {
      if (amplitude === 0) images.set(final, (d * amplitudes.length + j) * dim);
      else kicked.push({ d, j });
    });
  }
  const cells = kicked.length;
  if (cells === 0) return images;
  const state = stateInSigmaForm(run, denoiser, step);
  const start = new Float32Array(cells * dim);
  const delta = new Float32Array(cells * dim);
  const scale = toModelConvention(summary, sigmas[step]!);
  kicked.forEach(({ d, j }, cell) => {
    start.set(state, cell * dim);
    const amplitude = amplitudes[j]!;
    for (let i = 0; i < dim; i++) delta[cell * dim + i] = amplitude * scale * directions[d * dim + i]!;
  });
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
  const finals = trajectory.x0Hat.subarray((sigmas.length - 1 - step) * cells * dim);
  kicked.forEach(({ d, j }, cell) => images.set(finals.subarray(cell * dim, (cell + 1) * dim), (d * amplitudes.length + j) * dim));
  return images;
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

function searchOf(found: { convergenceDeg: number[]; toleranceDeg: number; found: number; tiedWith: number[][]; forwardPasses: number; budget: number; asymmetry: number }, asked: number): DirectionSearch {
  return {
    convergenceDeg: found.convergenceDeg.slice(0, found.found),
    toleranceDeg: found.toleranceDeg,
    notConverged: asked - found.found,
    tiedWith: found.tiedWith.slice(0, found.found).map((group) => group.filter((i) => i < found.found)),
    forwardPasses: found.forwardPasses,
    budget: found.budget,
    asymmetry: found.asymmetry,
  };
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
  const weights = options.mask !== undefined ? regionWeights(options.mask, denoiser.image) : null;

  let directions: Float32Array;
  let values: number[];
  let valueLabel: string;
  let search: DirectionSearch | undefined;
  let local: VariationGrid['local'];
  if (options.apply !== undefined) {
    const applied = options.apply;
    if (applied.directions.length !== applied.labels.length * dim) {
      throw new PainterError('BAD_ARGUMENT', `The directions to apply have ${applied.directions.length / applied.labels.length} values each; this run's model has ${dim}: apply them to a run of the model they were found on.`, {
        values: applied.directions.length / applied.labels.length,
        expected: dim,
      });
    }
    // Unit directions, as found; a kick's amplitude is then its norm, as on the source run.
    directions = Float32Array.from(applied.directions);
    for (let d = 0; d < applied.labels.length; d++) {
      const row = directions.subarray(d * dim, (d + 1) * dim);
      const length = Math.hypot(...row);
      if (length > 0) for (let i = 0; i < dim; i++) row[i]! /= length;
    }
    values = applied.labels.map(() => 0);
    valueLabel = `applied from step ${applied.sourceStep} of another run`;
  } else if (family === 'jacobian') {
    const sigma = summary.sigmas[step]!;
    const found = await jacobianDirections(
      denoiser,
      stateInSigmaForm(record, denoiser, step),
      sigma,
      settings,
      { k: count, blockSize: SEARCH_BLOCK, budget: JACOBIAN_BUDGET, toleranceDeg: 10, fdStep: FD_STEP, maxBatch: 64, seed: summary.settings.seed },
      (done, total) => {
        throwIfCancelled(options.signal);
        report(options, (0.5 * done) / total, 'denoiser Jacobian');
      },
    );
    directions = found.directions.slice(0, found.found * dim);
    values = found.eigenvalues.slice(0, found.found);
    valueLabel = 'eigenvalue of ∂x̂0/∂x';
    search = searchOf(found, count);
  } else if (family === 'local') {
    if (weights === null) throw new PainterError('BAD_ARGUMENT', 'Local directions need a region: paint the part of x̂0 that should change.');
    const sigma = summary.sigmas[step]!;
    const found = await localDirections(
      denoiser,
      stateInSigmaForm(record, denoiser, step),
      sigma,
      settings,
      weights,
      {
        k: count,
        blockSize: SEARCH_BLOCK,
        budget: LOCAL_BUDGET,
        fdStep: FD_STEP,
        maxBatch: 64,
        seed: summary.settings.seed,
        ...(options.nullSpaceRank !== undefined ? { nullSpaceRank: options.nullSpaceRank } : {}),
      },
      (done, total) => {
        throwIfCancelled(options.signal);
        report(options, (0.5 * done) / total, 'local directions');
      },
    );
    directions = found.directions.slice(0, found.found * dim);
    values = found.strengths.slice(0, found.found);
    valueLabel = 'change of x̂0 inside the region per unit kick';
    search = searchOf(found, count);
    local = {
      mask: Float32Array.from(options.mask!),
      support: found.support,
      supportSize: found.supportSize,
      nullSpaceRank: found.nullSpaceRank,
      rankChosenBy: found.rankChosenBy,
      energyThreshold: found.energyThreshold,
      explainedEnergy: found.explainedEnergy,
      insideShare: found.insideShare.slice(0, found.found),
    };
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
  const final = record.x0Hat.subarray(last * dim, (last + 1) * dim);
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
    ...(search !== undefined ? { search } : {}),
    ...(local !== undefined ? { local } : {}),
    ...(weights !== null ? { inside: insideShares(images, final, weights, found * options.amplitudes.length) } : {}),
    ...(options.apply !== undefined ? { applied: { sourceRunId: options.apply.sourceRunId, sourceStep: options.apply.sourceStep, labels: [...options.apply.labels] } } : {}),
  };
}
