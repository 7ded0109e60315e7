/**
 * `npm run bench:diffusers`: issue 10's per-step targets on the fixture's
 * tiny Stable Diffusion pipeline (tests/fixtures/diffusers/tiny-sd), measured
 * in one process and printed as ratios (never a CI gate):
 *
 * - Per-step overhead beyond the UNet call: wall time per step of a 30-step
 *   CFG run through the engine's API (scheduler, guidance, float conversions,
 *   progress previews, recording) ÷ one bare UNet call on the same batch of 2
 *   (prompt + negative prompt). Target ≤ 1.05. The tiny UNet makes this the
 *   hardest case: a real-size UNet call is 10³–10⁴ times longer while the
 *   engine's work per step grows only with the latent's size.
 * - Previews: the linear latent→RGB map on one state, a full VAE decode of a
 *   state (decodeState) and the same state again from the engine's cache.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyPreview } from '../electron/engine/diffusers/preview';
import { Engine } from '../electron/engine/service';

const ROOT = resolve(__dirname, '..', '..');
const FOLDER = join(ROOT, 'tests', 'fixtures', 'diffusers', 'tiny-sd');
const STEPS = 30;

interface Row {
  pixels: string;
  unetMs: number;
  stepMs: number;
  ratio: number;
  previewMs: number;
  decodeMs: number;
  cachedDecodeMs: number;
}

async function measure(engine: Engine, modelId: string, width: number, height: number): Promise<Row> {
  const pipeline = await engine.registry.loadPipeline(modelId);
  const grid = { height: height / 8, width: width / 8 };
  const request = { modelId, seed: 0, steps: STEPS, sampler: 'euler' as const, classLabel: null, guidance: 7.5, prompt: 'a watercolor fox', negativePrompt: '', width, height };
  const progress = { emit: (): void => {} };
  await engine.call('generate', { jobId: 'warm', ...request }, progress); // text states, preview map, warm sessions
  // Interleave runs and bare calls so that machine load affects both alike.
  const repeats = 3;
  let stepSeconds = 0;
  let unetSeconds = 0;
  let runId = '';
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    runId = (await engine.call('generate', { jobId: `run-${r}`, ...request, seed: r + 1 }, progress)).runId;
    stepSeconds += (performance.now() - started) / 1000 / STEPS;
    unetSeconds += await pipeline.timeBareForward(grid, 2, STEPS);
  }
  const run = engine.getRunRecord(runId);
  const map = await engine.registry.previewMap(modelId);
  const dim = run.image.channels * run.image.height * run.image.width;
  const state = run.x0Hat.subarray(15 * dim, 16 * dim);
  let started = performance.now();
  for (let i = 0; i < 100; i++) applyPreview(map, state, run.image);
  const previewMs = (performance.now() - started) / 100;
  started = performance.now();
  await engine.call('decodeState', { runId, step: 15, which: 'x0Hat' });
  const decodeMs = performance.now() - started;
  started = performance.now();
  for (let i = 0; i < 100; i++) await engine.call('decodeState', { runId, step: 15, which: 'x0Hat' });
  const cachedDecodeMs = (performance.now() - started) / 100;
  const unetMs = (unetSeconds / repeats) * 1000;
  const stepMs = (stepSeconds / repeats) * 1000;
  return { pixels: `${width}×${height}`, unetMs, stepMs, ratio: stepMs / unetMs, previewMs, decodeMs, cachedDecodeMs };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'painter-dbench-'));
  const engine = new Engine({ nativeModelsDir: join(home, 'none'), userDataDir: home, provider: 'cpu' });
  const { id } = await engine.call('addModelFolder', { folder: FOLDER });
  const rows: Row[] = [];
  // The fixture's default (64 px, an 8×8 latent) and Stable Diffusion 1.5's 512 px (a 64×64 latent).
  for (const size of [64, 512]) rows.push(await measure(engine, id, size, size));
  await engine.dispose();
  process.stdout.write('diffusers (tiny-sd fixture, CPU), 30-step CFG run through the engine API\n');
  process.stdout.write('size      UNet call  step    step/UNet  preview  VAE decode  cached decode\n');
  for (const row of rows) {
    process.stdout.write(
      `${row.pixels.padEnd(9)} ${row.unetMs.toFixed(2).padStart(6)} ms ${row.stepMs.toFixed(2).padStart(6)} ms ${row.ratio.toFixed(3).padStart(8)}  ${row.previewMs.toFixed(3).padStart(6)} ms ${row.decodeMs.toFixed(1).padStart(7)} ms ${row.cachedDecodeMs.toFixed(4).padStart(9)} ms\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ bench: 'diffusers', target: 'step/UNet ≤ 1.05', rows })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
