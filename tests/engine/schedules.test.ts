/**
 * Schedules described exactly: an explicit ᾱ table (a cosine schedule
 * clipped at ᾱ ≥ 1e-9, σ_max = 31623), t/T and continuous-time encodings,
 * and the grid spacings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OnnxDenoiser } from '../../electron/engine/denoisers/onnx';
import type { OnnxManifest } from '../../electron/engine/manifest';
import { validateManifest } from '../../electron/engine/manifest-validate';
import { sample, toModelConvention } from '../../electron/engine/samplers';
import {
  ContinuousVpSchedule,
  DiscreteVpSchedule,
  KARRAS_SIGMA_TOP,
  KarrasSchedule,
  rhoSpacedSigmas,
  cosineAlphasCumprod,
  linearAlphasCumprod,
  scheduleFromSpec,
} from '../../electron/engine/schedules';
import { seededNormal } from '../../electron/engine/rng';
import { fixtureFolder, loadAnalytic, loadOnnx } from '../helpers/fixtures';

const analytic = loadAnalytic('gauss16');
const gaussian = analytic.gaussian!;
const opened: OnnxDenoiser[] = [];
async function open(name: string): Promise<OnnxDenoiser> {
  const denoiser = await loadOnnx(name);
  opened.push(denoiser);
  return denoiser;
}
afterAll(async () => {
  await Promise.all(opened.map((d) => d.dispose()));
});

/** Cosine ᾱ clipped at 1e-9, computed here independently of the fixture script. */
function clippedCosine(timesteps: number): Float64Array {
  const f = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  return Float64Array.from({ length: timesteps }, (_, t) => Math.max(f((t + 1) / timesteps) / f(0), 1e-9));
}

/** Runs a network and the analytic Gaussian on the network's own grid; the largest differences per state. */
async function compareRuns(network: OnnxDenoiser, sampler: 'euler' | 'heun', steps: number): Promise<{ xt: number[]; x0: number[] }> {
  const sigmas = network.schedule.samplingSigmas(steps, sampler);
  const reference = analytic.withSchedule(network.schedule);
  const seeds = [1, 2];
  const a = await sample({ denoiser: network, sampler, sigmas, seeds });
  const b = await sample({ denoiser: reference, sampler, sigmas, seeds });
  const width = seeds.length * 16;
  const xtA = toModelConvention(a.states, sigmas, width, network);
  const xtB = toModelConvention(b.states, sigmas, width, reference);
  const worst = (p: Float32Array, q: Float32Array): number[] =>
    Array.from(sigmas, (_, j) => {
      let m = 0;
      for (let i = j * width; i < (j + 1) * width; i++) m = Math.max(m, Math.abs(p[i]! - q[i]!));
      return m;
    });
  return { xt: worst(xtA, xtB), x0: worst(a.x0Hat, b.x0Hat) };
}

