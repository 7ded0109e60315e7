/**
 * Execution providers: the fallback chain, the self-check measure, the notices,
 * and — with the real onnxruntime-node build of this machine — what `auto`
 * and each explicit choice do here. A machine where WebGPU finds an adapter
 * takes the other branch of the WebGPU test and checks the self-check passed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderChoice } from '../../electron/api/contract';
import type { OnnxManifest } from '../../electron/engine/manifest';
import { OnnxDenoiser, providerOptionsHere } from '../../electron/engine/denoisers/onnx';
import { readManifest } from '../../electron/engine/models';
import {
  AUTO_ORDER,
  passesSelfCheck,
  providerChain,
  providerFailureReason,
  providerOptions,
  relativeMaxDifference,
  SELF_CHECK_TOLERANCE,
  startFailureNotice,
  type BackendInfo,
} from '../../electron/engine/providers';
import { Engine } from '../../electron/engine/service';
import { readRun } from '../../electron/engine/runs';
import { SETTINGS_FILE } from '../../electron/engine/settings';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = join(__dirname, '..', '..');
const NATIVE = join(ROOT, 'native-models');

/** What `ort.listSupportedBackends()` answers on each platform's onnxruntime-node 1.30 package (read from its bindings). */
const BACKENDS: Record<string, BackendInfo[]> = {
  'linux-x64': [
    { name: 'cpu', bundled: true },
    { name: 'webgpu', bundled: true },
    { name: 'cuda', bundled: false },
    { name: 'tensorrt', bundled: false },
  ],
  'win32-x64': [
    { name: 'cpu', bundled: true },
    { name: 'dml', bundled: true },
    { name: 'webgpu', bundled: true },
  ],
  'darwin-arm64': [
    { name: 'cpu', bundled: true },
    { name: 'coreml', bundled: true },
    { name: 'webgpu', bundled: true },
  ],
  'linux-arm64': [{ name: 'cpu', bundled: true }],
};

const none = (): boolean => false;
const all = (): boolean => true;

describe('the fallback chain', () => {
  it('auto keeps the providers each platform ships, in the order WebGPU, CUDA, DirectML, CoreML, CPU', () => {
    const chain = (platform: string, installed = none): string[] => providerChain('auto', providerOptions(BACKENDS[platform]!, installed, platform));
    expect(chain('linux-x64')).toEqual(['webgpu', 'cpu']);
    expect(chain('linux-x64', all)).toEqual(['webgpu', 'cuda', 'cpu']);
    expect(chain('win32-x64')).toEqual(['webgpu', 'dml', 'cpu']);
    expect(chain('darwin-arm64')).toEqual(['webgpu', 'coreml', 'cpu']);
    expect(chain('linux-arm64')).toEqual(['cpu']);
  });

  it('an explicit choice is tried, then CPU; CPU alone is CPU', () => {
    const options = providerOptions(BACKENDS['linux-x64']!, none, 'linux-x64');
    expect(providerChain('cuda', options)).toEqual(['cuda', 'cpu']);
    expect(providerChain('dml', options)).toEqual(['dml', 'cpu']);
    expect(providerChain('cpu', options)).toEqual(['cpu']);
  });

  it('says which providers a build lacks, which need installing, and states every tolerance', () => {
    const options = providerOptions(BACKENDS['linux-x64']!, none, 'linux-x64');
    const by = Object.fromEntries(options.map((option) => [option.name, option]));
    expect(options.map((option) => option.name)).toEqual(AUTO_ORDER);
    expect(by['webgpu']).toMatchObject({ inBuild: true, available: true, tolerance: 1e-3 });
    expect(by['cuda']).toMatchObject({ inBuild: true, available: false, tolerance: 1e-2 });
    expect(by['cuda']!.note).toMatch(/npm run gpu:cuda/);
    expect(by['dml']).toMatchObject({ inBuild: false, available: false });
    expect(by['dml']!.note).toMatch(/linux-x64.*Windows/);
    expect(by['cpu']).toMatchObject({ inBuild: true, available: true, tolerance: 0 });
  });
});

