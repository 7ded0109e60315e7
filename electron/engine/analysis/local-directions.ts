/**
 * Local variations (issue 14): at one state, the directions that change
 * x̂0 inside a painted region and leave the rest alone — LOCO Edit's recipe
 * (Chen et al., "Exploring Low-Dimensional Subspaces in Diffusion Models for
 * Controllable Image Editing", NeurIPS 2024, arXiv 2409.02374: at mid noise
 * the x̂0 Jacobian is low-rank and locally linear), with finite differences
 * in place of autograd.
 *
 * 1. Directions: the top eigenvectors of Jᵀ M J (M = diag of the region's
 *    weights), i.e. the kicks that change x̂0 most inside the region.
 * 2. Keeping the rest fixed: the approximate null space of (I − M)J is the
 *    orthogonal complement of its top-R right singular vectors (the top
 *    eigenvectors of Jᵀ(I − M)J), R chosen so that they carry a share (default
 *    98 %) of that operator's energy in the search space, or given. The
 *    directions are the top eigenvectors of Jᵀ M J within that null space, so
 *    each already lies in it. LOCO Edit instead projects the unconstrained
 *    eigenvectors afterwards; on the bundled network both leave the same share
 *    of the change inside (0.83 and 0.84 at R = 32, step 25 of 50), but a
 *    projected direction is the small remainder (≈ 15 % of the norm) of a
 *    larger vector, so its estimate swings with every refinement of the null
 *    space and converges far later. The projected variant's inside share is
 *    reported beside, for comparison.
 *
 * Only J·v is available (central-difference JVPs of the network; ONNX
 * Runtime has no autograd). Both Rayleigh–Ritz problems are nevertheless
 * exact in the search space V: with J·V known, Vᵀ Jᵀ W J V = (JV)ᵀ W (JV)
 * for any diagonal W. Jᵀ is needed only to grow the space, where the
 * symmetric part stands in for it: the Krylov step for Jᵀ W J is taken as
 * J (W J v). That is justified because an exact denoiser's Jacobian is
 * symmetric — Tweedie, D(x, σ) = x + σ² ∇ log p_σ(x), so J = I + σ² ∇² log p_σ,
 * a Hessian — and a trained network's is close to it; what is dropped, the
 * skew part, is measured (the skew share of Vᵀ J V) and reported. It can
 * only slow the search, never bias the strengths, which are computed
 * exactly. The masked intermediates W J v join the space too: their products
 * J (W J v) are the Krylov step itself, so they come free.
 *
 * Region support (the default when it fits the budget): the directions may
 * only use the region's own values, so the search space is their unit
 * vectors, J is applied to each once (2 forward passes a value), and both
 * problems are exact in that space — nothing to converge, no Jᵀ needed.
 * A kick confined to the region also stays there through the rest of the
 * run far better than a free one, whose outside part cancels the change to
 * x̂0 only to first order (final share inside 0.82–0.96 against 0.48–0.85 at
 * steps 25 and 40 of 50; docs/local-variations.md).
 */
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import type { ResolvedRunSettings } from './context';
import { convergedPrefix, groupAngles, tiedGroups } from './convergence';
import { DEFAULT_TOLERANCE_DEG, denoiserJacobianOperator, fdStepAt, startBlock, type PassCounter } from './jacobian';
import { orthonormalizeRows } from './linalg';
import { localEstimate, regionRows, smallerSpaceImages, unconstrainedEstimate, type LocalEstimate, type LocalProblem } from './local-estimate';
import { IncrementalGram, ProductBasis } from './product-basis';

/** Inside energies (squared singular values) closer than this share of the top one count as tied: 1 % in singular value. */
const LOCAL_TIE_SHARE = 0.02;
/**
 * Default share of the outside's Jacobian energy that the projected-out directions carry: 98 % for free
 * directions (a higher share needs a null space that takes far longer to converge), 99.5 % on the region's
 * support, where the problem is exact and the higher share keeps more of the final change inside (0.69–0.80
 * against 0.31–0.35 at step 10 of 50; docs/local-variations.md).
 */
