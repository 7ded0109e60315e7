/**
 * Which ONNX Runtime execution provider a network runs on (DESIGN.md §4: GPU
 * where present, CPU always): the fallback chain, the self-check tolerances,
 * and the one-line notices a fallback produces. Pure policy — the sessions
 * themselves are made in denoisers/onnx.ts, the only onnxruntime importer,
 * which passes in what `ort.listSupportedBackends()` reports.
 */
import { PainterError } from './errors';
import { PROVIDER_CHOICES, type ProviderChoice, type ProviderName, type ProviderOption } from '../api/contract';

export const PROVIDER_LABELS: Readonly<Record<ProviderName, string>> = {
  webgpu: 'WebGPU',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
  cpu: 'CPU',
};

/**
 * `auto` tries these in order. WebGPU first: onnxruntime-node bundles it on
 * Linux x64, Windows and macOS arm64 and it needs only a graphics driver;
 * CUDA needs libraries that `npm run gpu:cuda` fetches; DirectML ships on
 * Windows, CoreML on macOS. CPU always works and is the reference.
 */
export const AUTO_ORDER: readonly ProviderName[] = ['webgpu', 'cuda', 'dml', 'coreml', 'cpu'];

/**
 * The self-check: one forward pass on a fixed input, on the provider and on
 * CPU; the provider passes when max |y − y_cpu| / RMS(y_cpu) ≤ its tolerance.
 * A broken kernel or a driver bug is off by O(1); the tolerances sit well
 * above each provider's honest rounding:
 * - WebGPU computes in float32 with its own summation order: ≲1e-5 expected, 1e-3 allowed.
 * - CUDA may run convolutions and matrix products in TF32 (10-bit mantissa,
 *   unit roundoff 2⁻¹¹ ≈ 5e-4) on Ampere and later: 1e-2 allowed.
 * - DirectML may let operators compute in float16 (unit roundoff 2⁻¹¹ per
 *   operation, accumulating over the network's depth): 3e-2 allowed.
 * - CoreML may place layers on the Neural Engine, which computes in float16: 5e-2 allowed.
 */
export const SELF_CHECK_TOLERANCE: Readonly<Record<ProviderName, number>> = {
  webgpu: 1e-3,
  cuda: 1e-2,
  dml: 3e-2,
  coreml: 5e-2,
  cpu: 0,
};

/** What `ort.listSupportedBackends()` says about one backend. */
export interface BackendInfo {
  name: string;
  /** Shipped inside the npm package (false: its libraries are fetched by the installer, e.g. CUDA). */
  bundled: boolean;
}

/** Where each provider ships, for the sentence shown when it is not in this build. */
const WHERE: Readonly<Record<ProviderName, string>> = {
  webgpu: 'onnxruntime-node bundles it on Linux x64, Windows and macOS (Apple silicon)',
  cuda: 'it runs on Linux x64 with an NVIDIA GPU, CUDA 12 and cuDNN 9, after `npm run gpu:cuda`',
  dml: 'it ships on Windows',
  coreml: 'it ships on macOS',
  cpu: 'it always ships',
};

export function parseProviderChoice(text: string, where: string): ProviderChoice {
  const value = text.trim().toLowerCase();
  if (!(PROVIDER_CHOICES as readonly string[]).includes(value)) {
    throw new PainterError('BAD_ARGUMENT', `${where} must be one of ${PROVIDER_CHOICES.join(', ')}; got "${text}".`, { value: text });
  }
  return value as ProviderChoice;
}

/**
 * Each provider as this build offers it. `installed(name)` says whether a
 * provider the package does not bundle (CUDA) has its libraries in place.
 */
export function providerOptions(backends: readonly BackendInfo[], installed: (name: ProviderName) => boolean, platform: string): ProviderOption[] {
  return AUTO_ORDER.map((name) => {
    const listed = name === 'cpu' || backends.some((backend) => backend.name === name);
    const present = listed && (name === 'cpu' || backends.find((backend) => backend.name === name)!.bundled || installed(name));
    let note: string;
    if (name === 'cpu') note = 'Always available; the reference the others are checked against.';
    else if (!listed) note = `Not in this build of ONNX Runtime for ${platform}: ${WHERE[name]}.`;
    else if (!present) note = `Its libraries are not installed: run \`npm run gpu:cuda\` (needs an NVIDIA driver, CUDA 12 and cuDNN 9).`;
    else if (name === 'webgpu') note = 'Bundled; needs a GPU driver with Vulkan (Linux), Direct3D 12 (Windows) or Metal (macOS).';
    else note = 'Installed; needs a working device, tried at the next model load.';
    return { name, label: PROVIDER_LABELS[name], inBuild: listed, available: present, note, tolerance: SELF_CHECK_TOLERANCE[name] };
  });
}

