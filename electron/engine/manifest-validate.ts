/**
 * Parses and validates manifest.json into a {@link ModelManifest}. Every
 * refusal names the field, what it holds and what was expected.
 */
import { PainterError } from './errors';
import type { ModelManifest, OnnxManifest, AnalyticManifest, ScheduleSpec, ImageSpec, ClassConditioning, OnnxIoSpec, LocalPatchSpec, GanManifest, GanIoSpec } from './manifest';

const PREDICTIONS = ['epsilon', 'x0', 'v'] as const;
const KINDS = ['onnx', 'gaussian', 'gmm', 'delta', 'local', 'gan'] as const;
const SCHEDULES = ['vp-linear', 'vp-cosine', 'vp-table', 'edm'] as const;
const SPACINGS = ['linspace', 'karras', 'tuned'] as const;
const EDM_SPACINGS = ['karras', 'tuned'] as const;
const DTYPES = ['float32', 'int64'] as const;
const ENCODINGS = ['index', 'fraction', 'continuous', 'sigma', 'edm-cnoise'] as const;
const VP_ENCODINGS: readonly string[] = ['index', 'fraction', 'continuous'];

class Reader {
  constructor(
    private readonly source: string,
    private readonly path: string,
  ) {}

  fail(field: string, message: string, value?: unknown): never {
    throw new PainterError('BAD_MANIFEST', `${this.source}: "${field}" ${message}`, { path: this.source, field, value });
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(field, 'must be an object.', value);
    return value as Record<string, unknown>;
  }

  string(record: Record<string, unknown>, key: string, prefix: string): string {
    const value = record[key];
    if (typeof value !== 'string' || value.length === 0) this.fail(prefix + key, value === undefined ? 'is missing.' : 'must be a non-empty string.', value);
    return value;
  }

  optionalString(record: Record<string, unknown>, key: string, prefix: string): string | undefined {
    return record[key] === undefined ? undefined : this.string(record, key, prefix);
  }

  number(record: Record<string, unknown>, key: string, prefix: string, check: (n: number) => boolean, expected: string): number {
    const value = record[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
      this.fail(prefix + key, value === undefined ? `is missing (expected ${expected}).` : `is ${JSON.stringify(value)}; expected ${expected}.`, value);
    }
    return value;
  }

  oneOf<T extends string>(record: Record<string, unknown>, key: string, prefix: string, choices: readonly T[]): T {
    const value = record[key];
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(prefix + key, `${value === undefined ? 'is missing' : `is ${JSON.stringify(value)}`}; expected one of ${choices.join(', ')}.`, value);
    }
    return value as T;
  }

  get file(): string {
    return this.path;
  }
}

function readImage(r: Reader, value: unknown): ImageSpec {
  const image = r.object(value, 'image');
  const positive = (n: number): boolean => Number.isInteger(n) && n > 0 && n <= 4096;
  const channels = r.number(image, 'channels', 'image.', positive, 'a positive integer');
  const height = r.number(image, 'height', 'image.', positive, 'a positive integer');
  const width = r.number(image, 'width', 'image.', positive, 'a positive integer');
  const range = image['range'];
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number') || !(range[0] < range[1])) {
    r.fail('image.range', 'must be [low, high] with low < high.', range);
  }
  const spec: ImageSpec = { channels, height, width, range: [range[0] as number, range[1] as number] };
  if (image['crop'] !== undefined) {
    const crop = r.object(image['crop'], 'image.crop');
    const nonNegative = (n: number): boolean => Number.isInteger(n) && n >= 0;
    spec.crop = {
      top: r.number(crop, 'top', 'image.crop.', nonNegative, 'an integer ≥ 0'),
      left: r.number(crop, 'left', 'image.crop.', nonNegative, 'an integer ≥ 0'),
      height: r.number(crop, 'height', 'image.crop.', positive, 'a positive integer'),
      width: r.number(crop, 'width', 'image.crop.', positive, 'a positive integer'),
    };
  }
  return spec;
}

function readConditioning(r: Reader, value: unknown): ClassConditioning | undefined {
  if (value === undefined) return undefined;
  const record = r.object(value, 'conditioning');
  const classes = record['classes'];
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
    r.fail('conditioning.classes', 'must be a non-empty list of class names.', classes);
  }
  const result: ClassConditioning = { classes: classes as string[] };
  if (record['nullLabel'] !== undefined) {
    result.nullLabel = r.number(record, 'nullLabel', 'conditioning.', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer label');
  }
  if (record['defaultGuidance'] !== undefined) {
    result.defaultGuidance = r.number(record, 'defaultGuidance', 'conditioning.', (n) => n >= 0 && n <= 50, 'a number from 0 to 50');
  }
  return result;
}

