/**
 * Retrieval (DESIGN.md §2 "Delta mixture", §3 row 7): along the network's
 * trajectories and the exact delta mixture's (same x_T, same σ grid), the
 * entropy of the training-set posterior w_i ∝ exp(−‖x − y_i‖²/2σ²) and the
 * distance from x̂0 to the nearest training image, versus σ.
 */
import type { AnalyticDenoiser } from '../denoisers/analytic';
import type { DeltaMixtureModel } from '../denoisers/mixture';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { columnMeanSd, type MeanSd } from './linalg';
import { ProgressMeter, resolveRunSettings, sampleBatch, type AnalysisContext, type ResolvedRunSettings, type RunSettings } from './context';
import type { Trajectory } from '../samplers';

export interface RetrievalCurves {
  /** Posterior entropy (nats) at each state with σ > 0; the last state (σ = 0) is left out. */
  entropy: MeanSd[];
  /** RMS per pixel from x̂0 to the nearest training image, every state. */
  nearest: MeanSd[];
  /** Per seed: index of the training image nearest to the final image, and that RMS distance. */
  finalNearest: Array<{ seed: number; index: number; distance: number }>;
  /** First state where the mean entropy falls below half of ln N, its σ and position in [0, 1] (null if never). */
  collapse: { state: number; sigma: number; position: number } | null;
}

export interface RetrievalResult {
  analysis: 'retrieval';
  settings: ResolvedRunSettings & { trainingImages: number };
  sigmas: number[];
  /** ln N: the entropy of the uniform posterior (N the training images allowed by the class). */
  maxEntropy: number;
  network: RetrievalCurves;
  delta: RetrievalCurves;
  /** First seed: the network's and the delta mixture's final images and their nearest training images, [4][D]. */
  example: Float32Array;
}

/** ‖y_i‖² of every training image, float64. */
function squaredNorms(training: DeltaMixtureModel): Float64Array {
  const { dim, images, count } = training;
  const out = new Float64Array(count);
  for (let n = 0; n < count; n++) {
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += images[n * dim + i]! ** 2;
    out[n] = sum;
  }
  return out;
}

/**
 * Squared distances from one image to every training image, as
 * ‖x‖² + ‖y_i‖² − 2 x·y_i (one multiply-add per pixel; float64 keeps the
 * cancellation error near 1e-13·‖x‖², far below any distance reported).
 */
function squaredDistances(training: DeltaMixtureModel, norms: Float64Array, x: Float32Array, offset: number, out: Float64Array): void {
  const { dim, images, count } = training;
  let xx = 0;
  for (let i = 0; i < dim; i++) xx += x[offset + i]! ** 2;
  for (let n = 0; n < count; n++) {
    let dot = 0;
    const base = n * dim;
    for (let i = 0; i < dim; i++) dot += x[offset + i]! * images[base + i]!;
    out[n] = Math.max(xx + norms[n]! - 2 * dot, 0);
  }
}

function posteriorEntropy(distances: Float64Array, sigma: number, allowed: (n: number) => boolean): number {
  const scale = -0.5 / (sigma * sigma);
  let max = -Infinity;
  for (let n = 0; n < distances.length; n++) if (allowed(n)) max = Math.max(max, distances[n]! * scale);
  let sum = 0;
  let weighted = 0;
  for (let n = 0; n < distances.length; n++) {
    if (!allowed(n)) continue;
    const logit = distances[n]! * scale - max;
    const w = Math.exp(logit);
    sum += w;
    weighted += w * logit;
  }
  // H = −Σ p log p with p = w/Σw, log p = logit − log Σw.
  return Math.log(sum) - weighted / sum;
}

