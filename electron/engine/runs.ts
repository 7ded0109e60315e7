/**
 * Runs are data (DESIGN.md §4): one safetensors file per run, with tensors
 * `x_t` and `x0_hat` [steps+1, C, H, W] (F32), `sigma` [steps+1] (F64),
 * `evaluations` [steps+1] (I32), and the run's settings as JSON in the
 * metadata key "painter.run". Written atomically; validated when read.
 *
 * Python: `safetensors.numpy.load_file(path)`; metadata via `safe_open(path, "np").metadata()`.
 */
import type { GenerateRequest, RunSummary, BranchInfo, StateConvention } from '../api/contract';
import { PainterError } from './errors';
import type { ImageSpec } from './manifest';
import { parseSafetensors, readSafetensors, readSafetensorsMetadata, serializeSafetensors, writeFileAtomic, type SafetensorsFile } from './safetensors';
import { SAMPLER_NAMES } from '../api/contract';

export const RUN_FORMAT = 'painter.run/1';

export interface RunRecord {
  summary: RunSummary;
  manifestHash: string;
  image: ImageSpec;
  /** States in the model's own convention, [stepCount·D]. */
  xt: Float32Array;
  x0Hat: Float32Array;
}

interface RunMetadata {
  format: string;
  runId: string;
  modelId: string;
  manifestHash: string;
  settings: GenerateRequest;
  image: ImageSpec;
  seconds: number;
  createdAt: string;
  branch: BranchInfo | null;
  convention: StateConvention;
  origin?: RunSummary['origin'];
}

export function serializeRun(run: RunRecord): Uint8Array {
  const { summary, image } = run;
  const shape = [summary.stepCount, image.channels, image.height, image.width];
  const metadata: RunMetadata = {
    format: RUN_FORMAT,
    runId: summary.runId,
    modelId: summary.modelId,
    manifestHash: run.manifestHash,
    settings: summary.settings,
    image,
    seconds: summary.seconds,
    createdAt: summary.createdAt,
    branch: summary.branch,
    convention: summary.convention,
    ...(summary.origin ? { origin: summary.origin } : {}),
  };
  return serializeSafetensors(
    {
      x_t: { dtype: 'F32', shape, data: run.xt },
      x0_hat: { dtype: 'F32', shape, data: run.x0Hat },
      sigma: { dtype: 'F64', shape: [summary.stepCount], data: Float64Array.from(summary.sigmas) },
      evaluations: { dtype: 'I32', shape: [summary.stepCount], data: Int32Array.from(summary.evaluations) },
    },
    { 'painter.run': JSON.stringify(metadata), format: RUN_FORMAT },
  );
}

function notARun(path: string, reason: string): PainterError {
  return new PainterError('BAD_FILE', `${path} is not a Painter run: ${reason}.`, { path });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkSettings(value: unknown, path: string): GenerateRequest {
  if (!isRecord(value)) throw notARun(path, 'its settings are missing');
  const { modelId, seed, steps, sampler, classLabel, guidance } = value;
  if (
    typeof modelId !== 'string' ||
    typeof seed !== 'number' ||
    typeof steps !== 'number' ||
    typeof sampler !== 'string' ||
    !(SAMPLER_NAMES as readonly string[]).includes(sampler) ||
    !(classLabel === null || typeof classLabel === 'number') ||
    typeof guidance !== 'number'
  ) {
    throw notARun(path, 'its settings are incomplete');
  }
  return value as unknown as GenerateRequest;
}

export function runFromSafetensors(file: SafetensorsFile, path: string): RunRecord {
  const text = file.metadata['painter.run'];
  if (text === undefined) throw notARun(path, 'it has no "painter.run" metadata (is it another program\'s safetensors file?)');
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    throw notARun(path, 'its metadata is not JSON');
  }
  if (!isRecord(meta) || meta['format'] !== RUN_FORMAT) throw notARun(path, `it is not in format ${RUN_FORMAT}`);
  const image = meta['image'];
  if (!isRecord(image) || typeof image['channels'] !== 'number' || typeof image['height'] !== 'number' || typeof image['width'] !== 'number') {
    throw notARun(path, 'its image description is missing');
  }
  const settings = checkSettings(meta['settings'], path);
  const tensor = (name: string): SafetensorsFile['tensors'] extends Map<string, infer T> ? T : never => {
    const entry = file.tensors.get(name);
    if (entry === undefined) throw notARun(path, `tensor "${name}" is missing`);
    return entry;
  };
  const sigma = tensor('sigma');
  const evaluations = tensor('evaluations');
  const xt = tensor('x_t');
  const x0 = tensor('x0_hat');
  const stepCount = sigma.shape[0] ?? 0;
  const expectedShape = [stepCount, image['channels'], image['height'], image['width']];
  for (const [name, entry] of [
    ['x_t', xt],
    ['x0_hat', x0],
  ] as const) {
    if (entry.dtype !== 'F32' || entry.shape.join() !== expectedShape.join()) {
      throw notARun(path, `tensor "${name}" is ${entry.dtype} [${entry.shape.join(', ')}]; expected F32 [${expectedShape.join(', ')}]`);
    }
  }
  if (sigma.dtype !== 'F64' || evaluations.dtype !== 'I32' || evaluations.shape[0] !== stepCount || stepCount < 2) {
    throw notARun(path, 'its sigma/evaluations tensors do not match');
  }
  const branch = meta['branch'];
  const summary: RunSummary = {
    runId: String(meta['runId']),
    modelId: String(meta['modelId']),
    settings,
    stepCount,
    sigmas: Array.from(sigma.data as Float64Array),
    evaluations: Array.from(evaluations.data as Int32Array),
    seconds: Number(meta['seconds']),
    createdAt: String(meta['createdAt']),
    branch: isRecord(branch) ? (branch as unknown as BranchInfo) : null,
    convention: meta['convention'] === 'vp' ? 'vp' : 'sigma',
  };
  const origin = meta['origin'];
  if (isRecord(origin)) {
    if (origin['kind'] !== 'image' || typeof origin['name'] !== 'string' || !Number.isInteger(origin['step']) || (origin['step'] as number) < 0 || (origin['step'] as number) >= stepCount) {
      throw notARun(path, 'its origin is malformed');
    }
    summary.origin = { kind: 'image', name: origin['name'].slice(0, 255), step: origin['step'] as number };
  }
  return {
    summary,
    manifestHash: String(meta['manifestHash']),
    image: image as unknown as ImageSpec,
    xt: xt.data as Float32Array,
    x0Hat: x0.data as Float32Array,
  };
}

export function parseRun(bytes: Uint8Array, path: string): RunRecord {
  return runFromSafetensors(parseSafetensors(bytes, path), path);
}

export function readRun(path: string): RunRecord {
  return runFromSafetensors(readSafetensors(path), path);
}

export function writeRun(path: string, run: RunRecord): void {
  writeFileAtomic(path, serializeRun(run));
}

/**
 * The run id a file's header names, when the file is a regular file (not a
 * symlink) holding a Painter run; null otherwise. Reads only the header.
 */
export function runIdOfFile(path: string): string | null {
  const text = readSafetensorsMetadata(path)?.['painter.run'];
  if (text === undefined) return null;
  try {
    const meta: unknown = JSON.parse(text);
    return isRecord(meta) && meta['format'] === RUN_FORMAT && typeof meta['runId'] === 'string' ? meta['runId'] : null;
  } catch {
    return null;
  }
}
