/**
 * The GAN analogy (Wang & Vastola 2023, §7): the diffusion model's generator
 * map x_T → x0 (the whole deterministic ODE run) behaves like a GAN generator
 * z → x: a steeply decaying singular spectrum whose top directions change the
 * layout and outline of the image, and whose lower ones change details.
 *
 * Three maps side by side, each with its top k singular values and vectors:
 * - the GAN generator at a latent z: J = ∂G/∂z in full (gan.ts), all its
 *   singular values;
 * - the diffusion network's generator map at x_T: JVPs by central differences
 *   of whole runs from x_T ± h·v, a block Krylov space and the singular
 *   triplets of the map restricted to it (lower bounds that converge to the
 *   top ones; the change over the last block is reported);
 * - the Gaussian model's exact map, linear: x0 = μ + U diag(√(λ/(σ_T² + λ))) Uᵀ (x_T − μ)
 *   (σ form), singular values √(λ_j/(σ_T² + λ_j)) along the data's eigenvectors.
 * For each: the spectrum normalised by its largest value, the effective rank
 * of the top k, and the coarse-scale share of the image change that a kick
 * along the top and the bottom of the k directions causes.
 * @see Wang & Vastola 2023, arXiv 2303.02490, §7
 * @see Wang & Ponce 2021, ICLR, "The geometry of deep generative image models and its applications"
 */
import type { GaussianModel } from '../denoisers/gaussian';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { coarseShare, effectiveRank, ganLatent, ganLatentDirections, ganVariationGrid, type LatentGenerator } from '../gan';
import type { ImageSpec } from '../manifest';
import { imageToRaster, rasterGrid, type Raster } from '../png';
import { blockKrylov, restrictedSvd, type BlockOperator, type KrylovSpace } from './krylov';
import { ProgressMeter, resolveRunSettings, sampleBatch, type AnalysisContext, type ResolvedRunSettings, type RunSettings } from './context';

export interface GanAnalogyOptions extends RunSettings {
  /** Directions compared in each map (default min(32, GAN latent dim, D)). */
  k?: number;
  /** Krylov blocks for the diffusion map (default 3; each of k + 8 JVPs = 2(k + 8) whole runs). */
  blocks?: number;
  /** Central-difference step in noise units: GAN h = fdStep, diffusion h = fdStep·σ_T (default 0.05). */
  fdStep?: number;
  /** Directions at each end of the k compared for the coarse-scale change (default 3). */
  compare?: number;
  /** Kick amplitude in noise units: GAN z + a·v, diffusion x_T + a·σ_T·v (default 2). */
  amplitude?: number;
  /** Block size of the coarse scale, pixels (default 4: 7 × 7 blocks on 28 × 28). */
  coarseBlock?: number;
  /** GAN latent seed (default the first run seed) and class (default the run's class; class 0 for a class-only GAN). */
  ganSeed?: number;
  ganClass?: number | null;
}

export interface MapSpectrum {
  name: 'gan' | 'diffusion' | 'gaussian';
  title: string;
  /** Top k singular values, descending, in the map's own units. */
  singularValues: number[];
  /** singularValues / singularValues[0]. */
  normalized: number[];
  /** Effective rank (Roy & Vetterli) of the top k. */
  effectiveRank: number;
  /** First j (1-based) with s_j/s_1 < 0.1, null if none of the k. */
  tenthIndex: number | null;
  /** Relative change of each value over the last Krylov block (diffusion only; 0 for exact maps). */
  convergence: number[];
  /** Coarse-scale share of the image change of a ±a kick along each compared direction (top ones, then bottom ones). */
  coarse: { directions: number[]; share: number[]; top: number; bottom: number };
  /** RMS image change per pixel of the same kicks. */
  change: { top: number; bottom: number };
  forwardPasses: number;
  seconds: number;
}

