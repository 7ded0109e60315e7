/**
 * How well the Gaussian (and the mixture, delta and local patch) models
 * describe a network (DESIGN.md §3 rows 3 and 9): the score explained variance
 *   EV(σ) = 1 − E‖D_nn − D_ref‖² / E‖D_nn − x‖²,  x = data + σ·noise (σ form),
 * and the median over probe images of
 *   r²(σ) = 1 − ‖D_nn − D_ref‖² / ‖D_nn − mean(D_nn)‖²  (per image, over its pixels),
 * on a σ grid; and the per-step distance between the network's trajectory and
 * the closed-form Gaussian trajectory from the same x_T.
 * @see Wang & Vastola 2024, arXiv 2412.09726, §3 (explained variance of the score by the Gaussian model)
 * @see Kamb & Ganguli 2025, "An analytic theory of creativity in convolutional diffusion models" (median r² of the local model)
 */
import type { GaussianModel } from '../denoisers/gaussian';
import type { DenoiseCondition, Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import { Random } from '../rng';
import { columnMeanSd, meanSd, median, rSquared, type MeanSd } from './linalg';
import {
  conditionFor,
  effectiveSigma,
  pickStates,
  ProgressMeter,
  resolveRunSettings,
  sampleBatch,
  stackStates,
  vpView,
  type AnalysisContext,
  type ResolvedRunSettings,
  type RunSettings,
} from './context';

/** A model compared with the network: anything that denoises in σ form. */
export interface ReferenceModel {
  name: string;
  /** What kind of model it is (gaussian, gmm, delta, local), for labels and charts. */
  kind?: string;
  denoise(x: Float32Array, sigmas: ArrayLike<number>, condition?: DenoiseCondition): Promise<Float32Array> | Float32Array;
}

export interface AgreementOptions extends RunSettings {
  /** Noise levels (σ form) of the EV grid; default 0.02 … 50, clipped to the model's range. */
  evSigmas?: readonly number[];
  /** Probe data images [N·D] (training images, in the model's pixel range). */
  probes: Float32Array;
  /** Where the probes came from, echoed in the settings. */
  probeSource?: string;
}

export interface AgreementResult {
  analysis: 'agreement';
  settings: ResolvedRunSettings & { evSigmas: number[]; probes: number; probeSource: string; references: string[] };
  ev: {
    /** σ the network actually evaluated at (a discrete VP network snaps to its timesteps). */
    sigmas: number[];
    /**
     * Per reference model: EV(σ) and the median r²(σ) over the probes, each
     * mean ± sd over the seeds' noise draws.
     */
    references: Array<{ name: string; kind: string; ev: MeanSd[]; r2: MeanSd[] }>;
  };
  trajectory: {
    sigmas: number[];
    /** RMS per pixel of x_t(network) − x_t(Gaussian closed form), VP view. */
    stateDistance: MeanSd[];
    /** Same, relative to ‖x_t(Gaussian)‖. */
    stateRelative: MeanSd[];
    /** RMS per pixel of x̂0(network) − x̂0(Gaussian), each along its own trajectory. */
    x0Distance: MeanSd[];
    /** Same, relative to ‖x̂0(Gaussian) − μ‖. */
    x0Relative: MeanSd[];
  };
  /** First seed at a few states: the network's x̂0 and the Gaussian's, [pick][D] each. */
  example: { states: number[]; network: Float32Array; gaussian: Float32Array };
  /**
   * The first probe image with the first seed's noise at every σ of the EV
   * grid: the noisy input, the network's x̂0 and each reference's, [σ][D] each.
   */
  probeExample: { sigmas: number[]; rows: Array<{ name: string; images: Float32Array }> };
}

export const NOISE_PROBE_STREAM = 0x5e1f;

export function defaultEvSigmas(denoiser: Denoiser): number[] {
  const grid = [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50];
  const { sigmaMin, sigmaMax } = denoiser.schedule;
  return grid.filter((s) => s >= sigmaMin * 0.999 && s <= sigmaMax * 1.001);
}

/**
 * EV and median r² of each reference at one σ for one batch of probe points;
 * `keep` receives the first image's x̂0 of the network (index 0) and of each reference.
 */
async function explainedVariances(
  network: Denoiser,
  references: readonly ReferenceModel[],
  x: Float32Array,
  sigma: number,
  condition: DenoiseCondition,
  meter: ProgressMeter,
  keep?: (row: number, image: Float32Array) => void,
): Promise<Array<{ ev: number; r2: number }>> {
  const dim = network.dim;
  const batch = x.length / dim;
  const sigmas = new Float64Array(batch).fill(sigma);
  const dNet = await network.denoise(x, sigmas, condition);
  keep?.(0, dNet.subarray(0, dim));
  let scoreNorm = 0;
  for (let i = 0; i < x.length; i++) scoreNorm += (dNet[i]! - x[i]!) ** 2;
  const out: Array<{ ev: number; r2: number }> = [];
  for (const reference of references) {
    const dRef = await reference.denoise(x, sigmas, condition);
    keep?.(out.length + 1, dRef.subarray(0, dim));
    await meter.breathe();
    let error = 0;
    for (let i = 0; i < x.length; i++) error += (dNet[i]! - dRef[i]!) ** 2;
    const r2 = Array.from({ length: batch }, (_, b) => rSquared(dNet, dRef, b * dim, dim));
    out.push({ ev: 1 - error / scoreNorm, r2: median(r2) });
  }
  return out;
}

export async function agreementAnalysis(
  network: Denoiser,
  gaussian: GaussianModel,
  references: readonly ReferenceModel[],
  options: AgreementOptions,
  context: AnalysisContext = {},
): Promise<AgreementResult> {
  const run = resolveRunSettings(options, network);
  const dim = network.dim;
  if (gaussian.dim !== dim) throw new PainterError('BAD_ARGUMENT', `The Gaussian model has D = ${gaussian.dim}; the network has D = ${dim}.`);
  const probeCount = options.probes.length / dim;
  if (!Number.isInteger(probeCount) || probeCount < 1) {
    throw new PainterError('BAD_ARGUMENT', `Probe images must be a positive multiple of D = ${dim} values; got ${options.probes.length}.`);
  }
  const requested = options.evSigmas ?? defaultEvSigmas(network);
  if (requested.length === 0 || requested.some((s) => !(s > 0))) throw new PainterError('BAD_ARGUMENT', 'The EV σ grid needs positive noise levels.');
  const evSigmas = requested.map((s) => effectiveSigma(network, s));
  const allReferences: ReferenceModel[] = [{ name: 'gaussian', kind: 'gaussian', denoise: (x, s) => gaussian.denoise(x, s) }, ...references];

  const meter = new ProgressMeter(context, run.seeds.length * evSigmas.length + run.steps + run.seeds.length);
  const condition = conditionFor(run, probeCount);
  // perReference[r][seed][σ]
  const perReference: number[][][] = allReferences.map(() => []);
  const r2PerReference: number[][][] = allReferences.map(() => []);
  const probeRows = ['noisy input', 'network', ...allReferences.map((r) => r.name)].map((name) => ({ name, images: new Float32Array(evSigmas.length * dim) }));
  for (const seed of run.seeds) {
    const random = new Random(seed, NOISE_PROBE_STREAM);
    const noise = random.fillNormal(new Float32Array(options.probes.length));
    const rows: number[][] = allReferences.map(() => []);
    const r2Rows: number[][] = allReferences.map(() => []);
    for (const [s, sigma] of evSigmas.entries()) {
      const x = new Float32Array(options.probes.length);
      for (let i = 0; i < x.length; i++) x[i] = options.probes[i]! + sigma * noise[i]!;
      const keep = seed === run.seeds[0] ? (row: number, image: Float32Array): void => probeRows[row + 1]!.images.set(image, s * dim) : undefined;
      if (keep) probeRows[0]!.images.set(x.subarray(0, dim), s * dim);
      const values = await explainedVariances(network, allReferences, x, sigma, condition, meter, keep);
      values.forEach((v, r) => {
        rows[r]!.push(v.ev);
        r2Rows[r]!.push(v.r2);
      });
      await meter.step(1, `EV and r² at σ = ${sigma.toPrecision(3)} (seed ${seed})`);
    }
    rows.forEach((row, r) => perReference[r]!.push(row));
    r2Rows.forEach((row, r) => r2PerReference[r]!.push(row));
  }

  const trajectory = await sampleBatch(network, run, run.seeds, meter, 'network trajectories', context);
  const sigmas = trajectory.sigmas;
  const count = sigmas.length;
  const batch = run.seeds.length;
  const picks = pickStates(count, 8);
  const example = { states: picks, network: stackStates(trajectory.x0Hat, trajectory, 0, picks), gaussian: new Float32Array(picks.length * dim) };
  const columns = { stateDistance: [] as number[][], stateRelative: [] as number[][], x0Distance: [] as number[][], x0Relative: [] as number[][] };
  for (let b = 0; b < batch; b++) {
    const start = trajectory.states.subarray(b * dim, (b + 1) * dim);
    const closed = gaussian.closedFormTrajectory(start, sigmas[0]!, sigmas);
    const rows = { stateDistance: [] as number[], stateRelative: [] as number[], x0Distance: [] as number[], x0Relative: [] as number[] };
    for (let j = 0; j < count; j++) {
      const sigma = sigmas[j]!;
      const closedState = closed.subarray(j * dim, (j + 1) * dim);
      const closedX0 = sigma === 0 ? closedState : gaussian.denoise(closedState, [sigma]);
      if (b === 0 && picks.includes(j)) example.gaussian.set(closedX0, picks.indexOf(j) * dim);
      const offset = (j * batch + b) * dim;
      const { alpha } = vpView(sigma);
      let stateError = 0;
      let stateSize = 0;
      let x0Error = 0;
      let x0Size = 0;
      for (let i = 0; i < dim; i++) {
        stateError += (alpha * (trajectory.states[offset + i]! - closedState[i]!)) ** 2;
        stateSize += (alpha * closedState[i]!) ** 2;
        x0Error += (trajectory.x0Hat[offset + i]! - closedX0[i]!) ** 2;
        x0Size += (closedX0[i]! - gaussian.mean[i]!) ** 2;
      }
      rows.stateDistance.push(Math.sqrt(stateError / dim));
      rows.stateRelative.push(Math.sqrt(stateError / (stateSize || 1)));
      rows.x0Distance.push(Math.sqrt(x0Error / dim));
      rows.x0Relative.push(Math.sqrt(x0Error / (x0Size || 1)));
    }
    columns.stateDistance.push(rows.stateDistance);
    columns.stateRelative.push(rows.stateRelative);
    columns.x0Distance.push(rows.x0Distance);
    columns.x0Relative.push(rows.x0Relative);
    await meter.step(1, `closed-form comparison of seed ${run.seeds[b]}`);
  }

  return {
    analysis: 'agreement',
    settings: {
      ...run,
      evSigmas: [...requested],
      probes: probeCount,
      probeSource: options.probeSource ?? 'given',
      references: allReferences.map((r) => r.name),
    },
    ev: {
      sigmas: evSigmas,
      references: allReferences.map((reference, r) => ({
        name: reference.name,
        kind: reference.kind ?? reference.name,
        ev: columnMeanSd(perReference[r]!),
        r2: columnMeanSd(r2PerReference[r]!),
      })),
    },
    trajectory: {
      sigmas: Array.from(sigmas),
      stateDistance: columnMeanSd(columns.stateDistance),
      stateRelative: columnMeanSd(columns.stateRelative),
      x0Distance: columnMeanSd(columns.x0Distance),
      x0Relative: columnMeanSd(columns.x0Relative),
    },
    example,
    probeExample: { sigmas: evSigmas, rows: probeRows },
  };
}

/** EV of one reference at the σ nearest `sigma` (for claims and summaries). */
export function evAt(result: AgreementResult, reference: string, sigma: number): MeanSd | null {
  const entry = result.ev.references.find((r) => r.name === reference);
  if (entry === undefined || result.ev.sigmas.length === 0) return null;
  let best = 0;
  result.ev.sigmas.forEach((s, i) => {
    if (Math.abs(Math.log(s / sigma)) < Math.abs(Math.log(result.ev.sigmas[best]! / sigma))) best = i;
  });
  return Math.abs(Math.log(result.ev.sigmas[best]! / sigma)) < Math.log(1.5) ? entry.ev[best]! : meanSd([]);
}