describe('the self-check measure', () => {
  it('is max |a − b| over RMS(b), against a hand computation', () => {
    // RMS([3, 4]) = √(25/2) = 3.5355…; the largest difference is 0.1.
    expect(relativeMaxDifference([3.1, 4], [3, 4])).toBeCloseTo(0.1 / Math.sqrt(12.5), 12);
    expect(relativeMaxDifference([3, 4], [3, 4])).toBe(0);
    expect(relativeMaxDifference([3, 4, 5], [3, 4])).toBe(Number.POSITIVE_INFINITY);
  });

  it('never passes NaN or ∞, passes at and below the tolerance, fails above', () => {
    expect(relativeMaxDifference([Number.NaN, 4], [3, 4])).toBeNaN();
    expect(relativeMaxDifference([3, 4, Number.NaN], [3, 4, 5])).toBeNaN();
    expect(passesSelfCheck('webgpu', Number.NaN)).toBe(false);
    expect(passesSelfCheck('webgpu', Number.POSITIVE_INFINITY)).toBe(false);
    expect(passesSelfCheck('webgpu', SELF_CHECK_TOLERANCE.webgpu)).toBe(true);
    expect(passesSelfCheck('webgpu', 1.01 * SELF_CHECK_TOLERANCE.webgpu)).toBe(false);
    expect(passesSelfCheck('coreml', 0.04)).toBe(true);
  });
});

describe('provider failure reasons', () => {
  it("reduce ONNX Runtime's messages to the sentence that matters", () => {
    const webgpu =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    expect(providerFailureReason(new Error(webgpu))).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(providerFailureReason(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'))).toBe(
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
    );
    expect(providerFailureReason(new Error('[ONNXRuntimeError] : 1 : FAIL : Failed to load library libcudnn.so.9'))).toBe('Failed to load library libcudnn.so.9');
  });

  it('tell a CUDA user what to install', () => {
    expect(startFailureNotice('cuda', 'model "m"', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', 'cpu')).toBe(
      'CUDA could not start for model "m" (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library); running on CPU. CUDA needs `npm run gpu:cuda` and an NVIDIA driver with CUDA 12 and cuDNN 9.',
    );
  });
});

describe('execution providers on this machine (real onnxruntime-node)', () => {
  const opened: OnnxDenoiser[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((denoiser) => denoiser.dispose()));
  });
  const load = async (provider: ProviderChoice): Promise<{ denoiser: OnnxDenoiser; notices: string[] }> => {
    const { manifest } = readManifest(join(NATIVE, 'fashion-mnist'));
    const onnx = manifest as OnnxManifest;
    const notices: string[] = [];
    const denoiser = await OnnxDenoiser.load(onnx, join(NATIVE, 'fashion-mnist', onnx.onnx.file), { provider, onProviderFallback: (message) => notices.push(message) });
    opened.push(denoiser);
    return { denoiser, notices };
  };
  const here = providerOptionsHere();
  const webgpuHere = here.find((option) => option.name === 'webgpu')!.available;

  it.runIf(webgpuHere)('auto: WebGPU without an adapter leaves exactly one notice and runs on CPU (or, with an adapter, passes its self-check)', async () => {
    const { denoiser, notices } = await load('auto');
    expect(denoiser.providerNotices).toEqual(notices);
    if (denoiser.provider === 'webgpu') {
      expect(notices).toEqual([]);
      expect(denoiser.selfCheckDifference).not.toBeNull();
      expect(denoiser.selfCheckDifference!).toBeLessThanOrEqual(SELF_CHECK_TOLERANCE.webgpu);
    } else {
      expect(denoiser.provider).toBe('cpu');
      // Here (no GPU, no Vulkan driver) Dawn's reason is "No supported adapters"; other GPU-less machines may word it otherwise.
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^WebGPU could not start for model "fashion-mnist" \(Failed to get a WebGPU adapter: [^()]+\); running on CPU\.$/);
    }
  });

  it('an explicit provider this build lacks is not tried: one notice naming the platform, then CPU', async () => {
    const missing = here.find((option) => !option.inBuild);
    if (missing === undefined) return; // every provider is in this build (no such platform ships today)
    const { denoiser, notices } = await load(missing.name);
    expect(denoiser.provider).toBe('cpu');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`^${missing.label} is not in this build of ONNX Runtime for ${process.platform}-${process.arch} .*; running model "fashion-mnist" on CPU\\.$`));
  });

  it.runIf(here.find((option) => option.name === 'cuda')?.inBuild === true && !here.find((option) => option.name === 'cuda')!.available)(
    'explicit CUDA without its libraries: one notice with what to install, then CPU; auto does not try it',
    async () => {
      const { denoiser, notices } = await load('cuda');
      expect(denoiser.provider).toBe('cpu');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^CUDA could not start for model "fashion-mnist" \(.*Failed to load shared library\); running on CPU\. CUDA needs `npm run gpu:cuda`/);
    },
  );

  it('cpu: no notice, no self-check', async () => {
    const { denoiser, notices } = await load('cpu');
    expect(denoiser.provider).toBe('cpu');
    expect(notices).toEqual([]);
    expect(denoiser.selfCheckDifference).toBeNull();
  });
});