export interface GanAnalogyResult {
  analysis: 'gan-analogy';
  settings: ResolvedRunSettings & {
    k: number;
    blocks: number;
    blockSize: number;
    fdStep: number;
    compare: number;
    amplitude: number;
    coarseBlock: number;
    ganSeed: number;
    ganClass: number | null;
    ganLatentDim: number;
    sigmaStart: number;
  };
  maps: MapSpectrum[];
  /** Final images [map][direction][amplitude −a, 0, +a][D], maps in the order of `maps`, directions as in coarse.directions. */
  grids: Float32Array;
}

const AMPLITUDE_CELLS = 3;

function spectrumSummary(values: readonly number[]): Pick<MapSpectrum, 'normalized' | 'effectiveRank' | 'tenthIndex'> {
  const top = values[0] ?? 0;
  const normalized = values.map((s) => (top > 0 ? s / top : 0));
  const tenth = normalized.findIndex((v) => v < 0.1);
  return { normalized, effectiveRank: effectiveRank(values), tenthIndex: tenth < 0 ? null : tenth + 1 };
}

/** Coarse share and RMS of (x₊ − x₋)/2 for each compared direction of one map's grid [direction][−a, 0, +a][D]. */
function kickChanges(grid: Float32Array, directions: readonly number[], compare: number, image: ImageSpec, block: number): Pick<MapSpectrum, 'coarse' | 'change'> {
  const dim = image.channels * image.height * image.width;
  const share: number[] = [];
  const rms: number[] = [];
  const change = new Float64Array(dim);
  directions.forEach((_, d) => {
    const minus = (d * AMPLITUDE_CELLS) * dim;
    const plus = (d * AMPLITUDE_CELLS + 2) * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) {
      change[i] = (grid[plus + i]! - grid[minus + i]!) / 2;
      sum += change[i]! ** 2;
    }
    share.push(coarseShare(change, 0, image, block));
    rms.push(Math.sqrt(sum / dim));
  });
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  return {
    coarse: { directions: [...directions], share, top: mean(share.slice(0, compare)), bottom: mean(share.slice(compare)) },
    change: { top: mean(rms.slice(0, compare)), bottom: mean(rms.slice(compare)) },
  };
}

/** Which of the k directions are compared: 0…m−1 and k−m…k−1 (0-based). */
function comparedDirections(k: number, compare: number): number[] {
  const m = Math.min(compare, Math.floor(k / 2));
  return [...Array.from({ length: m }, (_, j) => j), ...Array.from({ length: m }, (_, j) => k - m + j)];
}

export interface DiffusionMapSpectrum {
  singularValues: number[];
  convergence: number[];
  /** Unit latent (x_T) directions, rows [k][D]. */
  latentDirections: Float64Array;
  imageDirections: Float64Array;
  sigmaStart: number;
  sigmas: Float64Array;
  /** x_T (σ form) of the seed. */
  start: Float32Array;
  forwardPasses: number;
  seconds: number;
}

/**
 * Top-k singular triplets of the diffusion generator map x_T → x0 at the
 * first seed's x_T, from central-difference JVPs of whole deterministic runs.
 */
