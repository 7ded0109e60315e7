// `npm run gpu:cuda`: re-runs onnxruntime-node's own installer with its CUDA 12
// flag (--onnxruntime-node-install=cuda12, see node_modules/onnxruntime-node/script/install.js),
// which downloads the CUDA execution provider's libraries from NuGet into the
// package's bin folder. Needs the network, an NVIDIA driver, CUDA 12 and cuDNN 9.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const packageRoot = dirname(dirname(require.resolve('onnxruntime-node')));
const installer = join(packageRoot, 'script', 'install.js');
const binFolder = join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch);
const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';

if (!(process.platform === 'linux' && process.arch === 'x64')) {
  console.error(`gpu:cuda: onnxruntime-node ${require('onnxruntime-node/package.json').version} installs CUDA only on Linux x64; this is ${process.platform}-${process.arch} (Windows uses DirectML, macOS CoreML, both bundled).`);
  process.exit(1);
}
const result = spawnSync(process.execPath, [installer, '--onnxruntime-node-install=cuda12'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf-8' });
if (result.status !== 0 || !existsSync(join(binFolder, library))) {
  const reason = (result.stderr ?? '').split('\n').find((line) => /Error|error:/.test(line))?.trim() ?? `exit code ${result.status}`;
  console.error(`gpu:cuda: the CUDA libraries could not be installed (${reason}). The installer downloads them from api.nuget.org; check the network or proxy (GLOBAL_AGENT_HTTPS_PROXY).`);
  process.exit(1);
}
console.log(`gpu:cuda: installed ${library} in ${binFolder}.`);
console.log('Painter now tries CUDA after WebGPU when the provider is "auto"; pick it explicitly with --provider cuda or in the studio\'s settings.');