function readSchedule(r: Reader, value: unknown): ScheduleSpec {
  const record = r.object(value, 'schedule');
  const type = r.oneOf(record, 'type', 'schedule.', SCHEDULES);
  const positive = (n: number): boolean => n > 0;
  if (type === 'edm') {
    const sigmaMin = r.number(record, 'sigmaMin', 'schedule.', positive, 'a positive number');
    const sigmaMax = r.number(record, 'sigmaMax', 'schedule.', (n) => n > sigmaMin, `a number above sigmaMin (${sigmaMin})`);
    const spec: ScheduleSpec = { type, sigmaMin, sigmaMax };
    if (record['rho'] !== undefined) spec.rho = r.number(record, 'rho', 'schedule.', positive, 'a positive number');
    if (record['spacing'] !== undefined) spec.spacing = r.oneOf(record, 'spacing', 'schedule.', EDM_SPACINGS);
    return spec;
  }
  const spacing = record['spacing'] === undefined ? undefined : r.oneOf(record, 'spacing', 'schedule.', SPACINGS);
  const withSpacing = <T extends ScheduleSpec>(spec: T): T => (spacing === undefined ? spec : { ...spec, spacing });
  if (type === 'vp-table') return withSpacing({ type, alphasCumprod: readAlphasCumprod(r, record['alphasCumprod']) });
  const timesteps = r.number(record, 'timesteps', 'schedule.', (n) => Number.isInteger(n) && n >= 2 && n <= 100000, 'an integer from 2 to 100000');
  if (type === 'vp-cosine') {
    return withSpacing(record['s'] === undefined ? { type, timesteps } : { type, timesteps, s: r.number(record, 's', 'schedule.', (n) => n >= 0, 'a number ≥ 0') });
  }
  const betaStart = r.number(record, 'betaStart', 'schedule.', (n) => n > 0 && n < 1, 'a number in (0, 1)');
  const betaEnd = r.number(record, 'betaEnd', 'schedule.', (n) => n > 0 && n < 1, 'a number in (0, 1)');
  return withSpacing({ type, timesteps, betaStart, betaEnd });
}

/** ᾱ_0 … ᾱ_{T−1}: 2 to 100000 numbers, each in (0, 1), strictly decreasing. */
function readAlphasCumprod(r: Reader, value: unknown): number[] {
  const field = 'schedule.alphasCumprod';
  if (!Array.isArray(value) || value.length < 2 || value.length > 100000) {
    r.fail(field, 'must be a list of 2 to 100000 numbers (ᾱ_t for t = 0 … T−1).', Array.isArray(value) ? `${value.length} entries` : value);
  }
  value.forEach((entry: unknown, t) => {
    if (typeof entry !== 'number' || !(entry > 0 && entry < 1)) r.fail(`${field}[${t}]`, `is ${JSON.stringify(entry)}; every ᾱ must be a number strictly between 0 and 1.`, entry);
    if (t > 0 && !(entry < (value[t - 1] as number))) r.fail(`${field}[${t}]`, `is ${entry}, not below ᾱ[${t - 1}] = ${value[t - 1]}; ᾱ must decrease with t.`, entry);
  });
  return value as number[];
}