export async function diffusionMapSpectrum(
  denoiser: Denoiser,
  run: ResolvedRunSettings,
  options: { k: number; blockSize: number; blocks: number; fdStep: number },
  meter: ProgressMeter,
  context: AnalysisContext,
): Promise<DiffusionMapSpectrum> {
  if (run.sampler === 'ddpm') throw new PainterError('BAD_ARGUMENT', 'The generator map x_T → x0 needs a deterministic sampler (euler or heun), not ddpm.');
  const started = performance.now();
  const dim = denoiser.dim;
  const seed = run.seeds[0]!;
  const base = await sampleBatch(denoiser, run, [seed], meter, 'diffusion run', context);
  const sigmaStart = base.sigmas[0]!;
  const start = base.states.slice(0, dim);
  const h = options.fdStep * sigmaStart;
  let passes = 0;
  const operator: BlockOperator = async (block, count) => {
    const states = new Float32Array(2 * count * dim);
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < dim; i++) {
        states[r * dim + i] = start[i]! + h * block[r * dim + i]!;
        states[(count + r) * dim + i] = start[i]! - h * block[r * dim + i]!;
      }
    }
    const runs = await sampleBatch(denoiser, run, new Array<number>(2 * count).fill(seed), meter, 'generator map', context, { sigmas: base.sigmas, start: { step: 0, state: states } });
    const last = runs.sigmas.length - 1;
    passes += 2 * count * runs.evaluations[last * 2 * count]!;
    const finals = runs.states.subarray(last * 2 * count * dim);
    return Float64Array.from({ length: count * dim }, (_, j) => (finals[j]! - finals[count * dim + j]!) / (2 * h));
  };
  const space = await blockKrylov(operator, { dim, blockSize: options.blockSize, blocks: options.blocks, seed: seed + 1 });
  const svd = restrictedSvd(space, options.k);
  let convergence = svd.values.map(() => 0);
  if (space.previousSize >= options.k) {
    const previous: KrylovSpace = { ...space, size: space.previousSize, basis: space.basis.subarray(0, space.previousSize * dim), images: space.images.subarray(0, space.previousSize * dim) };
    const before = restrictedSvd(previous, options.k).values;
    convergence = svd.values.map((s, j) => (s > 0 ? Math.abs(s - before[j]!) / s : 0));
  }
  return {
    singularValues: svd.values,
    convergence,
    latentDirections: svd.right,
    imageDirections: svd.left,
    sigmaStart,
    sigmas: base.sigmas,
    start,
    forwardPasses: passes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The Gaussian's exact generator map: singular values √(λ_j/(σ_T² + λ_j)) along its eigenvectors u_j. */
export function gaussianMapSpectrum(gaussian: GaussianModel, sigmaStart: number, k: number): { singularValues: number[]; directions: Float64Array } {
  const count = Math.min(k, gaussian.rank);
  const directions = new Float64Array(count * gaussian.dim);
  for (let j = 0; j < count; j++) for (let i = 0; i < gaussian.dim; i++) directions[j * gaussian.dim + i] = gaussian.eigvecs[i * gaussian.rank + j]!;
  const singularValues = Array.from(gaussian.eigvals.subarray(0, count), (l) => Math.sqrt(l / (sigmaStart * sigmaStart + l)));
  return { singularValues, directions };
}

export async function ganAnalogyAnalysis(
  generator: LatentGenerator,
  denoiser: Denoiser,
  gaussian: GaussianModel,
  options: GanAnalogyOptions = {},
  context: AnalysisContext = {},
): Promise<GanAnalogyResult> {
  const run = resolveRunSettings(options, denoiser, { seeds: 1 });
  const dim = denoiser.dim;
  if (generator.dim !== dim || gaussian.dim !== dim) {
    throw new PainterError('BAD_ARGUMENT', `The GAN makes images of D = ${generator.dim}, the diffusion model of D = ${dim} and the Gaussian of D = ${gaussian.dim}; all three must match.`, {
      gan: generator.dim,
      model: dim,
      gaussian: gaussian.dim,
    });
  }
  const latentDim = generator.latentDim;
  const k = options.k ?? Math.min(32, latentDim, dim, gaussian.rank);
  if (!Number.isInteger(k) || k < 2 || k > Math.min(latentDim, dim, gaussian.rank)) {
    throw new PainterError('BAD_ARGUMENT', `k must be an integer from 2 to ${Math.min(latentDim, dim, gaussian.rank)} (the GAN's latent dimension, D and the Gaussian's rank bound it); got ${k}.`, { k });
  }
  const blocks = options.blocks ?? 3;
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > 100) throw new PainterError('BAD_ARGUMENT', `blocks must be an integer from 1 to 100; got ${blocks}.`);
  const blockSize = Math.min(k + 8, dim);
  const fdStep = options.fdStep ?? 0.05;
  if (!(fdStep > 0 && fdStep <= 1)) throw new PainterError('BAD_ARGUMENT', `The finite-difference step must be in (0, 1]; got ${fdStep}.`);
  const compare = Math.max(1, Math.min(options.compare ?? 3, Math.floor(k / 2)));
  const amplitude = options.amplitude ?? 2;
  if (!(amplitude > 0)) throw new PainterError('BAD_ARGUMENT', `The kick amplitude must be positive; got ${amplitude}.`);
  const coarseBlock = options.coarseBlock ?? 4;
  const ganSeed = options.ganSeed ?? run.seeds[0]!;
  const ganClasses = generator.classes?.length ?? 0;
  const ganClass = options.ganClass !== undefined ? options.ganClass : run.classLabel !== null && run.classLabel < ganClasses ? run.classLabel : ganClasses > 0 ? 0 : null;
  const picked = comparedDirections(k, compare);
  const amplitudes = [-amplitude, 0, amplitude];

  const meter = new ProgressMeter(context, run.steps * (1 + blocks + 1) + 2);
  const maps: MapSpectrum[] = [];
  const grids: Float32Array[] = [];

  // 1. The GAN generator at z.
  const ganStarted = performance.now();
  const z = ganLatent(ganSeed, latentDim);
  const gan = await ganLatentDirections(generator, z, ganClass, { fdStep });
  const ganPicked = new Float64Array(picked.length * latentDim);
  picked.forEach((j, r) => ganPicked.set(gan.latentDirections.subarray(j * latentDim, (j + 1) * latentDim), r * latentDim));
  const ganGrid = await ganVariationGrid(generator, z, ganClass, ganPicked, picked.length, amplitudes);
  meter.advance(1, 'GAN Jacobian');
  const ganValues = gan.singularValues.slice(0, k);
  grids.push(ganGrid);
  maps.push({
    name: 'gan',
    title: 'GAN generator z → x',
    singularValues: ganValues,
    ...spectrumSummary(ganValues),
    convergence: ganValues.map(() => 0),
    ...kickChanges(ganGrid, picked, compare, generator.image, coarseBlock),
    forwardPasses: gan.forwardPasses + ganGrid.length / dim,
    seconds: (performance.now() - ganStarted) / 1000,
  });

  // 2. The diffusion network's generator map x_T → x0.
  const diffusion = await diffusionMapSpectrum(denoiser, run, { k, blockSize, blocks, fdStep }, meter, context);
  const sigmaStart = diffusion.sigmaStart;
  const gridStarted = performance.now();
  const cells = picked.length * AMPLITUDE_CELLS;
  const kicked = new Float32Array(cells * dim);
  picked.forEach((j, r) => {
    amplitudes.forEach((a, c) => {
      const offset = (r * AMPLITUDE_CELLS + c) * dim;
      for (let i = 0; i < dim; i++) kicked[offset + i] = diffusion.start[i]! + a * sigmaStart * diffusion.latentDirections[j * dim + i]!;
    });
  });
  const kickRuns = await sampleBatch(denoiser, run, new Array<number>(cells).fill(run.seeds[0]!), meter, 'diffusion variations', context, { sigmas: diffusion.sigmas, start: { step: 0, state: kicked } });
  const diffusionGrid = kickRuns.states.slice((kickRuns.sigmas.length - 1) * cells * dim);
  grids.push(diffusionGrid);
  maps.push({
    name: 'diffusion',
    title: 'diffusion generator map x_T → x0',
    singularValues: diffusion.singularValues,
    ...spectrumSummary(diffusion.singularValues),
    convergence: diffusion.convergence,
    ...kickChanges(diffusionGrid, picked, compare, denoiser.image, coarseBlock),
    forwardPasses: diffusion.forwardPasses + cells * run.steps,
    seconds: diffusion.seconds + (performance.now() - gridStarted) / 1000,
  });

  // 3. The Gaussian's exact (linear) map from the same x_T.
  const gaussStarted = performance.now();
  const exact = gaussianMapSpectrum(gaussian, sigmaStart, k);
  const gaussGrid = new Float32Array(cells * dim);
  picked.forEach((j, r) => {
    amplitudes.forEach((a, c) => {
      const state = new Float32Array(dim);
      for (let i = 0; i < dim; i++) state[i] = diffusion.start[i]! + a * sigmaStart * exact.directions[j * dim + i]!;
      gaussGrid.set(gaussian.closedFormTrajectory(state, sigmaStart, [0]), (r * AMPLITUDE_CELLS + c) * dim);
    });
  });
  meter.advance(1, 'Gaussian map');
  grids.push(gaussGrid);
  maps.push({
    name: 'gaussian',
    title: 'Gaussian model, exact map',
    singularValues: exact.singularValues,
    ...spectrumSummary(exact.singularValues),
    convergence: exact.singularValues.map(() => 0),
    ...kickChanges(gaussGrid, picked, compare, denoiser.image, coarseBlock),
    forwardPasses: 0,
    seconds: (performance.now() - gaussStarted) / 1000,
  });

  const all = new Float32Array(grids.reduce((n, g) => n + g.length, 0));
  let offset = 0;
  for (const g of grids) {
    all.set(g, offset);
    offset += g.length;
  }
  return {
    analysis: 'gan-analogy',
    settings: { ...run, k, blocks, blockSize, fdStep, compare, amplitude, coarseBlock, ganSeed, ganClass, ganLatentDim: latentDim, sigmaStart },
    maps,
    grids: all,
  };
}