export const DEFAULT_ENERGY_THRESHOLD = 0.98;
/** Where local directions live (see LocalSearchOptions.support), and what a caller may ask for. */
export type LocalSupport = 'free' | 'region';
export const SUPPORT_CHOICES = ['auto', 'free', 'region'] as const;
export type SupportChoice = (typeof SUPPORT_CHOICES)[number];
export const REGION_ENERGY_THRESHOLD = 0.995;
export function defaultEnergyThreshold(support: LocalSupport): number {
  return support === 'region' ? REGION_ENERGY_THRESHOLD : DEFAULT_ENERGY_THRESHOLD;
}
/** Checkpoints each time the space has grown by half: the m × m eigenproblems, not the forward passes, set the pace here. */
const CHECK_GROWTH = 1.5;
const EXTRA = 4;

export interface LocalSearchOptions {
  /** Directions wanted. */
  k: number;
  /** Vectors per Krylov block, for each of the two problems (inside and outside). */
  blockSize: number;
  /** The most forward passes the search may use. */
  budget: number;
  toleranceDeg?: number;
  fdStep: number;
  maxBatch: number;
  seed: number;
  /** Directions of (I − M)J to project out; default: the energy threshold decides. */
  nullSpaceRank?: number;
  /** Share of the outside's energy the projected-out directions must carry (default 0.98). */
  energyThreshold?: number;
  /** Start the search with every pixel of the region and a 2-pixel halo (default true, when it fits in a quarter of the budget). */
  seedRegion?: boolean;
  /**
   * Where the directions may live (default 'auto'):
   * - 'region': only on the region's own values (weight > 0) and a halo of `halo` pixels (default 0). J is applied
   *   to each of them once (2 forward passes a value) and both problems are solved exactly in their span: nothing
   *   to converge. Kicks confined to the region also stay there through the rest of the run far better than free
   *   ones (docs/local-variations.md).
   * - 'free': anywhere in R^D, by the block Krylov search below (converged to the tolerance, within the budget).
   * - 'auto': 'region' when it fits in the budget, else 'free' (a large region, or a latent model's many values).
   */
  support?: SupportChoice;
  halo?: number;
}

export interface LocalDirections {
  /** Unit directions [k][D]: the top eigenvectors of Jᵀ M J within the approximate null space of (I − M)J. */
  directions: Float32Array;
  /** ‖M^{1/2} J v‖ per direction: how much x̂0 changes inside the region per unit kick. */
  strengths: number[];
  /** Per direction: the share of x̂0's squared (linear) change that falls inside, ‖M^{1/2}Jv‖² / ‖Jv‖². */
  insideShare: number[];
  /** Without the null-space step: the top eigenvectors of Jᵀ M J [k][D], their eigenvalues and inside shares. */
  unconstrained: { directions: Float32Array; eigenvalues: number[]; insideShare: number[] };
  /** LOCO Edit's own order of steps (project each unconstrained direction afterwards): its inside shares, for comparison. */
  projectedInsideShare: number[];
  /**
   * Per direction: degrees that its change to x̂0 (J v) still moved between the search space at about half its
   * size and now, under the same null space. (The vector itself can still turn within J's near-null space, which
   * changes nothing the user sees.)
   */
  convergenceDeg: number[];
  /** Leading directions converged below the tolerance. */
  found: number;
  toleranceDeg: number;
  /** Per direction, the others whose inside energies are within 2 % of the top one's (only their span is defined). */
  tiedWith: number[][];
  /** Where the directions live: the region's values (and halo), solved exactly there, or all of R^D. */
  support: LocalSupport;
  /** How many values that is (D for free directions). */
  supportSize: number;
  nullSpaceRank: number;
  rankChosenBy: 'energy' | 'user';
  energyThreshold: number;
  /** Share of the outside operator's energy in the search space carried by the projected-out directions. */
  explainedEnergy: number;
  /** Top singular values of (I − M)J in the search space (up to 32): the spectrum R was chosen from. */
  outsideSpectrum: number[];
  /** Skew share ‖(H − Hᵀ)/2‖/‖H‖ of H = Vᵀ J V on the search space: what the symmetric stand-in for Jᵀ drops. */
  asymmetry: number;
  forwardPasses: number;
  budget: number;
  calls: number;
  spaceSize: number;
  seconds: number;
}

