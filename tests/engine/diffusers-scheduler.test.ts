/**
 * diffusers scheduler configs → the engine's σ grid and UNet timesteps,
 * against tables that tests/fixtures/make_diffusers_fixture.py computes in
 * float64 from diffusers' DDIM and Euler formulas (numpy's linspace, arange,
 * round-half-even and interp). Both sides are float64 with the same
 * operations, so timesteps must match exactly and σ, ᾱ to 1e-12 relative
 * (the cumulative product over 1000 factors, and sqrt, in a different order).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DenoiseCondition, Denoiser } from '../../electron/engine/denoisers/types';
import {
  DiffusersSchedule,
  alphasCumprodOf,
  parseSchedulerConfig,
  predictionOf,
  scheduleFromConfig,
  type SchedulerConfig,
} from '../../electron/engine/diffusers/scheduler-config';
import { PainterError } from '../../electron/engine/errors';
import { sample } from '../../electron/engine/samplers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'diffusers');

interface DdimTable {
  timesteps: number[];
  prevTimesteps: number[];
  alphasCumprod: number[];
  prevAlphasCumprod: number[];
}
interface EulerTable {
  timesteps: number[];
  sigmas: number[];
}
interface SchedulerCase {
  name: string;
  config: Record<string, unknown>;
  steps: Record<string, { ddim: DdimTable; euler: EulerTable }>;
}
interface Expected {
  schedulers: SchedulerCase[];
  alphasCumprod: Record<string, Record<string, number>>;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

const REL = 1e-12;
function expectClose(actual: number, want: number, what: string): void {
  const error = Math.abs(actual - want) / Math.max(Math.abs(want), 1e-300);
  expect(error, `${what}: ${actual} vs ${want}`).toBeLessThanOrEqual(REL);
}
const sigmaOf = (abar: number): number => Math.sqrt((1 - abar) / abar);

function parse(config: Record<string, unknown>, path = 'scheduler_config.json'): SchedulerConfig {
  return parseSchedulerConfig(config, path);
}

describe('diffusers DDIM grid (integer timesteps)', () => {
  for (const testCase of expected.schedulers) {
    it(testCase.name, () => {
      const config = parse(testCase.config);
      for (const [n, { ddim }] of Object.entries(testCase.steps)) {
        const steps = Number(n);
        const schedule = scheduleFromConfig(config, 'ddim');
        expect(Array.from(schedule.samplingTimesteps(steps)), `${n} steps`).toEqual(ddim.timesteps);
        const grid = schedule.samplingSigmas(steps, 'euler');
        expect(grid.length).toBe(steps + 1);
        expect(grid[steps]).toBe(0);
        for (let i = 0; i < steps; i++) {
          const t = ddim.timesteps[i]!;
          expectClose(schedule.alphasCumprod[t]!, ddim.alphasCumprod[i]!, `ᾱ at t = ${t}`);
          // zero SNR: ᾱ_{T−1} = 0 is clamped to 2⁻²⁴ (σ ≈ 4096), as EulerDiscreteScheduler does
          const abar = ddim.alphasCumprod[i] === 0 ? 2 ** -24 : ddim.alphasCumprod[i]!;
          expectClose(grid[i]!, sigmaOf(abar), `σ at t = ${t}`);
          // the UNet gets the grid point's own timestep, exactly
          expect(schedule.timestepOf(grid[i]!)).toBe(t);
          // where diffusers steps to the next timestep of its own list, the engine's next σ is its σ
          if (i + 1 < steps && ddim.prevTimesteps[i] === ddim.timesteps[i + 1]) {
            expectClose(grid[i + 1]!, sigmaOf(ddim.prevAlphasCumprod[i]!), `next σ after t = ${t}`);
          }
        }
        // `leading` steps t → t − T//n, which is always the next timestep
        if (config.timestepSpacing === 'leading') {
          expect(ddim.prevTimesteps.slice(0, -1)).toEqual(ddim.timesteps.slice(1));
        }
        // where diffusers' last step lands: ᾱ = 1 (σ = 0, the grid's own end), ᾱ_0, or ᾱ at t − T//n
        const finalAbar = ddim.prevAlphasCumprod[steps - 1]!;
        if (finalAbar === 1) expect(schedule.finalSigma(steps)).toBe(0);
        else expectClose(schedule.finalSigma(steps), sigmaOf(finalAbar), 'final σ');
      }
    });
  }
});

describe('diffusers Euler grid (float32 timesteps, σ interpolated in t)', () => {
  for (const testCase of expected.schedulers) {
    it(testCase.name, () => {
      const config = parse(testCase.config);
      for (const [n, { euler }] of Object.entries(testCase.steps)) {
        const steps = Number(n);
        const schedule = scheduleFromConfig(config, 'euler');
        const timesteps = schedule.samplingTimesteps(steps);
        expect(Array.from(timesteps), `${n} steps`).toEqual(euler.timesteps);
        for (const sampler of ['euler', 'heun', 'ddpm'] as const) {
          const grid = schedule.samplingSigmas(steps, sampler);
          expect(grid.length).toBe(euler.sigmas.length);
          for (let i = 0; i <= steps; i++) expectClose(grid[i]!, euler.sigmas[i]!, `σ[${i}] of ${n} steps (${sampler})`);
          for (let i = 0; i < steps; i++) expect(schedule.timestepOf(grid[i]!)).toBe(euler.timesteps[i]);
        }
        // a schedule that never handed out this grid recovers each timestep by inverting σ(t)
        const fresh = new DiffusersSchedule(config, 'euler');
        for (let i = 0; i < steps; i++) {
          expect(Math.abs(fresh.timestepOf(euler.sigmas[i]!) - euler.timesteps[i]!)).toBeLessThan(1e-9);
        }
      }
    });
  }
});

describe('ᾱ tables', () => {
  const configs: Record<string, Record<string, unknown>> = {
    scaled_linear: { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 },
    scaled_linear_zsnr: { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, rescale_betas_zero_snr: true },
    linear: { beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02 },
    squaredcos_cap_v2: { beta_schedule: 'squaredcos_cap_v2' },
  };
  for (const [name, config] of Object.entries(configs)) {
    it(name, () => {
      const table = alphasCumprodOf(parse(config));
      for (const [t, value] of Object.entries(expected.alphasCumprod[name]!)) {
        if (value === 0) expect(table[Number(t)]).toBeLessThan(1e-15);
        else expectClose(table[Number(t)]!, value, `ᾱ[${t}]`);
      }
    });
  }

  it('trained_betas replace beta_schedule', () => {
    const betas = Array.from({ length: 1000 }, (_, t) => 0.0001 + ((0.02 - 0.0001) * t) / 999);
    const trained = alphasCumprodOf(parse({ trained_betas: betas, beta_schedule: 'scaled_linear' }));
    const linear = alphasCumprodOf(parse({ beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02 }));
    for (let t = 0; t < 1000; t += 111) expect(Math.abs(trained[t]! - linear[t]!) / linear[t]!).toBeLessThan(1e-13);
  });
});

describe("the fixture folders' scheduler configs", () => {
  const read = (name: string): SchedulerConfig => {
    const path = join(FIXTURES, name, 'scheduler', 'scheduler_config.json');
    return parseSchedulerConfig(JSON.parse(readFileSync(path, 'utf8')), path);
  };

  it('SD 1.5 (PNDM): leading, offset 1, integer grid ending at ᾱ_0', () => {
    const config = read('tiny-sd');
    expect(config).toMatchObject({ className: 'PNDMScheduler', grid: 'ddim', timestepSpacing: 'leading', stepsOffset: 1, setAlphaToOne: false, clipSample: false });
    expect(predictionOf(config.predictionType)).toBe('epsilon');
    const schedule = scheduleFromConfig(config);
    expect(Array.from(schedule.samplingTimesteps(4))).toEqual([751, 501, 251, 1]);
    expectClose(schedule.finalSigma(30), sigmaOf(1 - 0.00085), 'σ(ᾱ_0)');
  });

  it('SD 2.x (DDIM): v prediction, trailing', () => {
    const config = read('tiny-sd-float-t');
    expect(config).toMatchObject({ className: 'DDIMScheduler', grid: 'ddim', timestepSpacing: 'trailing', rescaleBetasZeroSnr: false });
    expect(predictionOf(config.predictionType)).toBe('v');
    expect(Array.from(scheduleFromConfig(config).samplingTimesteps(4))).toEqual([999, 749, 499, 249]);
  });

  it('SD-Turbo-like (Euler): the Euler grid, ending at 0', () => {
    const config = read('tiny-sd-fp16');
    expect(config).toMatchObject({ className: 'EulerDiscreteScheduler', grid: 'euler', timestepSpacing: 'trailing', finalSigmasType: 'zero' });
    const schedule = scheduleFromConfig(config);
    expect(Array.from(schedule.samplingTimesteps(1))).toEqual([999]);
    expect(schedule.finalSigma(1)).toBe(0);
  });

  it('DDPM: cosine betas, clipped x̂0', () => {
    const config = read('tiny-ddpm');
    expect(config).toMatchObject({ className: 'DDPMScheduler', grid: 'ddim', betaSchedule: 'squaredcos_cap_v2', clipSample: true, clipSampleRange: 1 });
    expect(predictionOf('sample')).toBe('x0');
  });
});

describe('defaults by scheduler class', () => {
  it("fill what a config leaves out with its class's diffusers defaults", () => {
    expect(parse({ _class_name: 'DDIMScheduler' })).toMatchObject({ timestepSpacing: 'leading', setAlphaToOne: true, clipSample: true, stepsOffset: 0, betaSchedule: 'linear', numTrainTimesteps: 1000 });
    expect(parse({ _class_name: 'PNDMScheduler' })).toMatchObject({ timestepSpacing: 'leading', setAlphaToOne: false, clipSample: false });
    expect(parse({ _class_name: 'EulerDiscreteScheduler' })).toMatchObject({ timestepSpacing: 'linspace', clipSample: false, grid: 'euler' });
  });

  it("ignore other schedulers' fields", () => {
    const config = parse({ _class_name: 'LCMScheduler', skip_prk_steps: true, original_inference_steps: 50, solver_order: 2, use_karras_sigmas: false });
    expect(config.grid).toBe('ddim');
  });
});

describe('bad configs are refused naming the file and the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a list', [1, 2], /sched\.json must hold a JSON object/],
    ['an unknown beta_schedule', { beta_schedule: 'sigmoid' }, /sched\.json: "beta_schedule" is "sigmoid"; expected one of linear, scaled_linear, squaredcos_cap_v2/],
    ['a prediction_type typo', { prediction_type: 'v-prediction' }, /"prediction_type" is "v-prediction"; expected one of epsilon, v_prediction, sample/],
    ['an unknown timestep_spacing', { timestep_spacing: 'uniform' }, /"timestep_spacing" is "uniform"/],
    ['a string number', { num_train_timesteps: '1000' }, /"num_train_timesteps" is "1000"; expected an integer/],
    ['a negative steps_offset', { steps_offset: -1 }, /"steps_offset" is -1/],
    ['beta_end ≥ 1', { beta_end: 1.5 }, /"beta_end" is 1.5; expected a number between 0 and 1/],
    ['a string flag', { set_alpha_to_one: 'false' }, /"set_alpha_to_one" is "false"; expected true or false/],
    ['trained_betas of the wrong length', { trained_betas: [0.1, 0.2] }, /"trained_betas" is "a list of 2"; expected null or 1000 numbers/],
    ['dynamic thresholding', { thresholding: true }, /"thresholding" is true; expected false/],
    ['continuous timesteps', { timestep_type: 'continuous' }, /"timestep_type" is "continuous"/],
    ['log-linear σ', { interpolation_type: 'log_linear' }, /"interpolation_type" is "log_linear"/],
  ];
  for (const [what, json, message] of cases) {
    it(what, () => {
      let error: unknown;
      try {
        parseSchedulerConfig(json, '/models/x/scheduler/sched.json');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PainterError);
      expect((error as PainterError).code).toBe('BAD_MODEL');
      expect((error as PainterError).message).toMatch(message);
    });
  }

  it('β whose ᾱ underflow (σ = ∞)', () => {
    const config = parseSchedulerConfig({ trained_betas: new Array(1000).fill(0.9) }, '/models/x/scheduler/sched.json');
    expect(() => scheduleFromConfig(config)).toThrow(/sched\.json: its β give ᾱ that do not decrease strictly from below 1 towards 0 \(ᾱ\[\d+\] = [\d.e+-]+\)/);
  });

  it('too many steps for the training timesteps', () => {
    const schedule = scheduleFromConfig(parse({ num_train_timesteps: 10 }));
    expect(() => schedule.samplingSigmas(11, 'euler')).toThrow(/at most 10 steps/);
    const offset = scheduleFromConfig(parse({ num_train_timesteps: 10, steps_offset: 1 }));
    expect(() => offset.samplingSigmas(10, 'euler')).toThrow(/past the last training timestep/);
  });
});

/**
 * A denoiser with a known x̂0 = c(σ)·x, so that one Euler step of the engine
 * can be compared with diffusers' DDIM update in the VP form.
 */