describe('an explicit ᾱ table: the cosine schedule clipped at ᾱ ≥ 1e-9', () => {
  it('reads the table and starts the grid at σ = 31623, not the β-clipped 20291', async () => {
    const network = await open('fixture-cosine-table');
    const schedule = network.schedule as DiscreteVpSchedule;
    expect(schedule).toBeInstanceOf(DiscreteVpSchedule);
    const expected = clippedCosine(1000);
    expect(Math.max(...schedule.alphasCumprod.map((a, t) => Math.abs(a - expected[t]!) / expected[t]!))).toBeLessThan(1e-12);
    expect(schedule.sigmaMax).toBeCloseTo(Math.sqrt((1 - 1e-9) / 1e-9), 6);
    expect(schedule.sigmaMax).toBeCloseTo(31622.78, 1);
    expect(new DiscreteVpSchedule(cosineAlphasCumprod(1000)).sigmaMax).toBeCloseTo(20291.2, 0);
    // Default spacing for a table: tuned; Heun's first step jumps from σ_max to the timestep nearest 80.
    const grid = schedule.samplingSigmas(50, 'heun');
    expect(grid[0]).toBe(schedule.sigmaMax);
    expect(Math.abs(Math.log(grid[1]! / KARRAS_SIGMA_TOP))).toBeLessThan(0.05);
  });

  it('samples step for step like the analytic Gaussian on the same table (t/T encoding, ε prediction)', async () => {
    const network = await open('fixture-cosine-table');
    for (const sampler of ['euler', 'heun'] as const) {
      const { xt, x0 } = await compareRuns(network, sampler, 30);
      // x̂0 at σ_max = (x_t − s ε̂)/α with 1/α = 31623 carries ε̂'s float32 rounding ×31623.
      expect(x0[0], `${sampler} x̂0 at step 0`).toBeLessThan(1e-2);
      expect(Math.max(...x0.slice(1)), `${sampler} x̂0`).toBeLessThan(1e-4);
      expect(Math.max(...xt), `${sampler} x_t`).toBeLessThan(1e-4);
    }
  });

  it('described as Nichol & Dhariwal\'s vp-cosine instead, the same network is misread at the top step', async () => {
    const folder = fixtureFolder('fixture-cosine-table');
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf-8')) as OnnxManifest;
    const right = await open('fixture-cosine-table');
    const { OnnxDenoiser } = await import('../../electron/engine/denoisers/onnx');
    const wrong = await OnnxDenoiser.load({ ...manifest, schedule: { type: 'vp-cosine', timesteps: 1000 } }, join(folder, 'model.onnx'));
    opened.push(wrong);
    // The same model-convention input x_t (unit variance) at the last timestep, through both descriptions.
    const xt = seededNormal(4, 0, 4 * 16);
    const errorOf = async (network: OnnxDenoiser): Promise<number> => {
      const sigma = network.schedule.sigmaMax;
      const x = xt.map((v) => v * Math.sqrt(1 + sigma * sigma));
      const got = await network.denoise(x, [sigma, sigma, sigma, sigma]);
      const truth = gaussian.denoise(xt.map((v) => v * Math.sqrt(1 + 31622.78 ** 2)), [31622.78, 31622.78, 31622.78, 31622.78]);
      return Math.max(...got.map((v, i) => Math.abs(v - truth[i]!)));
    };
    const rightError = await errorOf(right);
    const wrongError = await errorOf(wrong);
    expect(rightError).toBeLessThan(1e-2);
    expect(wrongError).toBeGreaterThan(5 * rightError);
  });
});

describe('continuous time u ∈ [0, 1]', () => {
  it('maps σ ↔ u through the table: entry t at u = (t+1)/T, log σ linear in u between entries', () => {
    const table = clippedCosine(1000);
    const schedule = new ContinuousVpSchedule(table);
    const discrete = new DiscreteVpSchedule(table);
    for (const t of [0, 1, 499, 998, 999]) {
      expect(schedule.sigmaAt((t + 1) / 1000) / discrete.sigmas[t]! - 1).toBeCloseTo(0, 12);
    }
    const between = schedule.sigmaAt(0.5005);
    expect(between).toBeCloseTo(Math.sqrt(discrete.sigmas[499]! * discrete.sigmas[500]!), 10);
    for (const sigma of [0.01, 0.5, 3, 80, 1000, 31000]) expect(schedule.sigmaAt(schedule.timeOf(sigma)) / sigma - 1).toBeCloseTo(0, 10);
    expect(schedule.timeOf(1e-6)).toBe(1 / 1000);
    expect(schedule.timeOf(1e9)).toBe(1);
  });

  it('samples a free σ grid step for step like the analytic Gaussian (v prediction)', async () => {
    const network = await open('fixture-cosine-continuous');
    expect(network.schedule).toBeInstanceOf(ContinuousVpSchedule);
    const grid = network.schedule.samplingSigmas(30, 'heun');
    expect(grid[1]).toBe(KARRAS_SIGMA_TOP);
    const onTable = new DiscreteVpSchedule(clippedCosine(1000)).sigmas;
    // Grid points fall between the table's timesteps.
    expect(grid.slice(1, -1).some((s) => !onTable.includes(s))).toBe(true);
    for (const sampler of ['euler', 'heun'] as const) {
      const { xt, x0 } = await compareRuns(network, sampler, 30);
      expect(Math.max(...x0), `${sampler} x̂0`).toBeLessThan(1e-4);
      expect(Math.max(...xt), `${sampler} x_t`).toBeLessThan(1e-4);
    }
  });
});

