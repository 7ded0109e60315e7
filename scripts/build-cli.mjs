// Bundles the CLI, the engine worker and the benchmarks for plain Node (CommonJS,
// so onnxruntime-node's CommonJS exports load as they are). Runs on `npm install`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entryPoints = { cli: 'electron/cli/main.ts', 'engine-worker': 'electron/host/engine-worker.ts' };
if (existsSync('bench/bench.ts')) entryPoints.bench = 'bench/bench.ts';
if (existsSync('bench/studio-bench.ts')) entryPoints['studio-bench'] = 'bench/studio-bench.ts';
if (existsSync('bench/analysis-bench.ts')) entryPoints['analysis-bench'] = 'bench/analysis-bench.ts';
if (existsSync('bench/gpu-providers.ts')) entryPoints['gpu-providers'] = 'bench/gpu-providers.ts';
if (existsSync('bench/variations-bench.ts')) entryPoints['variations-bench'] = 'bench/variations-bench.ts';
if (existsSync('bench/sampler-accuracy.ts')) entryPoints['sampler-accuracy'] = 'bench/sampler-accuracy.ts';
if (existsSync('bench/local-patch.ts')) entryPoints['local-patch'] = 'bench/local-patch.ts';
if (existsSync('bench/diffusers-bench.ts')) entryPoints['diffusers-bench'] = 'bench/diffusers-bench.ts';

await build({
  entryPoints,
  outdir: 'out/cli',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['onnxruntime-node', 'ws', 'electron', 'playwright-core'],
  logLevel: 'warning',
});
