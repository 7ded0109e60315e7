/**
 * The samplers on every schedule, against the exact Gaussian (DESIGN.md §2):
 * float64 state precision against an independent float64 implementation, and
 * endpoint accuracy against the closed-form probability-flow solution.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SamplerName } from '../../electron/api/contract';
import { AnalyticDenoiser } from '../../electron/engine/denoisers/analytic';
import type { AnalyticManifest, ScheduleSpec } from '../../electron/engine/manifest';
import { readManifest } from '../../electron/engine/models';
import { initialNoise, sample } from '../../electron/engine/samplers';
import { ACCURACY_WARNING, accuracyWarning, directionTransfer, gaussianSpectrum, scheduleAccuracy, startVariance } from '../../electron/engine/sampler-accuracy';
import { loadAnalytic } from '../helpers/fixtures';
import { scheduleFromSpec, vpAlpha, type NoiseSchedule } from '../../electron/engine/schedules';

const FASHION = join(__dirname, '..', '..', 'native-models', 'fashion-mnist-gaussian');
const fashion = AnalyticDenoiser.load(readManifest(FASHION).manifest as AnalyticManifest, FASHION);
const gaussian = fashion.gaussian!;
const dim = gaussian.dim;

const LINEAR: ScheduleSpec = { type: 'vp-linear', timesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 };
const COSINE: ScheduleSpec = { type: 'vp-cosine', timesteps: 1000 };
const EDM: ScheduleSpec = { type: 'edm', sigmaMin: 0.002, sigmaMax: 80 };

/** D(x, σ) of the Fashion-MNIST Gaussian in float64 throughout (the stored float32 U, λ, μ read as float64). */
function denoise64(x: Float64Array, sigma: number): Float64Array {
  const { eigvecs, eigvals, mean, rank } = gaussian;
  const c = new Float64Array(rank);
  for (let i = 0; i < dim; i++) {
    const centred = x[i]! - mean[i]!;
    for (let k = 0; k < rank; k++) c[k]! += eigvecs[i * rank + k]! * centred;
  }
  for (let k = 0; k < rank; k++) c[k]! *= eigvals[k]! / (eigvals[k]! + sigma * sigma);
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let sum = mean[i]!;
    for (let k = 0; k < rank; k++) sum += eigvecs[i * rank + k]! * c[k]!;
    out[i] = sum;
  }
  return out;
}

/**
 * Euler / Heun written out again in float64, one image: the states and x̂0
 * along the grid. A jump (σ ≥ 80 and σ/σ' > 10) takes Heun's trapezoid in 1/σ.
 */
function reference64(sampler: 'euler' | 'heun', sigmas: Float64Array, start: Float64Array): { states: Float64Array[]; x0: Float64Array[] } {
  let x = Float64Array.from(start);
  const states: Float64Array[] = [];
  const x0: Float64Array[] = [];
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const sigma = sigmas[i]!;
    const next = sigmas[i + 1]!;
    const d = denoise64(x, sigma);
    states.push(x);
    x0.push(d);
    const euler = x.map((v, k) => d[k]! + (next / sigma) * (v - d[k]!));
    if (next === 0 || sampler === 'euler') {
      x = euler;
      continue;
    }
    const dTrial = denoise64(euler, next);
    x =
      sigma >= 80 && sigma > 10 * next
        ? x.map((v, k) => (next / sigma) * v + (1 - next / sigma) * 0.5 * (d[k]! + dTrial[k]!))
        : x.map((v, k) => v + (next - sigma) * 0.5 * ((v - d[k]!) / sigma + (euler[k]! - dTrial[k]!) / next));
  }
  states.push(x);
  x0.push(x);
  return { states, x0 };
}

/** ‖x − x*‖ / ‖x* − μ‖ of the endpoints, over all seeds (x* the closed-form endpoint of the same x_T). */
async function endpointError(schedule: NoiseSchedule, sampler: 'euler' | 'heun', steps: number, seeds: number[]): Promise<number> {
  const sigmas = schedule.samplingSigmas(steps, sampler);
  const run = await sample({ denoiser: fashion.withSchedule(schedule), sampler, sigmas, seeds });
  let error = 0;
  let size = 0;
  seeds.forEach((_, b) => {
    const exact = gaussian.closedFormTrajectory(initialNoise(fashion.withSchedule(schedule), seeds[b]!, sigmas[0]!), sigmas[0]!, [0]);
    const end = run.states.subarray((steps * seeds.length + b) * dim, (steps * seeds.length + b + 1) * dim);
    for (let i = 0; i < dim; i++) {
      error += (end[i]! - exact[i]!) ** 2;
      size += (exact[i]! - gaussian.mean[i]!) ** 2;
    }
  });
  return Math.sqrt(error / size);
}