/**
 * Region weights per value of an image (C·H·W) from a mask of H·W weights,
 * all channels alike. Refuses a mask of the wrong size, values outside
 * [0, 1], or an empty one.
 */
export function regionWeights(mask: ArrayLike<number>, image: { channels: number; height: number; width: number }): Float64Array {
  const plane = image.height * image.width;
  if (mask.length !== plane) {
    throw new PainterError('BAD_ARGUMENT', `The region mask has ${mask.length} values; this model's images need ${image.height}×${image.width} = ${plane}.`, { length: mask.length, expected: plane });
  }
  let total = 0;
  for (let p = 0; p < plane; p++) {
    const value = mask[p]!;
    if (!(value >= 0 && value <= 1)) throw new PainterError('BAD_ARGUMENT', `Region mask values must be from 0 to 1; pixel ${p} is ${value}.`, { pixel: p, value });
    total += value;
  }
  if (total === 0) {
    throw new PainterError('BAD_ARGUMENT', 'The region is empty: paint the part of the image that should change (a mask of all zeros leaves nothing to vary).', { painted: 0 });
  }
  const weights = new Float64Array(image.channels * plane);
  for (let c = 0; c < image.channels; c++) for (let p = 0; p < plane; p++) weights[c * plane + p] = mask[p]!;
  return weights;
}

/** The free search starts with the region's pixels and those within this many pixels of it. */
const REGION_HALO = 2;

/** Indices (into C·H·W) of the values within `halo` pixels (Chebyshev distance) of the region, every channel. */
function regionPixels(weights: Float64Array, image: { channels: number; height: number; width: number }, halo: number): number[] {
  const { channels, height, width } = image;
  const plane = height * width;
  const out: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let near = false;
      for (let dy = -halo; dy <= halo && !near; dy++) {
        for (let dx = -halo; dx <= halo && !near; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < height && xx >= 0 && xx < width && weights[yy * width + xx]! > 0) near = true;
        }
      }
      if (near) for (let c = 0; c < channels; c++) out.push(c * plane + y * width + x);
    }
  }
  return out;
}

interface Chain {
  weights: Float64Array;
  /** J y for the chain's latest block, rows [count][D]. */
  images: Float64Array;
  count: number;
}

/** W ⊙ (J y) for each row of a chain, leaving out rows that vanish. */
function maskedRows(chain: Chain, dim: number): { rows: Float64Array; count: number } {
  const rows = new Float64Array(chain.count * dim);
  let kept = 0;
  for (let r = 0; r < chain.count; r++) {
    let any = false;
    for (let i = 0; i < dim; i++) {
      const value = chain.weights[i]! * chain.images[r * dim + i]!;
      rows[kept * dim + i] = value;
      if (value !== 0) any = true;
    }
    if (any) kept++;
  }
  return { rows: rows.subarray(0, kept * dim), count: kept };
}

function concatRows(parts: ReadonlyArray<{ rows: Float64Array; count: number }>, dim: number): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.count, 0) * dim);
  let offset = 0;
  for (const part of parts) {
    out.set(part.rows.subarray(0, part.count * dim), offset);
    offset += part.count * dim;
  }
  return out;
}

