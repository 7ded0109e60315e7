/**
 * Interpretable directions at one step (DESIGN.md §1.4, §2 "Denoiser
 * Jacobian"):
 * (a) the top eigenvectors of the denoiser Jacobian ∂x̂0/∂x (σ form), from
 *     batched central-difference Jacobian-vector products and block Krylov
 *     iteration, symmetrised (for the Gaussian it is U diag(λ/(λ+σ²)) Uᵀ);
 * (b) the principal components of the x̂0 trajectory;
 * (c) the top singular directions of the generator map x_T → x0 (the ODE run
 *     as a deterministic generator), beside the Gaussian's sqrt(λ/(σ_T² + λ)).
 * Variation grids: final images after kicks of each amplitude along each
 * direction (at the step for (a) and (b), at x_T for (c)).
 * @see Wang & Vastola 2023, arXiv 2303.02490, §7 (the Jacobian and the generator's latent directions)
 */
import type { GaussianModel } from '../denoisers/gaussian';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import type { Trajectory } from '../samplers';
import { DEFAULT_TOLERANCE_DEG, jacobianDirections, type JacobianDirections } from './jacobian';
import { insideShares, localDirections, regionWeights, type LocalDirections, type SupportChoice } from './local-directions';
import { blockKrylov, restrictedSvd, type BlockOperator } from './krylov';
import { columnMeanSd, meanSd, pca, principalAngles, type MeanSd } from './linalg';
import {
  effectiveSigma,
  ProgressMeter,
  resolveRunSettings,
  sampleBatch,
  trajectoryRows,
  type AnalysisContext,
  type ResolvedRunSettings,
  type RunSettings,
} from './context';

export interface ManifoldOptions extends RunSettings {
  /** Grid index of the step (default: the middle of the run). */
  step?: number;
  /** Jacobian directions wanted (default 16). */
  k?: number;
  /**
   * The most forward passes (images through the denoiser) the Jacobian may use (default 1600): the search
   * grows block by block until the k directions have converged, and stops at this cap if they have not.
   */
  budget?: number;
  /** A direction is found when its estimate moved less than this many degrees since the space was half its size (default 10; 0 spends the whole budget). */
  toleranceDeg?: number;
  /**
   * Vectors per Krylov block (default max(2, ⌈k/2⌉), at most budget / 2). Smaller blocks give a higher
   * polynomial degree for the same budget (better for clustered spectra); larger ones batch more images
   * per forward call.
   */
  blockSize?: number;
  /** Central-difference step, relative to σ: h = fdStep·σ in σ form (default 0.05). */
  fdStep?: number;
  /** Images per forward call (default 64). */
  maxBatch?: number;
  /** Generator directions (0 to skip; default 8) and Krylov blocks for them (default 3). */
  generatorK?: number;
  generatorBlocks?: number;
  /** Kick amplitudes of the variation grids, model convention (default −6, −3, 0, 3, 6). */
  amplitudes?: readonly number[];
  /** Directions per variation grid (default 6; 0 for none). */
  gridDirections?: number;
  /**
   * A region of the image (H·W weights in [0, 1]): also find the local directions that change it and keep the
   * rest (issue 14; local-directions.ts), at the step, for the first seed, with their grid.
   */
  mask?: Float32Array;
  /** Local directions wanted (default min(k, 6)); the null-space rank (default: energy threshold) and threshold (default by support: local-directions.ts); their forward-pass cap (default 1600). */
  localK?: number;
  /** Where the local directions may live (local-directions.ts; default 'auto') and, on the region, its halo in pixels (default 0). */
  support?: SupportChoice;
  halo?: number;
  nullSpaceRank?: number;
  energyThreshold?: number;
  localBudget?: number;
}

