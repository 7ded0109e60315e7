/**
 * `npm run bench:providers` (and scripts/gpu-machine.sh on a lent GPU
 * machine): every bundled network on every execution provider this build of
 * onnxruntime-node has, one process, no network access needed.
 *
 * Per network × provider: the provider actually used (a fallback is reported
 * with its notice, not timed), the self-check difference from CPU, the bare
 * forward time at batch 1, 16 and 64, the wall time of a 50-step Euler run
 * (batch 1, class 0 where the network takes one), and the largest difference
 * of that run's final image from the CPU run's (data units; images span 2).
 *
 *   node out/cli/gpu-providers.cjs [--json OUT.json] [--cards] [--providers webgpu,cuda,cpu]
 *
 * --cards writes the table into each network's MODEL_CARD.md between the
 * markers <!-- providers:begin --> and <!-- providers:end --> (appended once).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { ProviderName } from '../electron/api/contract';
import { OnnxDenoiser, platformName, providerOptionsHere } from '../electron/engine/denoisers/onnx';
import type { OnnxManifest } from '../electron/engine/manifest';
import { readManifest } from '../electron/engine/models';
import { AUTO_ORDER, PROVIDER_LABELS } from '../electron/engine/providers';
import { sample } from '../electron/engine/samplers';
import { maxAbsDiff } from '../electron/engine/tensor';

const ROOT = resolve(__dirname, '..', '..');
const NETWORKS = ['fashion-mnist', 'emoji32'];
const BATCHES = [1, 16, 64] as const;
const STEPS = 50;

interface Row {
  model: string;
  requested: ProviderName;
  used: ProviderName | null;
  notice: string | null;
  selfCheckDifference: number | null;
  forwardMs: Partial<Record<(typeof BATCHES)[number], number>>;
  run50Ms: number | null;
  maxDiffFromCpu: number | null;
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function fiftyStepRun(denoiser: OnnxDenoiser): Promise<{ ms: number; final: Float32Array }> {
  const sigmas = denoiser.schedule.samplingSigmas(STEPS, 'euler');
  const labels = denoiser.classes !== null ? [0] : [null];
  const once = (): ReturnType<typeof sample> => sample({ denoiser, sampler: 'euler', sigmas, seeds: [0], condition: { labels, guidance: 1 } });
  await once(); // warm-up: GPU providers compile kernels on the first runs
  const repeats = 3;
  const started = performance.now();
  let trajectory = await once();
  for (let r = 1; r < repeats; r++) trajectory = await once();
  const ms = (performance.now() - started) / repeats;
  const dim = denoiser.dim;
  return { ms, final: trajectory.x0Hat.slice(STEPS * dim, (STEPS + 1) * dim) };
}

async function measure(model: string, requested: ProviderName, cpuFinal: Float32Array | null): Promise<{ row: Row; final: Float32Array | null }> {
  const folder = join(ROOT, 'native-models', model);
  const manifest = readManifest(folder).manifest as OnnxManifest;
  const row: Row = { model, requested, used: null, notice: null, selfCheckDifference: null, forwardMs: {}, run50Ms: null, maxDiffFromCpu: null };
  let denoiser: OnnxDenoiser;
  try {
    denoiser = await OnnxDenoiser.load(manifest, join(folder, manifest.onnx.file), { provider: requested });
  } catch (error) {
    row.notice = (error as Error).message;
    return { row, final: null };
  }
  try {
    row.used = denoiser.provider;
    row.notice = denoiser.providerNotices.join(' ') || null;
    if (denoiser.provider !== requested) return { row, final: null };
    row.selfCheckDifference = denoiser.selfCheckDifference;
    for (const batch of BATCHES) row.forwardMs[batch] = (await denoiser.timeBareForward(batch, batch === 1 ? 50 : batch === 16 ? 10 : 4)) * 1000;
    const run = await fiftyStepRun(denoiser);
    row.run50Ms = run.ms;
    row.maxDiffFromCpu = cpuFinal === null ? 0 : maxAbsDiff(run.final, cpuFinal);
    return { row, final: run.final };
  } finally {
    await denoiser.dispose();
  }
}

function table(rows: readonly Row[], model: string): string {
  const lines = [
    `| provider | used | self-check Δ | forward b=1 | b=16 | b=64 | 50-step run | max Δ final vs CPU |`,
    `|---|---|---|---|---|---|---|---|`,
  ];
  const ms = (value: number | undefined | null): string => (value === undefined || value === null ? '—' : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  for (const row of rows.filter((r) => r.model === model)) {
    const used = row.used === null ? 'failed' : row.used === row.requested ? PROVIDER_LABELS[row.used] : `fell back to ${PROVIDER_LABELS[row.used]}`;
    lines.push(
      `| ${PROVIDER_LABELS[row.requested]} | ${used} | ${row.selfCheckDifference === null ? '—' : row.selfCheckDifference.toExponential(1)} | ${ms(row.forwardMs[1])} | ${ms(row.forwardMs[16])} | ${ms(row.forwardMs[64])} | ${ms(row.run50Ms)} | ${row.maxDiffFromCpu === null ? '—' : row.maxDiffFromCpu.toExponential(1)} |`,
    );
  }
  const notes = rows.filter((r) => r.model === model && r.notice !== null).map((r) => `- ${PROVIDER_LABELS[r.requested]}: ${r.notice}`);
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

function writeCard(model: string, rows: readonly Row[], machine: string): void {
  const card = join(ROOT, 'native-models', model, 'MODEL_CARD.md');
  if (!existsSync(card)) return;
  const section = [
    '<!-- providers:begin -->',
    '## Execution providers',
    '',
    `Measured by \`npm run bench:providers\` on ${machine}, ${new Date().toISOString().slice(0, 10)}: bare forward time per call, a ${STEPS}-step Euler run (batch 1), and the largest difference of its final image from the CPU run's (data units, range [−1, 1]).`,
    '',
    table(rows, model),
    '<!-- providers:end -->',
  ].join('\n');
  const text = readFileSync(card, 'utf-8');
  const pattern = /<!-- providers:begin -->[\s\S]*?<!-- providers:end -->/;
  writeFileSync(card, pattern.test(text) ? text.replace(pattern, section) : `${text.trimEnd()}\n\n${section}\n`);
}

async function main(): Promise<void> {
  const options = providerOptionsHere();
  const only = argument('providers')?.split(',').map((name) => name.trim());
  // Every provider this build lists (CUDA even when its libraries look absent: the row then says why), CPU first as the reference.
  const providers = (['cpu', ...AUTO_ORDER.filter((name) => name !== 'cpu')] as ProviderName[]).filter(
    (name) => options.find((option) => option.name === name)!.inBuild && (only === undefined || only.includes(name) || name === 'cpu'),
  );
  const machine = `${platformName()}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}`;
  console.log(`Execution providers on ${machine}: ${providers.map((name) => PROVIDER_LABELS[name]).join(', ')}`);
  const rows: Row[] = [];
  for (const model of NETWORKS) {
    if (!existsSync(join(ROOT, 'native-models', model, 'manifest.json'))) continue;
    let cpuFinal: Float32Array | null = null;
    for (const provider of providers) {
      const { row, final } = await measure(model, provider, cpuFinal);
      if (provider === 'cpu') cpuFinal = final;
      rows.push(row);
    }
    console.log(`\n${model}\n${table(rows, model)}`);
  }
  const json = argument('json');
  if (json !== undefined) writeFileSync(resolve(json), `${JSON.stringify({ machine, rows }, null, 2)}\n`);
  if (process.argv.includes('--cards')) for (const model of NETWORKS) writeCard(model, rows, machine);
}

main().catch((error: unknown) => {
  console.error(`bench:providers: ${(error as Error).message}`);
  process.exit(1);
});
