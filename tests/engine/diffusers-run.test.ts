/**
 * A whole run on each fixture pipeline equals diffusers' own sampler for the
 * folder's scheduler config — DDIMScheduler (η = 0) on tiny-sd (PNDM config,
 * leading, ε) and tiny-sd-float-t (DDIM, trailing, v), EulerDiscreteScheduler
 * on tiny-sd-fp16 (trailing, float16 UNet) — as make_diffusers_fixture.py
 * writes it from the documented steps in PyTorch: the same σ grid, the same
 * timesteps fed to the UNet, every state and x̂0 of 4 steps with CFG 7.5,
 * and diffusers' final latent from the engine's last x̂0 and `finalSigma`.
 *
 * Tolerance, relative to the largest value: 2e-5 for the float32 UNets
 * (measured ≤ 2e-6: ORT against torch in float32, over four steps), 5e-4 for
 * the float16 UNet (measured ≤ 7e-5: its input and output are rounded to 11
 * bits in both implementations, not always the same way). Leaving out the
 * final step to σ(ᾱ_0) would miss diffusers' latent by ~1e-3.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../electron/engine/models';
import { sample } from '../../electron/engine/samplers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'diffusers');

interface Tensor {
  shape: number[];
  data: number[];
}
interface ReferenceRun {
  steps: number;
  timesteps: number[];
  sigmas: number[];
  states: Tensor;
  x0Hat: Tensor;
  finalLatent: Tensor;
}
interface Pipeline {
  prompt: string;
  negativePrompt: string;
  guidance: number;
  run: ReferenceRun;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { pipelines: Record<string, Pipeline> };

const home = mkdtempSync(join(tmpdir(), 'painter-diffusers-run-'));
const registry = new ModelRegistry({ bundledFolder: join(home, 'none'), userFolders: [], provider: 'cpu', dataDir: home });
afterAll(async () => {
  await registry.dispose();
  rmSync(home, { recursive: true, force: true });
});

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

function expectNear(actual: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string): void {
  expect(actual.length, what).toBe(want.length);
  const scale = Math.max(1, maxAbs(want));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - want[i]!));
  expect(worst / scale, `${what}: worst |Δ| ${worst} (scale ${scale})`).toBeLessThan(tolerance);
}

describe("a whole run equals diffusers' own sampler", () => {
  for (const [name, tolerance] of [
    ['tiny-sd', 2e-5],
    ['tiny-sd-float-t', 2e-5],
    ['tiny-sd-fp16', 5e-4],
  ] as const) {
    it(name, async () => {
      const reference = expected.pipelines[name]!;
      const { run } = reference;
      const model = await registry.addFolder(join(FIXTURES, name));
      const pipeline = await registry.loadPipeline(model.manifest.id);
      const schedule = pipeline.schedule;

      const sigmas = schedule.samplingSigmas(run.steps, 'euler');
      expect(Array.from(schedule.samplingTimesteps(run.steps))).toEqual(run.timesteps);
      for (let i = 0; i <= run.steps; i++) expect(Math.abs(sigmas[i]! - run.sigmas[i]!)).toBeLessThanOrEqual(1e-12 * run.sigmas[0]!);
      for (let i = 0; i < run.steps; i++) expect(schedule.timestepOf(sigmas[i]!)).toBe(run.timesteps[i]);

      const dim = run.states.data.length / run.steps;
      const text = await pipeline.textCondition(reference.prompt, reference.negativePrompt);
      const trajectory = await sample({
        denoiser: pipeline.denoiser(),
        sampler: 'euler',
        sigmas,
        seeds: [0],
        condition: { labels: [null], guidance: reference.guidance, text },
        start: { step: 0, state: Float64Array.from(run.states.data.slice(0, dim)) },
      });
      for (let i = 0; i < run.steps; i++) {
        expectNear(trajectory.states.subarray(i * dim, (i + 1) * dim), run.states.data.slice(i * dim, (i + 1) * dim), tolerance, `state ${i}`);
        expectNear(trajectory.x0Hat.subarray(i * dim, (i + 1) * dim), run.x0Hat.data.slice(i * dim, (i + 1) * dim), tolerance, `x̂0 ${i}`);
      }

      // The engine's grid ends at σ = 0 (its last state is the last x̂0); diffusers' last step
      // stops at finalSigma: x̂0 + σ_f·ε̂ in σ form, × 1/√(1 + σ_f²) for the latent it returns.
      const last = run.steps - 1;
      const finalSigma = schedule.finalSigma(run.steps);
      const x = trajectory.states.subarray(last * dim, (last + 1) * dim);
      const x0 = trajectory.states.subarray(run.steps * dim, (run.steps + 1) * dim);
      const latent = Float64Array.from(x0, (v, k) => (v + (finalSigma * (x[k]! - v)) / sigmas[last]!) / Math.sqrt(1 + finalSigma * finalSigma));
      expectNear(latent, run.finalLatent.data, tolerance, 'final latent');
      if (name !== 'tiny-sd-fp16') expect(finalSigma).toBeGreaterThan(0); // set_alpha_to_one false: diffusers stops at σ(ᾱ_0)
    });
  }
});