export interface ManifoldResult {
  analysis: 'manifold';
  settings: ResolvedRunSettings & {
    step: number;
    sigma: number;
    effectiveSigma: number;
    k: number;
    budget: number;
    toleranceDeg: number;
    blockSize: number;
    fdStep: number;
    generatorK: number;
    generatorBlocks: number;
    amplitudes: number[];
  };
  jacobian: {
    /** Eigenvalues over seeds. */
    eigenvalues: MeanSd[];
    /** Gaussian theory λ_k/(λ_k + σ²) with the data's top eigenvalues. */
    theory: number[];
    /** Principal angles (degrees) between the top-k Jacobian subspace and the data's top-k eigenvectors, first seed. */
    anglesToData: number[];
    asymmetry: MeanSd;
    /** First seed's full result. */
    first: JacobianDirections;
  };
  x0Trajectory: { explained: number[]; directions: Float32Array };
  generator: {
    singularValues: number[];
    /** Gaussian theory sqrt(λ_k/(σ_T² + λ_k)) (σ-form latent; multiply by 1/α_T for the model's unit-noise latent). */
    theory: number[];
    sigmaStart: number;
    latentDirections: Float32Array;
    imageDirections: Float32Array;
    forwardPasses: number;
    seconds: number;
  } | null;
  /** Final images [direction][amplitude][D] of the first seed. */
  grids: { jacobian: Float32Array; x0Trajectory: Float32Array; generator: Float32Array | null; local: Float32Array | null; directions: number };
  /** With a mask: the local directions of the first seed, and each grid cell's share of the final change inside the region. */
  local: (LocalDirections & { mask: Float32Array; gridInside: Array<number | null> }) | null;
}

/** Final images after a kick a·v (model convention) at grid index `step` of one seed, [direction][amplitude][D]. */
async function kickGrid(
  denoiser: Denoiser,
  run: ResolvedRunSettings,
  base: Trajectory,
  b: number,
  step: number,
  directions: ArrayLike<number>,
  count: number,
  amplitudes: readonly number[],
  meter: ProgressMeter,
  context: AnalysisContext,
  label: string,
): Promise<Float32Array> {
  const dim = denoiser.dim;
  const cells = count * amplitudes.length;
  const seed = run.seeds[b]!;
  const state = base.states.subarray((step * base.batch + b) * dim, (step * base.batch + b + 1) * dim);
  const start = new Float32Array(cells * dim);
  const delta = new Float32Array(cells * dim);
  for (let d = 0; d < count; d++) {
    amplitudes.forEach((a, j) => {
      const cell = d * amplitudes.length + j;
      start.set(state, cell * dim);
      for (let i = 0; i < dim; i++) delta[cell * dim + i] = a * directions[d * dim + i]!;
    });
  }
  const trajectory = await sampleBatch(denoiser, run, new Array<number>(cells).fill(seed), meter, label, context, {
    sigmas: base.sigmas,
    start: { step, state: start },
    perturbation: { step, delta },
  });
  return trajectory.states.slice((trajectory.sigmas.length - 1) * cells * dim);
}