describe('grid spacing', () => {
  const linear = linearAlphasCumprod(1000, 1e-4, 0.02);

  it('linspace is DDIM\'s uniform timesteps; karras snaps ρ-spaced σ to distinct decreasing timesteps', () => {
    const ddim = new DiscreteVpSchedule(linear, 'linspace');
    expect(Array.from(ddim.samplingTimesteps(5, 'euler'))).toEqual([999, 749, 500, 250, 0]);
    // The same grid for every sampler: the bundled linear-schedule runs do not change.
    for (const sampler of ['heun', 'ddpm'] as const) expect(ddim.samplingSigmas(20, sampler)).toEqual(ddim.samplingSigmas(20, 'euler'));
    const karras = new DiscreteVpSchedule(cosineAlphasCumprod(1000), 'karras');
    for (const steps of [1, 2, 10, 50, 500, 1000]) {
      const t = karras.samplingTimesteps(steps, 'euler');
      expect(t).toHaveLength(steps);
      expect(t[0]).toBe(999);
      if (steps > 1) expect(t[steps - 1]).toBe(0);
      for (let i = 1; i < steps; i++) expect(t[i]!).toBeLessThan(t[i - 1]!);
    }
    expect(() => karras.samplingTimesteps(1001, 'euler')).toThrow(/has 1000 timesteps, so it can take at most 1000 steps; got 1001/);
  });

  it('tuned snaps each sampler\'s levels to distinct decreasing timesteps, from T−1, at any step count', () => {
    const tuned = new DiscreteVpSchedule(cosineAlphasCumprod(1000), 'tuned');
    for (const sampler of ['euler', 'heun', 'ddpm'] as const) {
      for (const steps of [1, 2, 3, 10, 50, 200, 500, 1000]) {
        const t = tuned.samplingTimesteps(steps, sampler);
        expect(t).toHaveLength(steps);
        expect(t[0]).toBe(999);
        for (let i = 1; i < steps; i++) expect(t[i]!, `${sampler}-${steps} at ${i}`).toBeLessThan(t[i - 1]!);
        expect(t[steps - 1]).toBeGreaterThanOrEqual(0);
      }
    }
    // The samplers walk different grids: Heun's (ρ = 4) jumps to 80, the spectral grid of Euler and DDPM does not.
    const heun = tuned.samplingSigmas(20, 'heun');
    const euler = tuned.samplingSigmas(20, 'euler');
    expect(euler).toEqual(tuned.samplingSigmas(20, 'ddpm'));
    expect(Math.abs(Math.log(heun[1]! / KARRAS_SIGMA_TOP))).toBeLessThan(0.05);
    expect(Math.abs(Math.log(euler[1]! / KARRAS_SIGMA_TOP))).toBeGreaterThan(0.05);
  });

  it('defaults: linspace for vp-linear, tuned for vp-cosine, vp-table and EDM (karras for EDM with its own ρ); a manifest may choose', () => {
    expect((scheduleFromSpec({ type: 'vp-linear', timesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }) as DiscreteVpSchedule).spacing).toBe('linspace');
    expect((scheduleFromSpec({ type: 'vp-cosine', timesteps: 1000 }) as DiscreteVpSchedule).spacing).toBe('tuned');
    expect((scheduleFromSpec({ type: 'vp-cosine', timesteps: 1000, spacing: 'linspace' }) as DiscreteVpSchedule).spacing).toBe('linspace');
    expect((scheduleFromSpec({ type: 'vp-cosine', timesteps: 1000, spacing: 'karras' }) as DiscreteVpSchedule).spacing).toBe('karras');
    expect((scheduleFromSpec({ type: 'vp-table', alphasCumprod: [0.9, 0.5, 0.1] }) as DiscreteVpSchedule).spacing).toBe('tuned');
    expect((scheduleFromSpec({ type: 'vp-cosine', timesteps: 1000 }, true) as ContinuousVpSchedule).spacing).toBe('tuned');
    expect((scheduleFromSpec({ type: 'edm', sigmaMin: 0.002, sigmaMax: 80 }) as KarrasSchedule).spacing).toBe('tuned');
    expect((scheduleFromSpec({ type: 'edm', sigmaMin: 0.002, sigmaMax: 80, rho: 5 }) as KarrasSchedule).spacing).toBe('karras');
    expect((scheduleFromSpec({ type: 'edm', sigmaMin: 0.002, sigmaMax: 80, rho: 5, spacing: 'tuned' }) as KarrasSchedule).spacing).toBe('tuned');
    // EDM's karras grid is its own ρ from σ_max, for every sampler.
    const karras = scheduleFromSpec({ type: 'edm', sigmaMin: 0.002, sigmaMax: 80, rho: 5 });
    expect(Array.from(karras.samplingSigmas(4, 'heun'))).toEqual([...Array.from(rhoSpacedSigmas(80, 0.002, 4, 5)), 0]);
  });
});