function readOnnxIo(r: Reader, value: unknown, conditioning: ClassConditioning | undefined): OnnxIoSpec {
  const io = r.object(value, 'onnx');
  const tensorName = (key: string): string => r.string(r.object(io[key], `onnx.${key}`), 'name', `onnx.${key}.`);
  const timestep = r.object(io['timestep'], 'onnx.timestep');
  const spec: OnnxIoSpec = {
    file: r.string(io, 'file', 'onnx.'),
    sample: { name: tensorName('sample') },
    timestep: {
      name: r.string(timestep, 'name', 'onnx.timestep.'),
      dtype: r.oneOf(timestep, 'dtype', 'onnx.timestep.', DTYPES),
      shape: r.oneOf(timestep, 'shape', 'onnx.timestep.', ['batch', 'scalar'] as const),
      encoding: r.oneOf(timestep, 'encoding', 'onnx.timestep.', ENCODINGS),
    },
    output: { name: tensorName('output') },
  };
  if (io['classLabel'] !== undefined) {
    const label = r.object(io['classLabel'], 'onnx.classLabel');
    spec.classLabel = { name: r.string(label, 'name', 'onnx.classLabel.'), dtype: r.oneOf(label, 'dtype', 'onnx.classLabel.', DTYPES) };
    if (conditioning === undefined) r.fail('conditioning', 'is missing: the network takes a class label, so list its classes.');
  }
  if (io['fixedBatch'] !== undefined) {
    spec.fixedBatch = r.number(io, 'fixedBatch', 'onnx.', (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  }
  if (spec.file.includes('..') || spec.file.startsWith('/')) r.fail('onnx.file', 'must be a file inside the model folder.', spec.file);
  return spec;
}

function readGanIo(r: Reader, value: unknown, conditioning: ClassConditioning | undefined): GanIoSpec {
  const io = r.object(value, 'gan');
  const latent = r.object(io['latent'], 'gan.latent');
  const spec: GanIoSpec = {
    file: r.string(io, 'file', 'gan.'),
    latent: {
      name: r.string(latent, 'name', 'gan.latent.'),
      dim: r.number(latent, 'dim', 'gan.latent.', (n) => Number.isInteger(n) && n >= 1 && n <= 65536, 'an integer from 1 to 65536'),
    },
    output: { name: r.string(r.object(io['output'], 'gan.output'), 'name', 'gan.output.') },
  };
  if (io['classLabel'] !== undefined) {
    const label = r.object(io['classLabel'], 'gan.classLabel');
    spec.classLabel = { name: r.string(label, 'name', 'gan.classLabel.'), dtype: r.oneOf(label, 'dtype', 'gan.classLabel.', DTYPES) };
    if (conditioning === undefined) r.fail('conditioning', 'is missing: the generator takes a class label, so list its classes.');
  }
  if (io['fixedBatch'] !== undefined) {
    spec.fixedBatch = r.number(io, 'fixedBatch', 'gan.', (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  }
  if (spec.file.includes('..') || spec.file.startsWith('/')) r.fail('gan.file', 'must be a file inside the model folder.', spec.file);
  return spec;
}

export function validateManifest(value: unknown, source: string): ModelManifest {
  const r = new Reader(source, source);
  const record = r.object(value, '(manifest)');
  const id = r.string(record, 'id', '');
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) r.fail('id', 'must be 1–64 characters of a–z, 0–9, ".", "_" or "-".', id);
  const kind = r.oneOf(record, 'kind', '', KINDS);
  const base = {
    id,
    name: r.string(record, 'name', ''),
    image: readImage(r, record['image']),
    space: r.oneOf(record, 'space', '', ['pixel', 'latent'] as const),
    conditioning: readConditioning(r, record['conditioning']),
    description: r.optionalString(record, 'description', ''),
    stats: r.optionalString(record, 'stats', ''),
    card: r.optionalString(record, 'card', ''),
    judge: r.optionalString(record, 'judge', ''),
  };
  const clean = <T extends object>(object: T): T =>
    Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
  if (kind === 'onnx') {
    const prediction = r.oneOf(record, 'prediction', '', PREDICTIONS);
    const schedule = readSchedule(r, record['schedule']);
    const onnx = readOnnxIo(r, record['onnx'], base.conditioning);
    if (schedule.type === 'edm' && (VP_ENCODINGS.includes(onnx.timestep.encoding) || prediction === 'v')) {
      r.fail(prediction === 'v' ? 'prediction' : 'onnx.timestep.encoding', 'does not fit an EDM schedule (use encoding sigma or edm-cnoise, prediction epsilon or x0).');
    }
    if (schedule.type !== 'edm' && !VP_ENCODINGS.includes(onnx.timestep.encoding)) {
      r.fail('onnx.timestep.encoding', `is "${onnx.timestep.encoding}"; a VP schedule needs "index", "fraction" or "continuous".`, onnx.timestep.encoding);
    }
    if ((onnx.timestep.encoding === 'fraction' || onnx.timestep.encoding === 'continuous') && onnx.timestep.dtype !== 'float32') {
      r.fail('onnx.timestep.dtype', `is "${onnx.timestep.dtype}"; a "${onnx.timestep.encoding}" timestep is a real number, so it needs "float32".`, onnx.timestep.dtype);
    }
    return clean<OnnxManifest>({ ...base, kind, prediction, schedule, onnx });
  }
  if (kind === 'gan') {
    return clean<GanManifest>({ ...base, kind, gan: readGanIo(r, record['gan'], base.conditioning) });
  }
  const stats = r.string(record, 'stats', '');
  const sigmaMin = r.number(record, 'sigmaMin', '', (n) => n > 0, 'a positive number');
  const sigmaMax = r.number(record, 'sigmaMax', '', (n) => n > sigmaMin, 'a number above sigmaMin');
  const local = kind === 'local' ? readLocal(r, record['local']) : undefined;
  return clean<AnalyticManifest>({ ...base, kind, stats, sigmaMin, sigmaMax, local });
}

function readLocal(r: Reader, value: unknown): LocalPatchSpec {
  const record = r.object(value, 'local');
  const spec: LocalPatchSpec = { calibration: r.string(record, 'calibration', 'local.') };
  if (spec.calibration.includes('..') || spec.calibration.startsWith('/')) r.fail('local.calibration', 'must be a file inside the model folder.', spec.calibration);
  if (record['trainingImages'] !== undefined) {
    spec.trainingImages = r.number(record, 'trainingImages', 'local.', (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  }
  if (record['shiftWindow'] !== undefined) {
    spec.shiftWindow = r.number(record, 'shiftWindow', 'local.', (n) => Number.isInteger(n) && n >= 0 && n <= 8, 'an integer from 0 (LS) to 8');
  }
  return spec;
}
