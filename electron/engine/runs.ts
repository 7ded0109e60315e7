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
import { quoteText } from './files';
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
  /** Execution provider the network ran on; absent in runs written before it was recorded. */
  provider?: string;
  warnings?: string[];
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
    ...(summary.provider !== undefined ? { provider: summary.provider } : {}),
    ...(summary.warnings === undefined ? {} : { warnings: summary.warnings }),
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

function notARun(path: string, reason: string, field?: string): PainterError {
  return new PainterError('BAD_FILE', `${quoteText(path)} is not a Painter run: ${reason}.`, field === undefined ? { path } : { path, field });
}

/** A metadata field that is missing or wrong, named as `painter.run.<field>`. */
function badField(path: string, field: string, expected: string): PainterError {
  return notARun(path, `its metadata field "painter.run.${field}" ${expected}`, `painter.run.${field}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isCount = (n: unknown, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max;
const isIndex = (n: unknown, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;
/** Run ids name autosave files; the engine makes UUIDs. */
const RUN_ID = /^[A-Za-z0-9-]{1,128}$/;

function checkImage(value: unknown, path: string): ImageSpec {
  if (!isRecord(value)) throw badField(path, 'image', 'is missing');
  const { channels, height, width, range, crop } = value;
  if (!isCount(channels, 64)) throw badField(path, 'image.channels', 'must be an integer from 1 to 64');
  if (!isCount(height, 4096)) throw badField(path, 'image.height', 'must be an integer from 1 to 4096');
  if (!isCount(width, 4096)) throw badField(path, 'image.width', 'must be an integer from 1 to 4096');
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(range[0] < range[1])) {
    throw badField(path, 'image.range', 'must be [low, high] with low < high');
  }
  const image: ImageSpec = { ...(value as unknown as ImageSpec), channels, height, width, range: [range[0], range[1]] };
  if (crop !== undefined) {
    if (!isRecord(crop)) throw badField(path, 'image.crop', 'must be {top, left, height, width}');
    const { top, left, height: h, width: w } = crop;
    if (!isIndex(top, height - 1) || !isIndex(left, width - 1) || !isCount(h, height - top) || !isCount(w, width - left)) {
      throw badField(path, 'image.crop', `must be {top, left, height, width} inside the ${height}×${width} image`);
    }
    image.crop = { top, left, height: h, width: w };
  }
  return image;
}

function checkSettings(value: unknown, path: string): GenerateRequest {
  if (!isRecord(value)) throw badField(path, 'settings', 'is missing');
  const { modelId, seed, steps, sampler, classLabel, guidance } = value;
  if (typeof modelId !== 'string' || modelId.length === 0 || modelId.length > 256) throw badField(path, 'settings.modelId', 'must be a model id');
  if (!isIndex(seed, 2 ** 32 - 1)) throw badField(path, 'settings.seed', 'must be an integer from 0 to 2^32 − 1');
  if (!isCount(steps, 100_000)) throw badField(path, 'settings.steps', 'must be a positive integer');
  if (typeof sampler !== 'string' || !(SAMPLER_NAMES as readonly string[]).includes(sampler)) throw badField(path, 'settings.sampler', `must be one of ${SAMPLER_NAMES.join(', ')}`);
  if (!(classLabel === null || isIndex(classLabel, 1_000_000))) throw badField(path, 'settings.classLabel', 'must be null or a class number');
  if (typeof guidance !== 'number' || !Number.isFinite(guidance)) throw badField(path, 'settings.guidance', 'must be a number');
  // Diffusers runs record their prompt pair and decoded size.
  for (const key of ['prompt', 'negativePrompt']) {
    if (value[key] !== undefined && typeof value[key] !== 'string') throw badField(path, `settings.${key}`, 'must be text');
  }
  for (const key of ['width', 'height']) {
    if (value[key] !== undefined && !isCount(value[key], 16384)) throw badField(path, `settings.${key}`, 'must be a positive integer');
  }
  return value as unknown as GenerateRequest;
}

function checkBranch(value: unknown, path: string): BranchInfo | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) throw badField(path, 'branch', 'must be null or an object');
  const { parentRunId, step, perturbation } = value;
  if (typeof parentRunId !== 'string' || !RUN_ID.test(parentRunId)) throw badField(path, 'branch.parentRunId', 'must be a run id');
  if (!isIndex(step, 100_000)) throw badField(path, 'branch.step', 'must be a step number');
  if (typeof perturbation !== 'string') throw badField(path, 'branch.perturbation', 'must be text');
  for (const key of ['contentChange', 'pixelChange']) {
    if (value[key] !== undefined && (typeof value[key] !== 'number' || !Number.isFinite(value[key]))) throw badField(path, `branch.${key}`, 'must be a number');
  }
  return value as unknown as BranchInfo;
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
  const runId = meta['runId'];
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw badField(path, 'runId', 'must be a run id (letters, digits and dashes)');
  const modelId = meta['modelId'];
  if (typeof modelId !== 'string' || modelId.length === 0 || modelId.length > 256) throw badField(path, 'modelId', 'must be a model id');
  const image = checkImage(meta['image'], path);
  const settings = checkSettings(meta['settings'], path);
  const branch = checkBranch(meta['branch'], path);
  const tensor = (name: string): SafetensorsFile['tensors'] extends Map<string, infer T> ? T : never => {
    const entry = file.tensors.get(name);
    if (entry === undefined) throw notARun(path, `tensor "${name}" is missing`, name);
    return entry;
  };
  const sigma = tensor('sigma');
  const evaluations = tensor('evaluations');
  const xt = tensor('x_t');
  const x0 = tensor('x0_hat');
  const stepCount = sigma.shape.length === 1 ? sigma.shape[0]! : 0;
  const expectedShape = [stepCount, image.channels, image.height, image.width];
  for (const [name, entry] of [
    ['x_t', xt],
    ['x0_hat', x0],
  ] as const) {
    if (entry.dtype !== 'F32' || entry.shape.join() !== expectedShape.join()) {
      throw notARun(path, `tensor "${name}" is ${entry.dtype} [${entry.shape.join(', ')}]; expected F32 [${expectedShape.join(', ')}]`, name);
    }
  }
  // A GAN run (its settings carry the latent z) is one state; a diffusion run has at least two.
  const minimumStates = Array.isArray(settings.latent) ? 1 : 2;
  if (sigma.dtype !== 'F64' || stepCount < minimumStates) throw notARun(path, `tensor "sigma" must be F64 with at least ${minimumStates} state${minimumStates > 1 ? 's' : ''}`, 'sigma');
  if (evaluations.dtype !== 'I32' || evaluations.shape.join() !== String(stepCount)) throw notARun(path, `tensor "evaluations" must be I32 [${stepCount}]`, 'evaluations');
  const sigmas = Array.from(sigma.data as Float64Array);
  if (!sigmas.every((s) => Number.isFinite(s) && s >= 0)) throw notARun(path, 'tensor "sigma" holds a negative or non-finite noise level', 'sigma');
  const seconds = meta['seconds'];
  const createdAt = meta['createdAt'];
  const summary: RunSummary = {
    runId,
    modelId,
    settings,
    stepCount,
    sigmas,
    evaluations: Array.from(evaluations.data as Int32Array),
    seconds: typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : 0,
    createdAt: typeof createdAt === 'string' ? createdAt.slice(0, 64) : '',
    branch,
    convention: meta['convention'] === 'vp' ? 'vp' : 'sigma',
  };
  const origin = meta['origin'];
  if (isRecord(origin)) {
    if (origin['kind'] !== 'image' || typeof origin['name'] !== 'string' || !Number.isInteger(origin['step']) || (origin['step'] as number) < 0 || (origin['step'] as number) >= stepCount) {
      throw notARun(path, 'its origin is malformed');
    }
    summary.origin = { kind: 'image', name: quoteText(origin['name'], 255), step: origin['step'] as number };
  }
  // A provider name as the engine writes it ("cpu", "webgpu", "analytic", …); anything else in a file is dropped.
  if (typeof meta['provider'] === 'string' && /^[a-z0-9-]{1,32}$/.test(meta['provider'])) summary.provider = meta['provider'];
  const warnings = meta['warnings'];
  if (Array.isArray(warnings) && warnings.every((w) => typeof w === 'string')) summary.warnings = warnings.slice(0, 8).map((w) => quoteText(w, 2000));
  return {
    summary,
    manifestHash: typeof meta['manifestHash'] === 'string' ? meta['manifestHash'] : '',
    image,
    xt: xt.data as Float32Array,
    x0Hat: x0.data as Float32Array,
  };
}

export function parseRun(bytes: Uint8Array, path: string): RunRecord {
  return runFromSafetensors(parseSafetensors(bytes, path), path);
}

export function readRun(path: string): RunRecord {
  return runFromSafetensors(readSafetensors(path, 'run'), path);
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
