/**
 * `npm run bench:samplers`: how close every sampler × schedule pair the studio
 * offers comes to the exact answer (issue 13 part 1), measured in one run.
 * Not a gate.
 *
 * On the Fashion-MNIST Gaussian, each cell is "run (closed form)":
 * - Euler, Heun: relative RMS of the final image from the closed-form
 *   probability-flow endpoint of the same x_T, ‖x − x*‖ / ‖x* − μ‖, over 8
 *   seeds, beside the closed-form expectation over x_T
 *   (engine/sampler-accuracy.ts);
 * - DDPM (ancestral): the relative 2-Wasserstein distance of its samples' law
 *   from the Gaussian, √(Σ_k (√V_k − √λ_k)² / Σ_k λ_k), from 2,000 real
 *   samples per cell. They are drawn from the same Gaussian turned into its
 *   eigenbasis (a rotation: every sampler step commutes with it, and the
 *   distance is rotation-invariant), where the denoiser costs O(D) instead of
 *   O(D²); V_k is the sample variance, and the sampling noise's bias
 *   E(√V̂ − √V)² ≈ V/2N is subtracted.
 *
 * Rows: each schedule's default grid (linear: linspace; cosine and EDM: the
 * tuned grids), and the grids a manifest may still choose (before: karras).
 * Then a model that is not Gaussian, the 10-class mixture fashion-mnist-gmm
 * (EDM): Euler and Heun endpoints against a 1,000-step Heun run from the
 * same x_T, karras against tuned.
 */
import { join, resolve } from 'node:path';
import type { SamplerName } from '../electron/api/contract';
import { AnalyticDenoiser } from '../electron/engine/denoisers/analytic';
import type { Denoiser } from '../electron/engine/denoisers/types';
import type { AnalyticManifest, ScheduleSpec } from '../electron/engine/manifest';
import { readManifest } from '../electron/engine/models';
import { gaussianSpectrum, scheduleAccuracy } from '../electron/engine/sampler-accuracy';
import { initialNoise, sample } from '../electron/engine/samplers';
import { KarrasSchedule, scheduleFromSpec, type NoiseSchedule } from '../electron/engine/schedules';

const ROOT = resolve(__dirname, '..', '..');
const STEPS = [10, 20, 50, 100, 200];
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7];
const ANCESTRAL_SAMPLES = 2000;
const SAMPLERS: readonly SamplerName[] = ['euler', 'heun', 'ddpm'];

const SCHEDULES: Array<[string, ScheduleSpec, boolean]> = [
  ['linear (linspace)', { type: 'vp-linear', timesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }, false],
  ['cosine (tuned)', { type: 'vp-cosine', timesteps: 1000 }, false],
  ['cosine cont. (tuned)', { type: 'vp-cosine', timesteps: 1000 }, true],
  ['edm (tuned)', { type: 'edm', sigmaMin: 0.002, sigmaMax: 80 }, false],
  ['cosine (karras)', { type: 'vp-cosine', timesteps: 1000, spacing: 'karras' }, false],
  ['edm (karras ρ = 7)', { type: 'edm', sigmaMin: 0.002, sigmaMax: 80, rho: 7 }, false],
  ['cosine (linspace)', { type: 'vp-cosine', timesteps: 1000, spacing: 'linspace' }, false],
];

async function measuredEndpointError(denoiser: AnalyticDenoiser, schedule: NoiseSchedule, sampler: 'euler' | 'heun', steps: number): Promise<number> {
  const gaussian = denoiser.gaussian!;
  const dim = gaussian.dim;
  const walker = denoiser.withSchedule(schedule);
  const sigmas = schedule.samplingSigmas(steps, sampler);
  const run = await sample({ denoiser: walker, sampler, sigmas, seeds: SEEDS });
  let error = 0;
  let size = 0;
  SEEDS.forEach((seed, b) => {
    const exact = gaussian.closedFormTrajectory(initialNoise(walker, seed, sigmas[0]!), sigmas[0]!, [0]);
    const offset = (steps * SEEDS.length + b) * dim;
    for (let i = 0; i < dim; i++) {
      error += (run.states[offset + i]! - exact[i]!) ** 2;
      size += (exact[i]! - gaussian.mean[i]!) ** 2;
    }
  });
  return Math.sqrt(error / size);
}

/** The zero-mean Gaussian with variances λ_k along the coordinate axes: D(x, σ)_k = λ_k/(λ_k + σ²) x_k. */
function eigenbasisGaussian(spectrum: Float64Array, schedule: NoiseSchedule): Denoiser {
  const dim = spectrum.length;
  return {
    image: { channels: 1, height: 1, width: dim, range: [-1, 1] },
    dim,
    schedule,
    provider: 'analytic',
    classes: null,
    unconditional: true,
    async denoise(x: Float32Array, sigmas: ArrayLike<number>): Promise<Float32Array> {
      const out = new Float32Array(x.length);
      for (let b = 0; b < x.length / dim; b++) {
        const s2 = sigmas[b]! * sigmas[b]!;
        for (let k = 0; k < dim; k++) out[b * dim + k] = (spectrum[k]! / (spectrum[k]! + s2)) * x[b * dim + k]!;
      }
      return out;
    },
    async dispose(): Promise<void> {},
  };
}