/** One row per map: the kicks −a, 0, +a along the top, then the bottom compared directions. */
export function ganAnalogyPicture(result: GanAnalogyResult, image: ImageSpec): Raster {
  const dim = image.channels * image.height * image.width;
  const count = result.grids.length / dim;
  const columns = count / result.maps.length;
  const cells = Array.from({ length: count }, (_, n) => imageToRaster(result.grids, n * dim, image));
  return rasterGrid(cells, columns, Math.max(1, Math.floor(64 / image.width)));
}

/** One line per map for the CLI and the report. */
export function ganAnalogyHeadline(result: GanAnalogyResult): string[] {
  const k = result.settings.k;
  return result.maps.map(
    (m) =>
      `${m.title}: s_${k}/s_1 = ${m.normalized[k - 1]!.toExponential(2)}, effective rank ${m.effectiveRank.toFixed(1)} of ${k}; coarse share of the change, top ${result.settings.compare} directions ${m.coarse.top.toFixed(2)} vs directions ${k - result.settings.compare + 1}–${k}: ${m.coarse.bottom.toFixed(2)}`,
  );
}

/** The report's claim (DESIGN.md §3): the diffusion generator map decays like a GAN's, coarse content first. */
export function ganAnalogyClaim(result: GanAnalogyResult | undefined): { claim: string; measure: string; expected: string; measured: string; holds: boolean | null } {
  const claim = 'The diffusion generator map x_T → x0 behaves like a GAN generator';
  const measure = 'singular spectra of both maps (and the Gaussian’s exact map): effective rank of the top k; coarse-scale share (4×4-block means) of the change along the top vs the bottom of the k directions';
  const expected = 'steeply decaying spectra; top directions change coarse content more than low ones (holds if the coarse share of the top directions exceeds the bottom ones’ in both the GAN and the diffusion map)';
  if (!result) return { claim, measure, expected, measured: 'not run (no GAN generator of this image size registered)', holds: null };
  const k = result.settings.k;
  const text = result.maps
    .map((m) => `${m.name}: rank ${m.effectiveRank.toFixed(1)}/${k}, s_${k}/s_1 ${m.normalized[k - 1]!.toExponential(1)}, coarse top ${m.coarse.top.toFixed(2)} vs bottom ${m.coarse.bottom.toFixed(2)}`)
    .join('; ');
  const gan = result.maps.find((m) => m.name === 'gan')!;
  const diffusion = result.maps.find((m) => m.name === 'diffusion')!;
  return { claim, measure, expected, measured: text, holds: gan.coarse.top > gan.coarse.bottom && diffusion.coarse.top > diffusion.coarse.bottom };
}