async function curves(trajectory: Trajectory, training: DeltaMixtureModel, seeds: readonly number[], allowed: (n: number) => boolean, maxEntropy: number, meter: ProgressMeter, label: string): Promise<RetrievalCurves> {
  const { batch, dim, sigmas } = trajectory;
  const states = sigmas.length;
  const distances = new Float64Array(training.count);
  const norms = squaredNorms(training);
  const entropy: number[][] = [];
  const nearest: number[][] = [];
  const finalNearest: RetrievalCurves['finalNearest'] = [];
  for (let b = 0; b < batch; b++) {
    const entropyRow: number[] = [];
    const nearestRow: number[] = [];
    for (let j = 0; j < states; j++) {
      await meter.breathe();
      const offset = (j * batch + b) * dim;
      if (sigmas[j]! > 0) {
        squaredDistances(training, norms, trajectory.states, offset, distances);
        entropyRow.push(posteriorEntropy(distances, sigmas[j]!, allowed));
      }
      squaredDistances(training, norms, trajectory.x0Hat, offset, distances);
      let best = -1;
      for (let n = 0; n < training.count; n++) if (allowed(n) && (best < 0 || distances[n]! < distances[best]!)) best = n;
      nearestRow.push(Math.sqrt(distances[best]! / dim));
      if (j === states - 1) finalNearest.push({ seed: seeds[b]!, index: best, distance: Math.sqrt(distances[best]! / dim) });
    }
    entropy.push(entropyRow);
    nearest.push(nearestRow);
    await meter.step(1, `${label}: seed ${seeds[b]}`);
  }
  const entropyStats = columnMeanSd(entropy);
  const index = entropyStats.findIndex((e) => e.mean < 0.5 * maxEntropy);
  return {
    entropy: entropyStats,
    nearest: columnMeanSd(nearest),
    finalNearest,
    collapse: index < 0 ? null : { state: index, sigma: sigmas[index]!, position: index / Math.max(states - 1, 1) },
  };
}

export async function retrievalAnalysis(network: Denoiser, deltaDenoiser: AnalyticDenoiser, options: RunSettings = {}, context: AnalysisContext = {}): Promise<RetrievalResult> {
  const training = deltaDenoiser.delta;
  if (training === null) throw new PainterError('BAD_ARGUMENT', `Retrieval needs a delta-mixture model (the training set); "${deltaDenoiser.manifest.id}" is a ${deltaDenoiser.manifest.kind} model.`);
  const dim = network.dim;
  if (training.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The training images have D = ${training.dim}; the model has D = ${dim}.`);
  const run = resolveRunSettings(options, network);
  const label = run.classLabel;
  if (label !== null && training.labels === null) throw new PainterError('BAD_ARGUMENT', 'The training set has no labels, so a class-conditional retrieval cannot be restricted to the class.');
  const allowed = label === null || training.labels === null ? (): boolean => true : (n: number): boolean => training.labels![n] === label;
  let allowedCount = 0;
  for (let n = 0; n < training.count; n++) if (allowed(n)) allowedCount++;
  if (allowedCount === 0) throw new PainterError('BAD_ARGUMENT', `No training image has class ${label}.`);
  const maxEntropy = Math.log(allowedCount);
  const seeds = run.seeds;
  const meter = new ProgressMeter(context, 2 * run.steps + 2 * seeds.length);
  const sigmas = network.schedule.samplingSigmas(run.steps, run.sampler);
  const nn = await sampleBatch(network, run, seeds, meter, 'network runs', context, { sigmas });
  // The exact delta mixture from the same x_T on the same σ grid (a conditional run restricts it to the class).
  const deltaRun = { ...run, guidance: 1 };
  const exact = await sampleBatch(deltaDenoiser, deltaRun, seeds, meter, 'delta-mixture runs', context, {
    sigmas,
    start: { step: 0, state: nn.states.slice(0, seeds.length * dim) },
  });
  const networkCurves = await curves(nn, training, seeds, allowed, maxEntropy, meter, 'network posterior');
  const deltaCurves = await curves(exact, training, seeds, allowed, maxEntropy, meter, 'delta posterior');
  const last = sigmas.length - 1;
  const example = new Float32Array(4 * dim);
  example.set(nn.states.subarray(last * seeds.length * dim, (last * seeds.length + 1) * dim), 0);
  example.set(training.images.subarray(networkCurves.finalNearest[0]!.index * dim, (networkCurves.finalNearest[0]!.index + 1) * dim), dim);
  example.set(exact.states.subarray(last * seeds.length * dim, (last * seeds.length + 1) * dim), 2 * dim);
  example.set(training.images.subarray(deltaCurves.finalNearest[0]!.index * dim, (deltaCurves.finalNearest[0]!.index + 1) * dim), 3 * dim);
  return {
    analysis: 'retrieval',
    settings: { ...run, trainingImages: allowedCount },
    sigmas: Array.from(sigmas),
    maxEntropy,
    network: networkCurves,
    delta: deltaCurves,
    example,
  };
}