describe('float64 sampler state', () => {
  // The issue measured float32 state on the cosine grid at 7.2e-5 (Euler-50) to 0.16 (Heun-20) VP units.
  for (const [label, spec] of [
    ['cosine, linspace grid (first step 20291 → 32)', { ...COSINE, spacing: 'linspace' }],
    ['cosine, default grid', COSINE],
  ] as const) {
    it(`Euler and Heun match a float64 reference at every recorded step to ≤ 5e-6 VP units (${label})`, async () => {
      const schedule = scheduleFromSpec(spec);
      const denoiser = fashion.withSchedule(schedule);
      for (const sampler of ['euler', 'heun'] as const) {
        for (const steps of [20, 50]) {
          const sigmas = schedule.samplingSigmas(steps, sampler);
          const run = await sample({ denoiser, sampler, sigmas, seeds: [3] });
          const expected = reference64(sampler, sigmas, initialNoise(denoiser, 3, sigmas[0]!));
          let worstState = 0;
          let worstX0 = 0;
          for (let j = 0; j <= steps; j++) {
            const alpha = vpAlpha(sigmas[j]!);
            for (let i = 0; i < dim; i++) {
              worstState = Math.max(worstState, alpha * Math.abs(run.states[j * dim + i]! - expected.states[j]![i]!));
              worstX0 = Math.max(worstX0, Math.abs(run.x0Hat[j * dim + i]! - expected.x0[j]![i]!));
            }
          }
          // Left: float32 rounding of the network input and output (≈ 6e-8 relative), passed on at most ×σ/σ'.
          expect(worstState, `${sampler}-${steps} x_t`).toBeLessThan(5e-6);
          expect(worstX0, `${sampler}-${steps} x̂0`).toBeLessThan(5e-6);
        }
      }
    });
  }
});

