/**
 * Calibrates the local patch model's patch size per noise level on a trained
 * network (Kamb & Ganguli 2025, §4: the locality scale of a convolutional
 * network shrinks as the noise falls). At each σ, held-out images plus noise
 * go through the network and through the local model at every candidate
 * patch size; the size whose x̂0 matches the network's best (median r² over
 * the probes) is kept.
 *
 *   r² = 1 − Σ_i (a_i − b_i)² / Σ_i (a_i − ā)²,  a = network x̂0, b = local x̂0, per image.
 */
import { LocalPatchModel } from '../denoisers/local';
import type { DeltaMixtureModel } from '../denoisers/mixture';
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { Random } from '../rng';
import { effectiveSigma, ProgressMeter, type AnalysisContext } from './context';
import { median, rSquared } from './linalg';

export interface LocalCalibrationOptions {
  /** The local model's training set: the first `trainingImages` images of the training set. */
  trainingImages: number;
  /** Held-out probe images, taken after the training images. */
  probes: number;
  /** Noise levels (σ form); default 11 from 0.02 to 50, within the network's range. */
  sigmas?: readonly number[];
  /** Odd patch sides to try; default 1, 3, …, 15, 19, 23, 27 and the whole image. */
  candidates?: readonly number[];
  /** 0: LS; s > 0: ELS with shifts up to s. */
  shiftWindow?: number;
  seed?: number;
}

/** What `painter calibrate-local` writes: the manifest's `local.calibration` file. */
export interface LocalCalibration {
  description: string;
  /** The network calibrated against. */
  network: string;
  /** Where the training images came from. */
  trainingSource: string;
  trainingImages: number;
  probes: number;
  shiftWindow: number;
  seed: number;
  /** σ the network evaluated at (ascending), and the chosen patch side at each. */
  sigmas: number[];
  patchSizes: number[];
  candidates: number[];
  /** Median r² over the probes, [σ][candidate]. */
  medianR2: number[][];
  /** Median r² at the chosen size, per σ. */
  bestR2: number[];
  seconds: number;
}

export const CALIBRATION_NOISE_STREAM = 0x10ca1;

export function defaultCalibrationSigmas(network: Denoiser): number[] {
  const grid = Array.from({ length: 11 }, (_, k) => 0.02 * (50 / 0.02) ** (k / 10));
  const { sigmaMin, sigmaMax } = network.schedule;
  return grid.filter((s) => s >= sigmaMin && s <= sigmaMax);
}

export function defaultCandidates(height: number, width: number): number[] {
  const whole = 2 * Math.max(height, width) - 1;
  return [...[1, 3, 5, 7, 9, 11, 13, 15, 19, 23, 27].filter((p) => p < whole), whole];
}

export async function calibrateLocalPatches(
  network: Denoiser,
  networkId: string,
  training: DeltaMixtureModel,
  trainingSource: string,
  options: LocalCalibrationOptions,
  context: AnalysisContext = {},
): Promise<LocalCalibration> {
  const started = performance.now();
  const { channels, height, width } = network.image;
  const dim = network.dim;
  if (training.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The training images have D = ${training.dim}; the network has D = ${dim}.`);
  const { trainingImages, probes } = options;
  if (!Number.isInteger(trainingImages) || trainingImages < 1 || !Number.isInteger(probes) || probes < 1 || trainingImages + probes > training.count) {
    throw new PainterError(
      'BAD_ARGUMENT',
      `Calibration needs training images and held-out probes from one set of ${training.count}: got ${trainingImages} training + ${probes} probes.`,
      { trainingImages, probes, available: training.count },
    );
  }
  const shiftWindow = options.shiftWindow ?? 0;
  const candidates = [...(options.candidates ?? defaultCandidates(height, width))];
  const requested = options.sigmas ?? defaultCalibrationSigmas(network);
  if (requested.length === 0 || requested.some((s) => !(s > 0))) throw new PainterError('BAD_ARGUMENT', 'Calibration needs positive noise levels.');
  const sigmas = [...new Set(requested.map((s) => effectiveSigma(network, s)))].sort((a, b) => a - b);
  const seed = options.seed ?? 0;
  const labels = training.labels;
  const local = new LocalPatchModel(training.images.subarray(0, trainingImages * dim), labels?.subarray(0, trainingImages) ?? null, {
    channels,
    height,
    width,
    shiftWindow,
    patchSchedule: { sigmas: [1], patchSizes: [1] },
  });
  // Probes: evenly spread over the held-out images, each with its own noise.
  const heldOut = training.count - trainingImages;
  const probeIndex = Array.from({ length: probes }, (_, k) => trainingImages + Math.floor((k * heldOut) / probes));
  const noise = new Random(seed, CALIBRATION_NOISE_STREAM).fillNormal(new Float32Array(probes * dim));
  // A class-conditional-only network gets each probe's own class; the local model then uses that class's images.
  const probeLabels = probeIndex.map((n) => (network.unconditional || labels === null ? null : labels[n]!));

  const meter = new ProgressMeter(context, sigmas.length * probes);
  const medianR2: number[][] = [];
  for (const sigma of sigmas) {
    const x = new Float32Array(probes * dim);
    probeIndex.forEach((n, k) => {
      for (let i = 0; i < dim; i++) x[k * dim + i] = training.images[n * dim + i]! + sigma * noise[k * dim + i]!;
    });
    const reference = await network.denoise(x, new Float64Array(probes).fill(sigma), { labels: probeLabels, guidance: 1 });
    const scores: number[][] = candidates.map(() => []);
    for (let k = 0; k < probes; k++) {
      const outputs = local.denoiseAtSizes(x.subarray(k * dim, (k + 1) * dim), sigma, candidates, probeLabels[k] ?? null);
      outputs.forEach((output, c) => scores[c]!.push(rSquared(reference.subarray(k * dim, (k + 1) * dim), output, 0, dim)));
      await meter.step(1, `σ = ${sigma.toPrecision(3)}: probe ${k + 1} of ${probes}`);
    }
    medianR2.push(scores.map(median));
  }
  const bestIndex = medianR2.map((row) => row.indexOf(Math.max(...row)));
  return {
    description:
      `Patch side per noise level of the local patch model (${shiftWindow === 0 ? 'LS' : `ELS, shifts up to ${shiftWindow}`}), chosen to maximise the median r² ` +
      `between its x̂0 and the network's over ${probes} held-out images plus noise (Kamb & Ganguli 2025).`,
    network: networkId,
    trainingSource,
    trainingImages,
    probes,
    shiftWindow,
    seed,
    sigmas,
    patchSizes: bestIndex.map((c) => candidates[c]!),
    candidates,
    medianR2,
    bestR2: medianR2.map((row, s) => row[bestIndex[s]!]!),
    seconds: (performance.now() - started) / 1000,
  };
}
