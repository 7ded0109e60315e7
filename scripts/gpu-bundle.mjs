// `npm run gpu:bundle`: prepares out/gpu-bundle/, what scripts/gpu-machine.sh
// needs on a GPU machine that reaches no network (carry it there; ≈ 48 MB):
//   gpu-providers.cjs                 the provider benchmark (bench/gpu-providers.ts), bundled
//   node_modules/onnxruntime-node     its JS and the Linux x64 binaries only (WebGPU is inside libonnxruntime.so.1)
//   node_modules/onnxruntime-common
//   vulkan/libvulkan.so.1             Debian's Vulkan loader (libvulkan1), for a machine whose driver has no loader
// Needs apt-get (Debian's registry) for the loader; the rest comes from node_modules.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const bundle = 'out/gpu-bundle';
rmSync(bundle, { recursive: true, force: true });
mkdirSync(bundle, { recursive: true });

await build({
  entryPoints: { 'gpu-providers': 'bench/gpu-providers.ts' },
  outdir: bundle,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  external: ['onnxruntime-node'],
  logLevel: 'warning',
});

const ort = join(bundle, 'node_modules', 'onnxruntime-node');
cpSync('node_modules/onnxruntime-node/package.json', join(ort, 'package.json'));
cpSync('node_modules/onnxruntime-node/dist', join(ort, 'dist'), { recursive: true });
cpSync('node_modules/onnxruntime-node/bin/napi-v6/linux/x64', join(ort, 'bin', 'napi-v6', 'linux', 'x64'), { recursive: true });
cpSync('node_modules/onnxruntime-common', join(bundle, 'node_modules', 'onnxruntime-common'), { recursive: true });

const scratch = mkdtempSync(join(tmpdir(), 'painter-vulkan-'));
try {
  execFileSync('apt-get', ['download', 'libvulkan1'], { cwd: scratch, stdio: 'ignore' });
  const deb = readdirSync(scratch).find((name) => name.endsWith('.deb'));
  execFileSync('dpkg-deb', ['-x', join(scratch, deb), join(scratch, 'root')]);
  const lib = join(scratch, 'root', 'usr', 'lib', 'x86_64-linux-gnu');
  mkdirSync(join(bundle, 'vulkan'), { recursive: true });
  for (const name of readdirSync(lib).filter((n) => n.startsWith('libvulkan.so'))) cpSync(join(lib, name), join(bundle, 'vulkan', name), { dereference: true });
  console.log(`gpu:bundle: Vulkan loader from ${deb}`);
} catch (error) {
  console.warn(`gpu:bundle: no Vulkan loader bundled (${error.message.split('\n')[0]}); the GPU machine must have libvulkan.so.1.`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`gpu:bundle: ${bundle} ready (${existsSync(join(bundle, 'vulkan')) ? 'with' : 'without'} a Vulkan loader). On the GPU machine: bash scripts/gpu-machine.sh`);