/** Local directions for the region `weights` (regionWeights) at state x, σ: see the file comment. */
export async function localDirections(
  denoiser: Denoiser,
  x: Float32Array,
  sigma: number,
  run: ResolvedRunSettings,
  weights: Float64Array,
  options: LocalSearchOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<LocalDirections> {
  const started = performance.now();
  const dim = denoiser.dim;
  const { k, budget } = options;
  const toleranceDeg = options.toleranceDeg ?? DEFAULT_TOLERANCE_DEG;
  const blockSize = Math.min(options.blockSize, dim);
  if (weights.length !== dim) throw new PainterError('INTERNAL', `Region weights have ${weights.length} values for D = ${dim}.`);
  if (!Number.isInteger(k) || k < 1 || k > dim) throw new PainterError('BAD_ARGUMENT', `k must be an integer from 1 to ${dim}; got ${k}.`, { k });
  if (!(budget >= 2 * blockSize)) throw new PainterError('BAD_ARGUMENT', `A budget of ${budget} forward passes cannot fill one block of ${blockSize} (2 per vector).`, { budget, blockSize });
  if (options.nullSpaceRank !== undefined && !(Number.isInteger(options.nullSpaceRank) && options.nullSpaceRank >= 0 && options.nullSpaceRank <= dim)) {
    throw new PainterError('BAD_ARGUMENT', `The null-space rank must be an integer from 0 to ${dim}; got ${options.nullSpaceRank}.`);
  }
  const halo = options.halo ?? 0;
  if (!(Number.isInteger(halo) && halo >= 0)) throw new PainterError('BAD_ARGUMENT', `The halo must be a whole number of pixels; got ${halo}.`, { halo });
  const supportPixels = options.support === 'free' ? [] : regionPixels(weights, denoiser.image, halo);
  if (options.support === 'region' && 2 * supportPixels.length > budget) {
    throw new PainterError('BAD_ARGUMENT', `The region covers ${supportPixels.length} values, which needs ${2 * supportPixels.length} forward passes; the budget is ${budget}.`, { values: supportPixels.length, budget });
  }
  const restricted = options.support !== 'free' && 2 * supportPixels.length <= budget;
  const threshold = options.energyThreshold ?? defaultEnergyThreshold(restricted ? 'region' : 'free');
  if (!(threshold > 0 && threshold <= 1)) throw new PainterError('BAD_ARGUMENT', `The energy threshold must be in (0, 1]; got ${threshold}.`);

  const outsideWeights = Float64Array.from(weights, (w) => 1 - w);
  const counter: PassCounter = { images: 0, calls: 0 };
  const operator = denoiserJacobianOperator(denoiser, x, sigma, run, fdStepAt(options, sigma), options.maxBatch, counter);
  const basis = new ProductBasis(dim, Math.min(dim, Math.floor(budget / 2)));
  const outside = new IncrementalGram(basis, 'images', 'images', outsideWeights);
  const checkpoints: number[] = [];
  const wanted = Math.min(k + EXTRA, dim);
  let nextCheck = Math.max(k, 2 * blockSize, 4);
  const state: { estimate: LocalEstimate | null; angles: number[]; checkedAt: number } = { estimate: null, angles: [], checkedAt: -1 };
  const problemAt = (m: number): LocalProblem => ({ basis, m, ...regionRows(basis, weights, m), outside: outside.matrix(m) });

  const room = (): number => Math.floor((budget - counter.images) / 2);
  /** JVPs of `count` rows, as many as the budget allows; adds them to the space; returns the raw products of the ones evaluated. */
  const evaluate = async (rows: Float64Array, count: number): Promise<{ products: Float64Array; count: number }> => {
    const n = Math.min(count, room(), dim - basis.size);
    if (n < 1) return { products: new Float64Array(0), count: 0 };
    // Unit vectors into the finite difference (a short masked vector would drown in its rounding), rescaled after: J is linear.
    const unit = Float64Array.from(rows.subarray(0, n * dim));
    const norms = Array.from({ length: n }, (_, r) => Math.hypot(...unit.subarray(r * dim, (r + 1) * dim)) || 1);
    for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) unit[r * dim + i]! /= norms[r]!;
    const products = await operator(unit, n);
    for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) products[r * dim + i]! *= norms[r]!;
    basis.add(rows, products, n);
    onProgress?.(counter.images, restricted ? 2 * supportPixels.length : budget); // region support: exactly that many passes
    return { products, count: n };
  };
  /** The unit vectors of these values (indices into C·H·W), into the space in batches of 64. */
  const evaluatePixels = async (pixels: number[]): Promise<void> => {
    for (let from = 0; from < pixels.length; from += 64) {
      const chunk = pixels.slice(from, from + 64);
      const rows = new Float64Array(chunk.length * dim);
      chunk.forEach((pixel, r) => (rows[r * dim + pixel] = 1));
      await evaluate(rows, chunk.length);
    }
  };
  const checkpoint = (): boolean => {
    const m = basis.size;
    const problem = problemAt(m);
    const next = localEstimate(problem, wanted, threshold, options.nullSpaceRank);
    const shown = Math.min(k, next.count);
    // The estimate from the space at about half this size, with the same null space: how much the directions still move.
    const half = checkpoints.filter((size) => size <= m / 2).pop();
    let angles: number[];
    if (m >= dim || restricted) angles = new Array<number>(shown).fill(0); // the whole of the allowed space: exact
    else if (half === undefined) angles = new Array<number>(shown).fill(Number.NaN);
    else {
      const earlier = smallerSpaceImages(problem, half, next.nullColumns, next.rank, wanted);
      // What the user sees of a direction is the change it makes to x̂0, J v: its convergence is that change's angle.
      angles = groupAngles(next.images, shown, earlier.images, earlier.count, tiedGroups(next.eigenvalues, shown, LOCAL_TIE_SHARE), dim);
    }
    checkpoints.push(m);
    state.estimate = next;
    state.angles = angles;
    state.checkedAt = m;
    nextCheck = Math.ceil(m * CHECK_GROWTH);
    return shown >= k && convergedPrefix(angles, toleranceDeg) >= k;
  };

  if (restricted) await evaluatePixels(supportPixels);
  // Two Krylov chains share one space: J(M J y) for the region, J((I − M) J y) for the rest.
  // The outside chain gets twice the block: its top-R space (R of order tens) is the larger problem.
  const start = startBlock(dim, Math.min(2 * blockSize, dim), options.seed);
  const first = restricted ? { products: new Float64Array(0), count: 0 } : await evaluate(start.rows, start.count);
  if (!restricted && (options.seedRegion ?? true)) {
    // Every pixel of the region and a halo around it joins the space at once: the inside problem is then solved
    // exactly there (a local direction lives mostly there), and only the outside's null space is left to converge.
    const pixels = regionPixels(weights, denoiser.image, REGION_HALO);
    if (2 * pixels.length <= budget / 4) await evaluatePixels(pixels);
  }
  let chains: Chain[] = [
    { weights, images: first.products.subarray(0, Math.min(blockSize, first.count) * dim), count: Math.min(blockSize, first.count) },
    { weights: outsideWeights, images: first.products, count: first.count },
  ];
  while (!restricted && basis.size < dim && room() >= 1) {
    // Masked intermediates U = W J y (all zero for the outside of a whole-image region); their JVPs J U are the Krylov step.
    const intermediates = chains.map((chain) => maskedRows(chain, dim));
    const step = await evaluate(concatRows(intermediates, dim), intermediates.reduce((n, u) => n + u.count, 0));
    if (step.count === 0) break;
    // The Krylov directions J U of each chain, orthogonalised against the space; their own JVPs make them part of it.
    const blocks: Array<{ rows: Float64Array; count: number }> = [];
    let offset = 0;
    for (const u of intermediates) {
      const evaluated = Math.max(0, Math.min(u.count, step.count - offset));
      const others = blocks.reduce((n, b) => n + b.count, 0);
      const against = others === 0 ? basis.basis : concatRows([{ rows: basis.basis, count: basis.size }, ...blocks], dim);
      blocks.push(orthonormalizeRows(step.products.subarray(offset * dim, (offset + evaluated) * dim), evaluated, dim, { rows: against, count: basis.size + others }));
      offset += evaluated;
    }
    const grown = await evaluate(concatRows(blocks, dim), blocks.reduce((n, b) => n + b.count, 0));
    if ((basis.size >= nextCheck || room() < blockSize) && basis.size >= k) {
      if (checkpoint()) break;
    }
    if (grown.count === 0) break;
    const insideCount = Math.min(blocks[0]!.count, grown.count);
    chains = [
      { weights, images: grown.products.subarray(0, insideCount * dim), count: insideCount },
      { weights: outsideWeights, images: grown.products.subarray(insideCount * dim, grown.count * dim), count: grown.count - insideCount },
    ];
  }
  if (state.checkedAt !== basis.size || state.estimate === null) checkpoint();
  const final = state.estimate!;
  const angles = state.angles;
  const m = basis.size;
  const unconstrained = unconstrainedEstimate(problemAt(m), Math.min(k, final.count), final.nullColumns, final.rank);
  // What standing in J for Jᵀ drops: the skew share of H = Vᵀ J V on the whole search space.
  const hm = new IncrementalGram(basis, 'rows', 'images').matrix(m);
  let skew = 0;
  let total = 0;
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) {
      skew += (hm[p * m + q]! - hm[q * m + p]!) ** 2;
      total += hm[p * m + q]! ** 2;
    }
  }
  const shown = Math.min(k, final.count);
  const groups = tiedGroups(final.eigenvalues, shown, LOCAL_TIE_SHARE);
  return {
    directions: Float32Array.from(final.directions.subarray(0, shown * dim)),
    strengths: final.strengths.slice(0, shown),
    insideShare: final.insideShare.slice(0, shown),
    unconstrained: {
      directions: Float32Array.from(unconstrained.directions.subarray(0, shown * dim)),
      eigenvalues: unconstrained.eigenvalues.slice(0, shown),
      insideShare: unconstrained.insideShare.slice(0, shown),
    },
    projectedInsideShare: unconstrained.projectedShare.slice(0, shown),
    convergenceDeg: angles.slice(0, shown),
    // Tolerance 0: a fixed budget, no convergence test — every direction counts.
    found: toleranceDeg > 0 ? Math.min(shown, convergedPrefix(angles, toleranceDeg)) : shown,
    toleranceDeg,
    tiedWith: groups.map((group, j) => group.filter((i) => i !== j && i < shown)),
    support: restricted ? 'region' : 'free',
    supportSize: restricted ? supportPixels.length : dim,
    nullSpaceRank: final.rank,
    rankChosenBy: options.nullSpaceRank !== undefined ? 'user' : 'energy',
    energyThreshold: threshold,
    explainedEnergy: final.explainedEnergy,
    outsideSpectrum: final.outsideSpectrum,
    asymmetry: total === 0 ? 0 : Math.sqrt(skew / total) / 2,
    forwardPasses: counter.images,
    budget,
    calls: counter.calls,
    spaceSize: m,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Per cell, the share of the final image's squared change (against the run's own final image) inside the
 * region, weighted by the region's soft mask; null where nothing changed (amplitude 0).
 */
export function insideShares(images: Float32Array, final: ArrayLike<number>, weights: Float64Array, cells: number): Array<number | null> {
  const dim = weights.length;
  return Array.from({ length: cells }, (_, c) => {
    let inside = 0;
    let total = 0;
    for (let i = 0; i < dim; i++) {
      const change = (images[c * dim + i]! - final[i]!) ** 2;
      inside += weights[i]! * change;
      total += change;
    }
    return total > 0 ? inside / total : null;
  });
}
