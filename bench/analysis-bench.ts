/**
 * Theory-lab benchmark (issue 4): never a CI gate; prints a table and a JSON line.
 *
 * - Top-16 Jacobian directions of the bundled network at one step (the middle
 *   of a 50-step run) within 400 forward passes, batched: time, forward passes,
 *   calls, and — to show the answer is worth having — its agreement with a
 *   reference run of 4× the budget (eigenvalues, principal angles). The
 *   ratio to bare forward passes at the same batch is the method's overhead.
 * - The default `painter report` on the bundled model, timed per analysis
 *   (skip with --no-report).
 *
 *   node scripts/build-cli.mjs && node out/cli/analysis-bench.cjs [--no-report] [--model FOLDER]
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveRunSettings } from '../electron/engine/analysis/context';
import { principalAngles } from '../electron/engine/analysis/linalg';
import { jacobianDirections } from '../electron/engine/analysis/jacobian';
import { runReport } from '../electron/engine/analysis/report';
import { findAnalytic, findGaussian, findJudge, resolveModel } from '../electron/engine/analysis/resources';
import { OnnxDenoiser } from '../electron/engine/denoisers/onnx';
import { ModelRegistry } from '../electron/engine/models';
import { sample } from '../electron/engine/samplers';

const ROOT = resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const modelArg = args.includes('--model') ? args[args.indexOf('--model') + 1]! : join(ROOT, 'native-models', 'fashion-mnist');
  const folder = existsSync(join(modelArg, 'manifest.json')) ? modelArg : join(ROOT, 'tests', 'fixtures', 'fixture-eps-int64');
  const registry = new ModelRegistry({ bundledFolder: join(ROOT, 'native-models') });
  try {
    const { model, denoiser } = await resolveModel(registry, folder);
    const run = resolveRunSettings({ steps: 50, seeds: [0] }, denoiser);
    const sigmas = denoiser.schedule.samplingSigmas(run.steps, 'euler');
    const trajectory = await sample({ denoiser, sampler: 'euler', sigmas, seeds: [0], condition: { labels: [null], guidance: 1 } });
    const step = 25;
    const x = trajectory.states.slice(step * denoiser.dim, (step + 1) * denoiser.dim);
    const k = Math.min(16, denoiser.dim);
    const configurations = [
      { label: 'budget 400, blocks of 8 (default)', budget: 400, blockSize: 8 },
      { label: 'budget 400, blocks of 4', budget: 400, blockSize: 4 },
      { label: 'budget 400, blocks of 20', budget: 400, blockSize: 20 },
      { label: 'reference: budget 1600, blocks of 16', budget: 1600, blockSize: 16 },
    ];
    const results = [];
    for (const c of configurations) {
      const blockSize = Math.min(c.blockSize, denoiser.dim);
      results.push(await jacobianDirections(denoiser, x, sigmas[step]!, run, { k, blockSize, budget: c.budget, toleranceDeg: 0, fdStep: 0.05, maxBatch: 64, seed: 0 }));
    }
    const reference = results[results.length - 1]!;
    let bareSeconds = Number.NaN;
    if (denoiser instanceof OnnxDenoiser) bareSeconds = await denoiser.timeBareForward(16, 20);
    console.log(`Top-${k} Jacobian directions of ${model.manifest.id} at step ${step} of 50 (σ = ${sigmas[step]!.toPrecision(3)}), provider ${denoiser.provider}`);
    const rows = results.map((r, i) => {
      const angles = principalAngles(r.directions, k, reference.directions, k, denoiser.dim);
      const degrees = (a: number): number => (a * 180) / Math.PI;
      const eigenError = Math.max(...r.eigenvalues.map((v, j) => Math.abs(v - reference.eigenvalues[j]!)));
      const row = {
        configuration: configurations[i]!.label,
        forwardPasses: r.forwardPasses,
        calls: r.calls,
        seconds: r.seconds,
        top8AngleDeg: degrees(angles[Math.min(7, k - 1)]!),
        top16AngleDeg: degrees(angles[k - 1]!),
        maxEigenvalueDifference: eigenError,
        asymmetry: r.asymmetry,
      };
      console.log(
        `  ${row.configuration.padEnd(38)} ${String(row.forwardPasses).padStart(5)} passes  ${String(row.calls).padStart(4)} calls  ${row.seconds.toFixed(2).padStart(6)} s` +
          (i < results.length - 1 ? `  vs reference: max |Δλ| ${eigenError.toFixed(4)}, 8th angle ${row.top8AngleDeg.toFixed(1)}°, 16th ${row.top16AngleDeg.toFixed(1)}°` : ''),
      );
      return row;
    });
    if (Number.isFinite(bareSeconds)) {
      const first = results[0]!;
      console.log(`  bare forward at batch 16: ${(bareSeconds * 1000).toFixed(2)} ms → default run = ${(first.seconds / (first.calls * bareSeconds)).toFixed(2)} × its bare forward time`);
    }
    console.log(`  top eigenvalues (default): ${results[0]!.eigenvalues.map((v) => v.toFixed(3)).join(' ')}`);

    let report: { seconds: Record<string, number | undefined>; total: number } | null = null;
    if (!args.includes('--no-report')) {
      const started = performance.now();
      const gaussian = await findGaussian(registry, model, denoiser);
      const data = await runReport({
        modelId: model.manifest.id,
        modelName: model.manifest.name,
        denoiser,
        gaussian,
        gmm: await findAnalytic(registry, model, 'gmm'),
        delta: await findAnalytic(registry, model, 'delta'),
        judge: await findJudge(registry, model, denoiser),
      });
      const total = (performance.now() - started) / 1000;
      report = { seconds: data.seconds, total };
      console.log(`Default report on ${model.manifest.id}: ${total.toFixed(1)} s (target < 180 s)`);
      console.log(`  ${Object.entries(data.seconds).map(([name, s]) => `${name} ${(s ?? 0).toFixed(1)} s`).join(', ')}`);
    }
    console.log(JSON.stringify({ model: model.manifest.id, step, sigma: sigmas[step], jacobian: rows, bareForwardBatch16Ms: bareSeconds * 1000, report }));
  } finally {
    await registry.dispose();
  }
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