/**
 * The providers to try, in order, for a choice; always ends with CPU.
 * `auto` keeps only the providers this build offers and has installed, so a
 * CPU-only Linux machine tries WebGPU (bundled) and then CPU. An explicit
 * choice is always tried (the user asked for it), unless this build lacks it.
 */
export function providerChain(choice: ProviderChoice, options: readonly ProviderOption[]): ProviderName[] {
  if (choice === 'auto') return AUTO_ORDER.filter((name) => options.find((option) => option.name === name)?.available);
  if (choice === 'cpu') return ['cpu'];
  return [choice, 'cpu'];
}

/**
 * ONNX Runtime's error reduced to the sentence that matters, e.g.
 * "/onnxruntime_src/…/webgpu_context.cc:136 …::<lambda()> adapter_result.status == … was false. Failed to get a WebGPU adapter: No supported adapters"
 * → "Failed to get a WebGPU adapter: No supported adapters".
 */
export function providerFailureReason(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
  const afterCheck = /\bwas false\.\s*(.+)$/.exec(text);
  if (afterCheck) return afterCheck[1]!.trim();
  const afterStatus = /\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*(.+)$/.exec(text);
  if (afterStatus) return afterStatus[1]!.trim();
  return text.replace(/^\S+\.(?:cc|cpp|h):\d+\s+/, '') || 'unknown error';
}

/** What the user can do about a provider that could not start, when there is something. */
function hint(provider: ProviderName, reason: string): string {
  if (provider === 'cuda' && /shared library|\.so|\.dll/i.test(reason)) {
    return ' CUDA needs `npm run gpu:cuda` and an NVIDIA driver with CUDA 12 and cuDNN 9.';
  }
  return '';
}

/** The one-line notice for a provider that could not start. */
export function startFailureNotice(provider: ProviderName, subject: string, reason: string, next: ProviderName): string {
  return `${PROVIDER_LABELS[provider]} could not start for ${subject} (${reason}); running on ${PROVIDER_LABELS[next]}.${hint(provider, reason)}`;
}

/** The one-line notice for a provider this build does not have. */
export function notInBuildNotice(provider: ProviderName, subject: string, platform: string, next: ProviderName): string {
  return `${PROVIDER_LABELS[provider]} is not in this build of ONNX Runtime for ${platform} (${WHERE[provider]}); running ${subject} on ${PROVIDER_LABELS[next]}.`;
}

/** The one-line notice for a provider whose output disagreed with CPU. */
export function selfCheckNotice(provider: ProviderName, subject: string, difference: number, next: ProviderName): string {
  const shown = Number.isFinite(difference) ? difference.toExponential(1) : String(difference);
  return `${PROVIDER_LABELS[provider]} failed its self-check for ${subject} (max difference from CPU ${shown} of the output's RMS; tolerance ${SELF_CHECK_TOLERANCE[provider].toExponential(0)}); running on ${PROVIDER_LABELS[next]}.`;
}

/**
 * max |a − reference| / RMS(reference): the self-check's measure. NaN or ∞
 * anywhere in `a` makes it NaN/∞, which no tolerance accepts.
 */
export function relativeMaxDifference(a: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (a.length !== reference.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  let power = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(a[i]! - reference[i]!);
    if (Number.isNaN(d)) return Number.NaN;
    if (d > worst) worst = d;
    power += reference[i]! ** 2;
  }
  const rms = Math.sqrt(power / Math.max(reference.length, 1));
  return worst / Math.max(rms, 1e-12);
}

/** Whether a self-check difference passes (NaN never does). */
export function passesSelfCheck(provider: ProviderName, difference: number): boolean {
  return difference <= SELF_CHECK_TOLERANCE[provider];
}