/** Relative 2-Wasserstein distance of ANCESTRAL_SAMPLES real ancestral samples from N(0, diag λ), bias-corrected. */
async function measuredDistributionError(spectrum: Float64Array, schedule: NoiseSchedule, steps: number): Promise<number> {
  const dim = spectrum.length;
  const denoiser = eigenbasisGaussian(spectrum, schedule);
  const sigmas = schedule.samplingSigmas(steps, 'ddpm');
  const sum = new Float64Array(dim);
  const squares = new Float64Array(dim);
  const batch = 100; // every state is recorded: 100 trajectories × 201 states × D floats at a time
  for (let start = 0; start < ANCESTRAL_SAMPLES; start += batch) {
    const seeds = Array.from({ length: batch }, (_, i) => 10_000 + start + i);
    const run = await sample({ denoiser, sampler: 'ddpm', sigmas, seeds });
    const end = run.states.subarray(steps * batch * dim);
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < dim; k++) {
        const v = end[b * dim + k]!;
        sum[k]! += v;
        squares[k]! += v * v;
      }
    }
  }
  const n = ANCESTRAL_SAMPLES;
  let distance = 0;
  let size = 0;
  for (let k = 0; k < dim; k++) {
    const lambda = Math.max(spectrum[k]!, 0);
    const variance = (squares[k]! - (sum[k]! * sum[k]!) / n) / (n - 1);
    distance += (Math.sqrt(variance) - Math.sqrt(lambda)) ** 2 - variance / (2 * n);
    size += lambda;
  }
  return Math.sqrt(Math.max(distance, 0) / size);
}

/** Endpoint error of `sampler` on `schedule` against a reference run from the same x_T, over SEEDS. */
async function endpointAgainst(denoiser: Denoiser, reference: Float32Array, schedule: NoiseSchedule, sampler: 'euler' | 'heun', steps: number): Promise<number> {
  const dim = denoiser.dim;
  // Both grids start at the same σ_max, so the same seeds give the same x_T as the reference's.
  const sigmas = schedule.samplingSigmas(steps, sampler);
  const run = await sample({ denoiser, sampler, sigmas, seeds: SEEDS });
  const end = run.states.subarray(steps * SEEDS.length * dim);
  let error = 0;
  let size = 0;
  for (let i = 0; i < end.length; i++) {
    error += (end[i]! - reference[i]!) ** 2;
    size += reference[i]! ** 2;
  }
  return Math.sqrt(error / size);
}

const percent = (value: number): string => `${(100 * value).toPrecision(3)} %`;

async function gaussianTable(rows: Array<Record<string, string | number>>): Promise<void> {
  const folder = join(ROOT, 'native-models', 'fashion-mnist-gaussian');
  const denoiser = AnalyticDenoiser.load(readManifest(folder).manifest as AnalyticManifest, folder);
  const spectrum = gaussianSpectrum(denoiser.gaussian!);
  console.log(`Fashion-MNIST Gaussian, steps ${STEPS.join(' / ')}: run (closed form)`);
  for (const [name, spec, continuous] of SCHEDULES) {
    const schedule = scheduleFromSpec(spec, continuous);
    for (const sampler of SAMPLERS) {
      const cells: string[] = [];
      for (const steps of STEPS) {
        const predicted = scheduleAccuracy(schedule, sampler, steps, spectrum).relativeError;
        const measured = sampler === 'ddpm' ? await measuredDistributionError(spectrum, schedule, steps) : await measuredEndpointError(denoiser, schedule, sampler, steps);
        cells.push(`${percent(measured)} (${percent(predicted)})`);
        rows.push({ model: 'fashion-mnist-gaussian', schedule: name, sampler, steps, closedForm: predicted, run: measured });
      }
      console.log(`${name.padEnd(21)} ${sampler.padEnd(5)} ${cells.map((c) => c.padEnd(22)).join('')}`);
    }
  }
  console.log(`Euler/Heun: endpoint error over ${SEEDS.length} seeds; ddpm: distribution error of ${ANCESTRAL_SAMPLES} samples (bias-corrected)\n`);
}

async function mixtureTable(rows: Array<Record<string, string | number>>): Promise<void> {
  const folder = join(ROOT, 'native-models', 'fashion-mnist-gmm');
  const manifest = readManifest(folder).manifest as AnalyticManifest;
  const base = AnalyticDenoiser.load(manifest, folder);
  const steps = [10, 20, 50];
  console.log(`fashion-mnist-gmm (not Gaussian), endpoint error against 1,000 Heun steps, ${SEEDS.length} seeds, steps ${steps.join(' / ')}`);
  const grids: Array<[string, NoiseSchedule]> = [
    ['karras ρ = 7', new KarrasSchedule(manifest.sigmaMin, manifest.sigmaMax, 7, 'karras')],
    ['tuned', new KarrasSchedule(manifest.sigmaMin, manifest.sigmaMax, 7, 'tuned')],
  ];
  const referenceSchedule = new KarrasSchedule(manifest.sigmaMin, manifest.sigmaMax, 7, 'karras');
  const referenceSigmas = referenceSchedule.samplingSigmas(1000, 'heun');
  const referenceDenoiser = base.withSchedule(referenceSchedule);
  const referenceRun = await sample({ denoiser: referenceDenoiser, sampler: 'heun', sigmas: referenceSigmas, seeds: SEEDS });
  const reference = referenceRun.states.slice(1000 * SEEDS.length * base.dim);
  for (const sampler of ['euler', 'heun'] as const) {
    for (const [name, schedule] of grids) {
      const cells: string[] = [];
      for (const n of steps) {
        const error = await endpointAgainst(base.withSchedule(schedule), reference, schedule, sampler, n);
        cells.push(percent(error));
        rows.push({ model: 'fashion-mnist-gmm', schedule: `edm (${name})`, sampler, steps: n, run: error });
      }
      console.log(`${name.padEnd(21)} ${sampler.padEnd(5)} ${cells.map((c) => c.padEnd(12)).join('')}`);
    }
  }
}

async function main(): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  await gaussianTable(rows);
  await mixtureTable(rows);
  console.log(JSON.stringify({ bench: 'sampler-accuracy', rows }));
}

void main();