export async function manifoldAnalysis(denoiser: Denoiser, gaussian: GaussianModel | null, options: ManifoldOptions = {}, context: AnalysisContext = {}): Promise<ManifoldResult> {
  const run = resolveRunSettings(options, denoiser, { seeds: 1 });
  const dim = denoiser.dim;
  if (gaussian !== null && gaussian.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The Gaussian model has D = ${gaussian.dim}; the model has D = ${dim}.`);
  const step = options.step ?? Math.round(run.steps / 2);
  if (!Number.isInteger(step) || step < 0 || step >= run.steps) throw new PainterError('BAD_ARGUMENT', `The step must be an integer from 0 to ${run.steps - 1}; got ${step}.`);
  const k = options.k ?? 16;
  const budget = options.budget ?? 1600;
  const toleranceDeg = options.toleranceDeg ?? DEFAULT_TOLERANCE_DEG;
  if (!Number.isInteger(k) || k < 1 || k > dim) throw new PainterError('BAD_ARGUMENT', `k must be an integer from 1 to ${dim}; got ${k}.`);
  const blockSize = Math.min(options.blockSize ?? Math.max(2, Math.ceil(k / 2)), Math.floor(budget / 2), dim);
  if (blockSize < 1 || (blockSize < k && budget < 4 * blockSize)) throw new PainterError('BAD_ARGUMENT', `A budget of ${budget} forward passes is too small for ${k} directions.`, { budget, k });
  const fdStep = options.fdStep ?? 0.05;
  const maxBatch = options.maxBatch ?? 64;
  const generatorK = Math.min(options.generatorK ?? 8, dim);
  const generatorBlocks = options.generatorBlocks ?? 3;
  if (generatorK > 0 && run.sampler === 'ddpm') throw new PainterError('BAD_ARGUMENT', 'The generator map needs a deterministic sampler (euler or heun); pass --generator-k 0 to skip it.');
  const amplitudes = [...(options.amplitudes ?? [-6, -3, 0, 3, 6])];
  const gridDirections = Math.min(options.gridDirections ?? 6, k);
  const generatorBlockSize = generatorK + 2;

  const weights = options.mask !== undefined ? regionWeights(options.mask, denoiser.image) : null;
  const localBudget = options.localBudget ?? 1600;
  const gridUnits = gridDirections > 0 ? (run.steps - step) * (weights !== null ? 3 : 2) + (generatorK > 0 ? run.steps : 0) : 0;
  const meter = new ProgressMeter(context, run.steps + run.seeds.length * budget + (weights !== null ? localBudget : 0) + (generatorK > 0 ? generatorBlocks * run.steps : 0) + gridUnits);
  const base = await sampleBatch(denoiser, run, run.seeds, meter, 'sampling', context);
  const sigma = base.sigmas[step]!;
  const evaluated = effectiveSigma(denoiser, sigma);

  const perSeed: JacobianDirections[] = [];
  for (const [b, seed] of run.seeds.entries()) {
    const x = base.states.slice((step * base.batch + b) * dim, (step * base.batch + b + 1) * dim);
    let reported = 0;
    const found = await jacobianDirections(denoiser, x, sigma, run, { k, blockSize, budget, toleranceDeg, fdStep, maxBatch, seed }, (done) => {
      meter.advance(done - reported, `Jacobian of seed ${seed}`);
      reported = done;
    });
    // A search that converged early leaves the rest of its share of the progress bar: skip it.
    meter.advance(budget - reported, `Jacobian of seed ${seed}`);
    perSeed.push(found);
  }
  const first = perSeed[0]!;
  const theory = gaussian === null ? [] : Array.from(gaussian.eigvals.subarray(0, k), (l) => l / (l + evaluated * evaluated));
  let anglesToData: number[] = [];
  if (gaussian !== null) {
    const count = Math.min(k, first.eigenvalues.length, gaussian.rank);
    const data = new Float64Array(count * dim);
    for (let c = 0; c < count; c++) for (let i = 0; i < dim; i++) data[c * dim + i] = gaussian.eigvecs[i * gaussian.rank + c]!;
    anglesToData = Array.from(principalAngles(first.directions, count, data, count, dim), (a) => (a * 180) / Math.PI);
  }

  // Local directions of the region (issue 14), first seed.
  let local: ManifoldResult['local'] = null;
  if (weights !== null) {
    const x = base.states.slice(step * base.batch * dim, (step * base.batch + 1) * dim);
    let reported = 0;
    const found = await localDirections(
      denoiser,
      x,
      sigma,
      run,
      weights,
      {
        k: Math.min(options.localK ?? Math.min(k, 6), dim),
        blockSize: 4,
        budget: localBudget,
        toleranceDeg,
        fdStep,
        maxBatch,
        seed: run.seeds[0]!,
        ...(options.nullSpaceRank !== undefined ? { nullSpaceRank: options.nullSpaceRank } : {}),
        ...(options.energyThreshold !== undefined ? { energyThreshold: options.energyThreshold } : {}),
        ...(options.support !== undefined ? { support: options.support } : {}),
        ...(options.halo !== undefined ? { halo: options.halo } : {}),
      },
      (done) => {
        meter.advance(done - reported, 'local directions');
        reported = done;
      },
    );
    meter.advance(localBudget - reported, 'local directions');
    local = { ...found, mask: Float32Array.from(options.mask!), gridInside: [] };
  }

  // (b) principal components of the first seed's x̂0 trajectory.
  const x0Rows = trajectoryRows(base.x0Hat, base, 0);
  const x0Pca = pca(x0Rows, x0Rows.length / dim, dim, { components: Math.max(gridDirections, 5) });

  // (c) the generator map x_T → x0, JVPs by central differences of whole runs from the same x_T.
  let generator: ManifoldResult['generator'] = null;
  if (generatorK > 0) {
    const started = performance.now();
    const sigmaStart = base.sigmas[0]!;
    const xT = base.states.slice(0, dim);
    const h = fdStep * sigmaStart;
    let passes = 0;
    const operator: BlockOperator = async (block, count) => {
      const start = new Float32Array(2 * count * dim);
      for (let r = 0; r < count; r++) {
        for (let i = 0; i < dim; i++) {
          start[r * dim + i] = xT[i]! + h * block[r * dim + i]!;
          start[(count + r) * dim + i] = xT[i]! - h * block[r * dim + i]!;
        }
      }
      const runs = await sampleBatch(denoiser, run, new Array<number>(2 * count).fill(run.seeds[0]!), meter, 'generator map', context, {
        sigmas: base.sigmas,
        start: { step: 0, state: start },
      });
      const last = runs.sigmas.length - 1;
      passes += 2 * count * runs.evaluations[last * 2 * count]!;
      const finals = runs.states.subarray(last * 2 * count * dim);
      return Float64Array.from({ length: count * dim }, (_, j) => (finals[j]! - finals[count * dim + j]!) / (2 * h));
    };
    const space = await blockKrylov(operator, { dim, blockSize: Math.min(generatorBlockSize, dim), blocks: generatorBlocks, seed: run.seeds[0]! + 1 });
    const svd = restrictedSvd(space, generatorK);
    generator = {
      singularValues: svd.values,
      theory: gaussian === null ? [] : Array.from(gaussian.eigvals.subarray(0, generatorK), (l) => Math.sqrt(l / (sigmaStart * sigmaStart + l))),
      sigmaStart,
      latentDirections: Float32Array.from(svd.right),
      imageDirections: Float32Array.from(svd.left),
      forwardPasses: passes,
      seconds: (performance.now() - started) / 1000,
    };
  }

  const empty = new Float32Array(0);
  const grids: ManifoldResult['grids'] = { jacobian: empty, x0Trajectory: empty, generator: null, local: null, directions: gridDirections };
  if (gridDirections > 0) {
    // Only directions that converged are shown (issue 13 part 2).
    grids.jacobian = await kickGrid(denoiser, run, base, 0, step, first.directions, Math.min(gridDirections, first.found), amplitudes, meter, context, 'Jacobian variations');
    if (local !== null) {
      const count = Math.min(gridDirections, local.found);
      grids.local = await kickGrid(denoiser, run, base, 0, step, local.directions, count, amplitudes, meter, context, 'local variations');
      const final = base.x0Hat.subarray((base.sigmas.length - 1) * base.batch * dim, ((base.sigmas.length - 1) * base.batch + 1) * dim);
      local.gridInside = insideShares(grids.local, final, weights!, count * amplitudes.length);
    }
    grids.x0Trajectory = await kickGrid(denoiser, run, base, 0, step, x0Pca.components, Math.min(gridDirections, x0Pca.explained.length), amplitudes, meter, context, 'x̂0-PC variations');
    if (generator !== null) {
      const count = Math.min(gridDirections, generator.singularValues.length);
      grids.generator = await kickGrid(denoiser, run, base, 0, 0, generator.latentDirections, count, amplitudes, meter, context, 'generator variations');
    }
  }

  return {
    analysis: 'manifold',
    settings: { ...run, step, sigma, effectiveSigma: evaluated, k, budget, toleranceDeg, blockSize, fdStep, generatorK, generatorBlocks, amplitudes },
    jacobian: {
      eigenvalues: columnMeanSd(perSeed.map((p) => p.eigenvalues)),
      theory,
      anglesToData,
      asymmetry: meanSd(perSeed.map((p) => p.asymmetry)),
      first,
    },
    x0Trajectory: { explained: Array.from(x0Pca.explained), directions: Float32Array.from(x0Pca.components) },
    generator,
    grids,
    local,
  };
}
