/**
 * Feature emergence (DESIGN.md §2 "Commitment", §3 row 4): along a run, the
 * x̂0 component along each data principal direction u_k, relative to its final
 * value; the commitment σ where it reaches 1/√2 of that value; its rank
 * correlation with sqrt(λ_k); and the Gaussian theory curve 1/sqrt(1 + σ²/λ_k).
 * The same for an image region: the x̂0 content of the region along its final
 * content.
 * @see Wang & Vastola 2023, arXiv 2303.02490, §5 (outline first, details later)
 */
import type { GaussianModel } from '../denoisers/gaussian';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { meanSd, spearman, type MeanSd } from './linalg';
import { pickStates, ProgressMeter, resolveRunSettings, sampleBatch, stackStates, type AnalysisContext, type ResolvedRunSettings, type RunSettings } from './context';

/** A rectangle of the image (all channels), in pixels. */
export interface ImageRegion {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface EmergenceOptions extends RunSettings {
  /** How many data directions to follow (default 32). */
  directions?: number;
  /**
   * Which: `log` (default) spreads them log-uniformly over the first `maxIndex`
   * PCs (0, 1, 2, 3, 5, 8, …), so sqrt(λ_k) spans a wide range and the rank
   * test is not decided by near-equal eigenvalues; `leading` takes PCs 1…K.
   */
  spacing?: 'log' | 'leading';
  /** Largest PC index (exclusive) for log spacing (default min(rank, 256)). */
  maxIndex?: number;
  region?: ImageRegion;
}

export const COMMITMENT_LEVEL = Math.SQRT1_2;

/** `count` distinct indices in [0, limit), spread log-uniformly (dense at the top of the spectrum). */
export function logSpacedIndices(count: number, limit: number): number[] {
  if (count >= limit) return Array.from({ length: limit }, (_, i) => i);
  for (let n = count; ; n++) {
    const set = new Set(Array.from({ length: n }, (_, i) => Math.round(Math.exp((i / (n - 1)) * Math.log(limit))) - 1));
    if (set.size < count) continue;
    const sorted = [...set].sort((a, b) => a - b);
    // Too many: drop from just after the dense head (0, 1, 2, … are kept).
    while (sorted.length > count) sorted.splice(sorted.findIndex((v, i) => v !== i), 1);
    return sorted;
  }
}

export interface DirectionEmergence {
  /** 0-based index k of u_k (λ descending). */
  index: number;
  lambda: number;
  sqrtLambda: number;
  /** Commitment σ per seed, mean ± sd. */
  commitment: MeanSd;
  /** Commitment σ of the pooled curve. */
  pooledCommitment: number;
  /** Pooled ratio per state: Σ_s c_k(σ) c_k(0) / Σ_s c_k(0)² over seeds s. */
  curve: number[];
  /** Gaussian theory 1/sqrt(1 + σ²/λ_k) at the same σ. */
  theory: number[];
}

export interface EmergenceResult {
  analysis: 'emergence';
  settings: ResolvedRunSettings & { directions: number; indices: number[]; spacing: 'log' | 'leading'; region: ImageRegion | null; level: number };
  sigmas: number[];
  directions: DirectionEmergence[];
  /** Spearman correlation of commitment σ_k with sqrt(λ_k) over the directions, per seed. */
  rankCorrelation: MeanSd;
  /** The same for the pooled commitments. */
  pooledRankCorrelation: number;
  region: { curve: MeanSd[]; pooledCurve: number[]; commitment: MeanSd; pooledCommitment: number } | null;
  /** First seed's x̂0 at a few states, [pick][D]. */
  example: { states: number[]; x0Hat: Float32Array };
}

/**
 * The σ from which a ratio curve (ratio[j] at σ[j], σ descending to 0, ratio
 * → 1 at the end) stays committed, i.e. within 1 − level of 1: scanning back
 * from the end, the first state outside that band, interpolated in log σ with
 * the next one (linearly in σ when the next is σ = 0); σ[0] when the curve
 * never leaves the band. For the Gaussian the ratio rises monotonically to 1
 * and this is where it reaches `level` = 1/√2, σ_k = sqrt(λ_k); a network's
 * early x̂0 can also overshoot its final value, which counts as uncommitted.
 */
export function commitmentSigma(ratio: ArrayLike<number>, sigmas: ArrayLike<number>, level = COMMITMENT_LEVEL): number {
  const band = 1 - level;
  const last = sigmas.length - 1;
  for (let j = last - 1; j >= 0; j--) {
    const outside = Math.abs(ratio[j]! - 1);
    if (!(outside > band) && Number.isFinite(outside)) continue;
    const inside = Math.abs(ratio[j + 1]! - 1);
    const t = Number.isFinite(outside) && Number.isFinite(inside) && outside !== inside ? Math.min(1, Math.max(0, (outside - band) / (outside - inside))) : 0;
    const s0 = sigmas[j]!;
    const s1 = sigmas[j + 1]!;
    if (s1 <= 0) return s0 * (1 - t);
    return Math.exp(Math.log(s0) + t * (Math.log(s1) - Math.log(s0)));
  }
  return sigmas[0]!;
}

function checkRegion(region: ImageRegion, denoiser: Denoiser): void {
  const { height, width } = denoiser.image;
  const ok = [region.top, region.left, region.height, region.width].every(Number.isInteger) && region.top >= 0 && region.left >= 0 && region.height >= 1 && region.width >= 1;
  if (!ok || region.top + region.height > height || region.left + region.width > width) {
    throw new PainterError('BAD_ARGUMENT', `The region ${JSON.stringify(region)} does not fit the ${height}×${width} image.`, { region });
  }
}

/** A 0/1 mask of D values selecting the region in every channel. */
export function regionMask(region: ImageRegion, image: { channels: number; height: number; width: number }): Uint8Array {
  const { channels, height, width } = image;
  const mask = new Uint8Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let y = region.top; y < region.top + region.height; y++) {
      for (let x = region.left; x < region.left + region.width; x++) mask[c * height * width + y * width + x] = 1;
    }
  }
  return mask;
}

