/**
 * `npm run bench:samplers`: how close every sampler × schedule pair the studio
 * offers comes to the exact answer on the Fashion-MNIST Gaussian (issue 13
 * part 1), measured in one run. Not a gate.
 *
 * - endpoint (Euler, Heun): relative RMS of the final image from the
 *   closed-form probability-flow endpoint of the same x_T, ‖x − x*‖ / ‖x* − μ‖,
 *   over 8 seeds ("run"), beside the closed-form expectation over x_T
 *   (engine/sampler-accuracy.ts, "closed form");
 * - distribution (ancestral): the relative 2-Wasserstein distance of its
 *   samples' law from the Gaussian, closed form only.
 */
import { join, resolve } from 'node:path';
import { AnalyticDenoiser } from '../electron/engine/denoisers/analytic';
import type { AnalyticManifest, ScheduleSpec } from '../electron/engine/manifest';
import { readManifest } from '../electron/engine/models';
import { gaussianSpectrum, scheduleAccuracy } from '../electron/engine/sampler-accuracy';
import { initialNoise, sample } from '../electron/engine/samplers';
import { scheduleFromSpec, type NoiseSchedule } from '../electron/engine/schedules';

const ROOT = resolve(__dirname, '..', '..');
const STEPS = [10, 20, 50, 100, 200];
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7];

const SCHEDULES: Array<[string, ScheduleSpec, boolean]> = [
  ['linear (linspace)', { type: 'vp-linear', timesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }, false],
  ['cosine (karras)', { type: 'vp-cosine', timesteps: 1000 }, false],
  ['cosine (linspace)', { type: 'vp-cosine', timesteps: 1000, spacing: 'linspace' }, false],
  ['cosine continuous', { type: 'vp-cosine', timesteps: 1000 }, true],
  ['edm', { type: 'edm', sigmaMin: 0.002, sigmaMax: 80 }, false],
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

const percent = (value: number): string => `${(100 * value).toPrecision(3)} %`;

async function main(): Promise<void> {
  const folder = join(ROOT, 'native-models', 'fashion-mnist-gaussian');
  const denoiser = AnalyticDenoiser.load(readManifest(folder).manifest as AnalyticManifest, folder);
  const spectrum = gaussianSpectrum(denoiser.gaussian!);
  const rows: Array<Record<string, string | number>> = [];
  for (const [name, spec, continuous] of SCHEDULES) {
    const schedule = scheduleFromSpec(spec, continuous);
    for (const sampler of ['euler', 'heun', 'ddpm'] as const) {
      const cells: string[] = [];
      for (const steps of STEPS) {
        const predicted = scheduleAccuracy(schedule, sampler, steps, spectrum).relativeError;
        const measured = sampler === 'ddpm' ? null : await measuredEndpointError(denoiser, schedule, sampler, steps);
        cells.push(measured === null ? percent(predicted) : `${percent(measured)} (${percent(predicted)})`);
        rows.push({ schedule: name, sampler, steps, closedForm: predicted, ...(measured === null ? {} : { run: measured }) });
      }
      console.log(`${name.padEnd(18)} ${sampler.padEnd(5)} ${cells.map((c) => c.padEnd(22)).join('')}`);
    }
  }
  console.log(`\nsteps: ${STEPS.join(', ')}; Euler/Heun: endpoint error over ${SEEDS.length} seeds (closed form); ddpm: distribution error (closed form)`);
  console.log(JSON.stringify({ bench: 'sampler-accuracy', rows }));
}

void main();