function linearDenoiser(schedule: DiffusersSchedule): Denoiser {
  return {
    image: { channels: 1, height: 1, width: 2, range: [-1, 1] },
    dim: 2,
    schedule,
    provider: 'analytic',
    classes: null,
    unconditional: true,
    denoise: (x: Float32Array, sigmas: ArrayLike<number>, _condition?: DenoiseCondition): Promise<Float32Array> =>
      Promise.resolve(x.map((v, k) => v * (0.3 / (1 + sigmas[Math.floor(k / 2)]!)))),
    dispose: () => Promise.resolve(),
  };
}

describe('sampler equivalences', () => {
  it('the engine’s Euler step is DDIM with η = 0 (x_prev = √ᾱ′ x̂0 + √(1 − ᾱ′) ε̂)', async () => {
    const config = parse({ _class_name: 'DDIMScheduler', beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1, set_alpha_to_one: false });
    const schedule = scheduleFromConfig(config);
    const steps = 5;
    const sigmas = schedule.samplingSigmas(steps, 'euler');
    const denoiser = linearDenoiser(schedule);
    const run = await sample({ denoiser, sampler: 'euler', sigmas, seeds: [7] });
    // diffusers' DDIM in VP form from the same x_T, on ᾱ at the same timesteps
    const timesteps = schedule.samplingTimesteps(steps);
    const abar = Array.from(timesteps, (t) => schedule.alphasCumprod[t]!);
    let x = Array.from(run.states.subarray(0, 2), (v) => v * Math.sqrt(abar[0]!)); // σ form → VP x_t
    for (let i = 0; i < steps - 1; i++) {
      const sigma = sigmas[i]!;
      const x0 = x.map((v) => (v / Math.sqrt(abar[i]!)) * (0.3 / (1 + sigma)));
      const eps = x.map((v, k) => (v - Math.sqrt(abar[i]!) * x0[k]!) / Math.sqrt(1 - abar[i]!));
      const next = abar[i + 1]!;
      x = x0.map((v, k) => Math.sqrt(next) * v + Math.sqrt(1 - next) * eps[k]!);
      const engine = Array.from(run.states.subarray(2 * (i + 1), 2 * (i + 2)), (v) => v * Math.sqrt(next));
      // the engine's state is float32
      for (let k = 0; k < 2; k++) expect(Math.abs(engine[k]! - x[k]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(x[k]!)));
    }
  });

  it('the engine’s ancestral step has the DDPM posterior’s variance β̃ = (1 − ᾱ′)/(1 − ᾱ)·(1 − ᾱ/ᾱ′)', () => {
    const schedule = scheduleFromConfig(parse({ beta_schedule: 'squaredcos_cap_v2' }));
    const grid = schedule.samplingSigmas(10, 'ddpm');
    const timesteps = schedule.samplingTimesteps(10);
    for (let i = 0; i + 2 < grid.length; i++) {
      const [sigma, next] = [grid[i]!, grid[i + 1]!];
      // samplers.ts: σ_up² = σ′²(σ² − σ′²)/σ² in σ form; × α′² for the VP form
      const up2 = (next * next * (sigma * sigma - next * next)) / (sigma * sigma);
      const alphaNext2 = 1 / (1 + next * next);
      const [a, aNext] = [schedule.alphasCumprod[timesteps[i]!]!, schedule.alphasCumprod[timesteps[i + 1]!]!];
      const ddpmVariance = ((1 - aNext) / (1 - a)) * (1 - a / aNext);
      expect(Math.abs(up2 * alphaNext2 - ddpmVariance) / ddpmVariance).toBeLessThan(1e-10);
    }
  });
});