describe('the engine records and switches the provider', () => {
  const home = mkdtempSync(join(tmpdir(), 'painter-providers-'));
  const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
  afterAll(() => engine.dispose());

  it('records the provider in the run and its file, and shows it beside the model', async () => {
    const summary = await engine.generate({ modelId: 'fixture-eps-int64', seed: 1, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    const info = (await engine.call('listModels', {})).find((model) => model.id === 'fixture-eps-int64')!;
    expect(['cpu', 'webgpu']).toContain(summary.provider);
    expect(info.provider).toBe(summary.provider);
    if (summary.provider === 'cpu' && providerOptionsHere().find((option) => option.name === 'webgpu')!.available) {
      expect(info.providerNotice).toMatch(/^WebGPU could not start for model "fixture-eps-int64" \(.+\); running on CPU\.$/);
    }
    const file = readRun(join(home, 'runs', `${summary.runId}.safetensors`));
    expect(file.summary.provider).toBe(summary.provider);
    const analytic = await engine.generate({ modelId: 'fixture-gaussian', seed: 1, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    expect(analytic.provider).toBe('analytic');
  });

  it('saves a choice, reloads networks on it, and reads it back in a new engine', async () => {
    expect((await engine.call('providerSettings', {})).choice).toBe('auto');
    const settings = await engine.call('setProvider', { provider: 'cpu' });
    expect(settings).toMatchObject({ choice: 'cpu', source: 'settings', platform: `${process.platform}-${process.arch}` });
    expect(JSON.parse(readFileSync(join(home, SETTINGS_FILE), 'utf-8'))).toEqual({ provider: 'cpu' });
    const before = (await engine.call('listModels', {})).find((model) => model.id === 'fixture-eps-int64')!;
    expect(before.provider).toBe('cpu'); // released: shows the choice until it loads again
    const summary = await engine.generate({ modelId: 'fixture-eps-int64', seed: 1, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    expect(summary.provider).toBe('cpu');
    const after = (await engine.call('listModels', {})).find((model) => model.id === 'fixture-eps-int64')!;
    expect(after.providerNotice).toBeNull();
    const again = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
    expect((await again.call('providerSettings', {})).choice).toBe('cpu');
    await again.dispose();
  });

  it('refuses to switch when the command line fixed the provider', async () => {
    const fixed = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-providers-')), provider: 'cpu' });
    expect((await fixed.call('providerSettings', {})).source).toBe('override');
    await expect(fixed.call('setProvider', { provider: 'auto' })).rejects.toThrow(/fixed to "cpu" when the engine started/);
    await fixed.dispose();
  });
});