describe('sampler accuracy on every schedule (the Fashion-MNIST Gaussian)', () => {
  const spectrum = gaussianSpectrum(gaussian);
  const SAMPLERS = ['euler', 'heun', 'ddpm'] as const;
  const schedules = {
    linear: scheduleFromSpec(LINEAR),
    cosine: scheduleFromSpec(COSINE),
    'cosine, continuous time': scheduleFromSpec(COSINE, true),
    edm: scheduleFromSpec(EDM),
  };
  const relativeError = (schedule: NoiseSchedule, sampler: SamplerName, steps: number): number => scheduleAccuracy(schedule, sampler, steps, spectrum).relativeError;

  it('every sampler is at least as accurate on cosine (discrete and continuous time) and EDM as on linear, at 5 to 200 steps', () => {
    // The closed form (checked against runs below). Before the tuned grids, the ancestral sampler missed this at
    // 20 and 50 steps (20.3 / 9.0 % against 17.6 / 8.6 %), Euler at 10 and 200, Heun at 5.
    for (const sampler of SAMPLERS) {
      for (const steps of [5, 10, 20, 50, 100, 200]) {
        const linear = relativeError(schedules.linear, sampler, steps);
        for (const name of ['cosine', 'cosine, continuous time', 'edm'] as const) {
          const other = relativeError(schedules[name], sampler, steps);
          expect(other, `${name} ${sampler}-${steps} vs linear ${linear}`).toBeLessThanOrEqual(linear);
        }
      }
    }
  });

  it('the margin is real: at 20 and 50 steps the tuned grids beat linear by at least 8 % for every sampler', () => {
    for (const sampler of SAMPLERS) {
      for (const steps of [20, 50]) {
        const linear = relativeError(schedules.linear, sampler, steps);
        for (const name of ['cosine', 'edm'] as const) {
          expect(relativeError(schedules[name], sampler, steps) / linear, `${name} ${sampler}-${steps}`).toBeLessThan(0.92);
        }
      }
    }
  });

  it('a grid a manifest chooses instead (linspace or karras) may be less accurate than linear, and is warned about wherever it is far off', () => {
    const chosen = {
      'cosine, linspace': scheduleFromSpec({ ...COSINE, spacing: 'linspace' }),
      'cosine, karras': scheduleFromSpec({ ...COSINE, spacing: 'karras' }),
      'edm, karras (ρ = 7)': scheduleFromSpec({ ...EDM, rho: 7 }),
    };
    let worse = 0;
    let warned = 0;
    for (const [name, schedule] of Object.entries(chosen)) {
      for (const sampler of SAMPLERS) {
        for (const steps of [5, 10, 20, 50, 100, 200]) {
          const error = relativeError(schedule, sampler, steps);
          const warning = accuracyWarning(schedule, sampler, steps, spectrum, 'the test');
          expect(warning !== null, `${name} ${sampler}-${steps}: ${error}`).toBe(error > ACCURACY_WARNING);
          if (error > relativeError(schedules.linear, sampler, steps)) {
            worse++;
            if (warning !== null) warned++;
          }
        }
      }
    }
    // e.g. the ancestral sampler on cosine karras at 20 steps (20.3 % against 17.6 %) is warned about; Euler on
    // cosine linspace at 50 (7.5 % against 4.9 %) is worse but converged enough, and is not.
    expect(worse).toBeGreaterThan(10);
    expect(warned).toBeGreaterThan(3);
    expect(accuracyWarning(chosen['cosine, karras'], 'ddpm', 20, spectrum, 'the test')).toMatch(/DDPM \(ancestral\) with 20 steps .* distribution is about 20 % off .* Use at least \d+ steps/);
  });

  it('the closed form is what a run does: each eigen-direction of the 16-D fixture Gaussian scales by the predicted gain (to 1e-5)', async () => {
    const fixture = loadAnalytic('gauss16');
    const small = fixture.gaussian!;
    for (const [name, spec] of [
      ['linear', LINEAR],
      ['cosine', COSINE],
      ['cosine linspace', { ...COSINE, spacing: 'linspace' }],
      ['edm', EDM],
    ] as const) {
      const schedule = scheduleFromSpec(spec);
      for (const sampler of ['euler', 'heun'] as const) {
        for (const steps of [3, 20, 50]) {
          const sigmas = schedule.samplingSigmas(steps, sampler);
          const run = await sample({ denoiser: fixture.withSchedule(schedule), sampler, sigmas, seeds: [5] });
          const centred = (j: number): Float64Array => Float64Array.from({ length: 16 }, (_, i) => run.states[j * 16 + i]! - small.mean[i]!);
          const start = small.project(centred(0));
          const end = small.project(centred(steps));
          for (let k = 0; k < 16; k++) {
            const { gain } = directionTransfer(sampler, sigmas, small.eigvals[k]!, 1);
            // The float32 network input (half an ulp of |x| ≈ 4σ_T: 1.5e-5 at σ = 80) bounds the agreement.
            expect(Math.abs(end[k]! - gain * start[k]!), `${name} ${sampler}-${steps} direction ${k}`).toBeLessThan(1e-5 * (1 + Math.abs(gain * start[k]!)));
          }
        }
      }
    }
  });

  it('the closed-form expectation over x_T matches real runs on the Fashion-MNIST Gaussian (Euler and Heun, cosine and EDM, 4 seeds, within 10 %)', async () => {
    for (const [name, sampler, steps] of [
      ['cosine', 'euler', 20],
      ['edm', 'euler', 10],
      ['cosine', 'heun', 10],
      ['edm', 'heun', 20],
    ] as const) {
      const measured = await endpointError(schedules[name], sampler, steps, [0, 1, 2, 3]);
      const predicted = relativeError(schedules[name], sampler, steps);
      expect(Math.abs(measured / predicted - 1), `${name} ${sampler}-${steps}: measured ${measured}, predicted ${predicted}`).toBeLessThan(0.1);
    }
  });

  it('Heun on the cosine schedule no longer diverges (it was 1,400 % off at 50 steps): under 1 % at 50 steps, on either grid', async () => {
    expect(await endpointError(schedules.cosine, 'heun', 50, [0, 1])).toBeLessThan(0.01);
    const linspace = scheduleFromSpec({ ...COSINE, spacing: 'linspace' });
    const grid = linspace.samplingSigmas(50, 'heun');
    expect(grid[0]! / grid[1]!).toBeGreaterThan(600);
    expect(await endpointError(linspace, 'heun', 50, [0, 1])).toBeLessThan(0.03);
  });

  it('the ancestral sampler: the closed-form variance of its samples matches 2000 real samples in every direction of the 16-D fixture, on every schedule', async () => {
    const fixture = loadAnalytic('gauss16');
    const small = fixture.gaussian!;
    const seeds = Array.from({ length: 2000 }, (_, i) => 1000 + i);
    for (const [name, spec, steps] of [
      ['linear', LINEAR, 10],
      ['cosine', COSINE, 10],
      ['edm', EDM, 20],
    ] as const) {
      const schedule = scheduleFromSpec(spec);
      const sigmas = schedule.samplingSigmas(steps, 'ddpm');
      const run = await sample({ denoiser: fixture.withSchedule(schedule), sampler: 'ddpm', sigmas, seeds });
      for (let k = 0; k < 16; k++) {
        let sum = 0;
        let squares = 0;
        for (let b = 0; b < seeds.length; b++) {
          let c = 0;
          for (let i = 0; i < 16; i++) c += small.eigvecs[i * 16 + k]! * (run.states[(steps * seeds.length + b) * 16 + i]! - small.mean[i]!);
          sum += c;
          squares += c * c;
        }
        const variance = squares / seeds.length - (sum / seeds.length) ** 2;
        const predicted = directionTransfer('ddpm', sigmas, small.eigvals[k]!, startVariance(schedule, sigmas[0]!)).variance;
        // 2000 samples: a sample variance is good to √(2/2000) ≈ 3.2 %; allow 4 sd.
        expect(Math.abs(variance / predicted - 1), `${name}, direction ${k}: ${variance} vs ${predicted}`).toBeLessThan(0.13);
      }
    }
  });
});