export async function emergenceAnalysis(denoiser: Denoiser, gaussian: GaussianModel, options: EmergenceOptions = {}, context: AnalysisContext = {}): Promise<EmergenceResult> {
  const run = resolveRunSettings(options, denoiser);
  const dim = denoiser.dim;
  if (gaussian.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The Gaussian model has D = ${gaussian.dim}; the model has D = ${dim}.`);
  const requested = options.directions ?? 32;
  if (!Number.isInteger(requested) || requested < 2) throw new PainterError('BAD_ARGUMENT', `Emergence needs at least 2 directions; got ${options.directions}.`);
  const spacing = options.spacing ?? 'log';
  const limit = Math.min(options.maxIndex ?? 256, gaussian.rank);
  const indices = spacing === 'log' ? logSpacedIndices(requested, limit) : Array.from({ length: Math.min(requested, gaussian.rank) }, (_, i) => i);
  const count = indices.length;
  if (options.region) checkRegion(options.region, denoiser);
  const meter = new ProgressMeter(context, run.steps + 1);
  const trajectory = await sampleBatch(denoiser, run, run.seeds, meter, 'sampling', context);
  const sigmas = Array.from(trajectory.sigmas);
  const states = sigmas.length;
  const last = states - 1;
  const batch = run.seeds.length;

  // coefficients[b][j][k] = u_kᵀ (x̂0_j − μ) for every direction (the chosen ones are picked below).
  const centred = new Float64Array(dim);
  const coefficients = Array.from({ length: batch }, (_, b) =>
    Array.from({ length: states }, (_, j) => {
      const offset = (j * batch + b) * dim;
      for (let i = 0; i < dim; i++) centred[i] = trajectory.x0Hat[offset + i]! - gaussian.mean[i]!;
      return gaussian.project(centred);
    }),
  );

  const directions: DirectionEmergence[] = [];
  const perSeedCommitment: number[][] = run.seeds.map(() => []);
  for (const k of indices) {
    const lambda = gaussian.eigvals[k]!;
    const curve = sigmas.map((_, j) => {
      let cross = 0;
      let power = 0;
      for (let b = 0; b < batch; b++) {
        const final = coefficients[b]![last]![k]!;
        cross += coefficients[b]![j]![k]! * final;
        power += final * final;
      }
      return power === 0 ? Number.NaN : cross / power;
    });
    const seedCommitments = run.seeds.map((_, b) => {
      const final = coefficients[b]![last]![k]!;
      const ratio = sigmas.map((__, j) => coefficients[b]![j]![k]! / final);
      return commitmentSigma(ratio, sigmas);
    });
    seedCommitments.forEach((value, b) => perSeedCommitment[b]!.push(value));
    directions.push({
      index: k,
      lambda,
      sqrtLambda: Math.sqrt(lambda),
      commitment: meanSd(seedCommitments),
      pooledCommitment: commitmentSigma(curve, sigmas),
      curve,
      theory: sigmas.map((s) => (lambda > 0 ? 1 / Math.sqrt(1 + (s * s) / lambda) : 0)),
    });
  }
  const sqrtLambdas = directions.map((d) => d.sqrtLambda);
  const rankCorrelation = meanSd(perSeedCommitment.map((values) => spearman(values, sqrtLambdas)));
  const pooledRankCorrelation = spearman(
    directions.map((d) => d.pooledCommitment),
    sqrtLambdas,
  );

  let region: EmergenceResult['region'] = null;
  if (options.region) {
    const mask = regionMask(options.region, denoiser.image);
    const perSeed: number[][] = [];
    const cross = new Float64Array(states);
    let power = 0;
    for (let b = 0; b < batch; b++) {
      const finalOffset = (last * batch + b) * dim;
      let finalPower = 0;
      for (let i = 0; i < dim; i++) if (mask[i]) finalPower += (trajectory.x0Hat[finalOffset + i]! - gaussian.mean[i]!) ** 2;
      const ratios = sigmas.map((_, j) => {
        const offset = (j * batch + b) * dim;
        let dot = 0;
        for (let i = 0; i < dim; i++) {
          if (mask[i]) dot += (trajectory.x0Hat[offset + i]! - gaussian.mean[i]!) * (trajectory.x0Hat[finalOffset + i]! - gaussian.mean[i]!);
        }
        cross[j]! += dot;
        return finalPower === 0 ? Number.NaN : dot / finalPower;
      });
      power += finalPower;
      perSeed.push(ratios);
    }
    const pooledCurve = Array.from(cross, (c) => (power === 0 ? Number.NaN : c / power));
    region = {
      curve: sigmas.map((_, j) => meanSd(perSeed.map((row) => row[j]!))),
      pooledCurve,
      commitment: meanSd(perSeed.map((row) => commitmentSigma(row, sigmas))),
      pooledCommitment: commitmentSigma(pooledCurve, sigmas),
    };
  }
  meter.advance(1, 'emergence curves');
  const picks = pickStates(states, 10);
  return {
    analysis: 'emergence',
    settings: { ...run, directions: count, indices, spacing, region: options.region ?? null, level: COMMITMENT_LEVEL },
    sigmas,
    directions,
    rankCorrelation,
    pooledRankCorrelation,
    region,
    example: { states: picks, x0Hat: stackStates(trajectory.x0Hat, trajectory, 0, picks) },
  };
}
