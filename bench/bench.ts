/**
 * `npm run bench`: performance targets as ratios measured in one process.
 * Never run in CI as a gate; prints a table and a JSON line.
 *
 * - Engine overhead: wall time of a 50-step Euler run ÷ (50 × one bare ONNX
 *   forward at the same batch). Target ≤ 1.15.
 * - Gaussian closed-form trajectory (all 50 states) of the 784-dimensional
 *   Fashion-MNIST Gaussian, beside the time of one 50-step network run.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AnalyticDenoiser } from '../electron/engine/denoisers/analytic';
import { OnnxDenoiser } from '../electron/engine/denoisers/onnx';
import { readManifest } from '../electron/engine/models';
import type { AnalyticManifest, OnnxManifest } from '../electron/engine/manifest';
import { initialNoise, sample } from '../electron/engine/samplers';

const ROOT = resolve(__dirname, '..', '..');

interface OverheadResult {
  model: string;
  batch: number;
  forwardMs: number;
  runMs: number;
  ratio: number;
}

async function loadOnnx(folder: string): Promise<OnnxDenoiser> {
  const manifest = readManifest(folder).manifest as OnnxManifest;
  return OnnxDenoiser.load(manifest, join(folder, manifest.onnx.file));
}

async function engineOverhead(folder: string, batch: number): Promise<OverheadResult> {
  const denoiser = await loadOnnx(folder);
  const steps = 50;
  const sigmas = denoiser.schedule.samplingSigmas(steps, 'euler');
  const seeds = Array.from({ length: batch }, (_, i) => i);
  const labels = denoiser.classes !== null && !denoiser.unconditional ? seeds.map(() => 0) : seeds.map(() => null);
  const runOnce = (): Promise<unknown> => sample({ denoiser, sampler: 'euler', sigmas, seeds, condition: { labels, guidance: 1 } });
  await runOnce(); // warm-up
  // Interleave the two measurements so machine load affects both alike.
  const repeats = 5;
  let runSeconds = 0;
  let forwardSeconds = 0;
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await runOnce();
    runSeconds += (performance.now() - started) / 1000;
    forwardSeconds += await denoiser.timeBareForward(batch, steps);
  }
  await denoiser.dispose();
  const forward = forwardSeconds / repeats;
  const run = runSeconds / repeats;
  return { model: readManifest(folder).manifest.id, batch, forwardMs: forward * 1000, runMs: run * 1000, ratio: run / (steps * forward) };
}

async function closedForm(): Promise<{ closedFormMs: number; analyticRunMs: number }> {
  const folder = join(ROOT, 'native-models', 'fashion-mnist-gaussian');
  const denoiser = AnalyticDenoiser.load(readManifest(folder).manifest as AnalyticManifest, folder);
  const sigmas = denoiser.schedule.samplingSigmas(50, 'euler');
  const start = initialNoise(denoiser, 1, sigmas[0]!);
  const gaussian = denoiser.gaussian!;
  gaussian.closedFormTrajectory(start, sigmas[0]!, sigmas);
  const repeats = 20;
  let started = performance.now();
  for (let i = 0; i < repeats; i++) gaussian.closedFormTrajectory(start, sigmas[0]!, sigmas);
  const closedFormMs = (performance.now() - started) / repeats;
  started = performance.now();
  await sample({ denoiser, sampler: 'euler', sigmas, seeds: [1] });
  const analyticRunMs = performance.now() - started;
  return { closedFormMs, analyticRunMs };
}

/** Batch-1 and batch-64 forward of each bundled network: onnxruntime-node vs eager PyTorch (Debian's python3-torch). */
async function networksVersusTorch(): Promise<void> {
  const python = '/usr/bin/python3';
  const networks = [
    ['fashion', join(ROOT, 'native-models', 'fashion-mnist')],
    ['emoji', join(ROOT, 'native-models', 'emoji32')],
  ] as const;
  const ort: Record<string, Record<string, number>> = {};
  for (const [name, folder] of networks) {
    if (!existsSync(join(folder, 'manifest.json'))) continue;
    const denoiser = await loadOnnx(folder);
    ort[name] = { '1': await denoiser.timeBareForward(1, 50), '64': await denoiser.timeBareForward(64, 5) };
    await denoiser.dispose();
  }
  const { spawnSync } = await import('node:child_process');
  const torchRun = existsSync(python) ? spawnSync(python, [join(ROOT, 'native-models', 'train', 'bench_forward.py'), '2'], { encoding: 'utf-8' }) : null;
  const line = torchRun?.stdout.trim().split('\n').pop();
  if (torchRun === null || torchRun.status !== 0 || line === undefined) {
    console.log('Networks vs eager PyTorch: skipped (needs /usr/bin/python3 with torch)');
    return;
  }
  const torch = JSON.parse(line) as Record<string, Record<string, number>>;
  console.log('Network forward: onnxruntime-node vs eager PyTorch (2 threads each), ratio = torch / ort');
  for (const name of Object.keys(ort)) {
    for (const batch of ['1', '64']) {
      const o = ort[name]![batch]!;
      const t = torch[name]![batch]!;
      console.log(`  ${name.padEnd(8)} batch ${batch.padStart(2)}  ort ${(o * 1000).toFixed(2)} ms  torch ${(t * 1000).toFixed(2)} ms  ratio ${(t / o).toFixed(1)}×`);
    }
  }
}

async function main(): Promise<void> {
  await networksVersusTorch();
  const results: OverheadResult[] = [];
  const candidates = [
    [join(ROOT, 'tests', 'fixtures', 'fixture-eps-int64'), [1, 64]],
    [join(ROOT, 'native-models', 'fashion-mnist'), [1, 64]],
    [join(ROOT, 'native-models', 'emoji32'), [1]],
  ] as const;
  for (const [folder, batches] of candidates) {
    if (!existsSync(join(folder, 'manifest.json'))) continue;
    for (const batch of batches) results.push(await engineOverhead(folder, batch));
  }
  console.log('Engine overhead: 50-step Euler run ÷ (50 × bare ONNX forward), target ≤ 1.15');
  for (const r of results) {
    console.log(`  ${r.model.padEnd(22)} batch ${String(r.batch).padStart(3)}  forward ${r.forwardMs.toFixed(3)} ms  run ${r.runMs.toFixed(1)} ms  ratio ${r.ratio.toFixed(3)}`);
  }
  const gaussian = await closedForm();
  const network = results.find((r) => r.model === 'fashion-mnist' && r.batch === 1);
  console.log('Gaussian closed-form trajectory, 50 states, D = 784');
  console.log(`  closed form ${gaussian.closedFormMs.toFixed(2)} ms; 50-step analytic Euler run ${gaussian.analyticRunMs.toFixed(1)} ms`);
  if (network) console.log(`  = ${(gaussian.closedFormMs / network.runMs).toFixed(3)} of one 50-step fashion-mnist network run (${network.runMs.toFixed(1)} ms)`);
  console.log(JSON.stringify({ overhead: results, gaussian }));
}

void main();