describe('manifest validation of the new schedule fields', () => {
  const base = JSON.parse(readFileSync(join(fixtureFolder('fixture-cosine-table'), 'manifest.json'), 'utf-8')) as Record<string, unknown>;
  interface Editable {
    [key: string]: unknown;
    schedule: { [key: string]: unknown; alphasCumprod?: unknown; spacing?: string };
    onnx: { timestep: { dtype: string } };
  }
  const variant = (edit: (m: Editable) => void): Record<string, unknown> => {
    const copy = JSON.parse(JSON.stringify(base)) as Editable;
    edit(copy);
    return copy;
  };

  it('accepts the fixture manifests', () => {
    expect(validateManifest(base, 'm.json').kind).toBe('onnx');
  });

  it('refuses a table that does not decrease or leaves (0, 1), naming the entry', () => {
    expect(() => validateManifest(variant((m) => ((m.schedule.alphasCumprod as unknown[])[5] = (m.schedule.alphasCumprod as unknown[])[4])), 'm.json')).toThrow(
      /"schedule.alphasCumprod\[5\]" is .*, not below ᾱ\[4\]/,
    );
    expect(() => validateManifest(variant((m) => ((m.schedule.alphasCumprod as unknown[])[0] = 1)), 'm.json')).toThrow(/"schedule.alphasCumprod\[0\]" is 1; every ᾱ must be a number strictly between 0 and 1/);
    expect(() => validateManifest(variant((m) => (m.schedule.alphasCumprod = 'cosine')), 'm.json')).toThrow(/"schedule.alphasCumprod" must be a list of 2 to 100000 numbers/);
  });

  it('refuses an unknown spacing, a t/T encoding with an integer dtype, and a continuous time on EDM', () => {
    expect(() => validateManifest(variant((m) => (m.schedule.spacing = 'uniform')), 'm.json')).toThrow(/"schedule.spacing" is "uniform"; expected one of linspace, karras, tuned/);
    expect(validateManifest(variant((m) => (m.schedule.spacing = 'tuned')), 'm.json').kind).toBe('onnx');
    expect(() => validateManifest(variant((m) => (m.onnx.timestep.dtype = 'int64')), 'm.json')).toThrow(/"onnx.timestep.dtype" is "int64"; a "fraction" timestep is a real number/);
    expect(() =>
      validateManifest(
        variant((m) => (m.schedule = { type: 'edm', sigmaMin: 0.002, sigmaMax: 80 })),
        'm.json',
      ),
    ).toThrow(/"onnx.timestep.encoding" does not fit an EDM schedule/);
    // An EDM schedule has no timesteps to space uniformly.
    expect(() =>
      validateManifest(
        variant((m) => (m.schedule = { type: 'edm', sigmaMin: 0.002, sigmaMax: 80, spacing: 'linspace' })),
        'm.json',
      ),
    ).toThrow(/"schedule.spacing" is "linspace"; expected one of karras, tuned/);
  });
});
