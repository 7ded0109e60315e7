/**
 * Validates every API call's arguments where they enter the trusted side
 * (Electron main process, browser-mode server) before they reach the engine.
 */
import {
  BRUSH_KINDS,
  DIRECTION_FAMILIES,
  PROVIDER_CHOICES,
  SAMPLER_NAMES,
  THEORY_ANALYSES,
  TRAJECTORY_BASES,
  type ApiMethod,
  type ApiMethods,
  type ApiParams,
  type AppliedDirections,
  type Brush,
  type BrushPoint,
  type DirectionSource,
  type DroppedFile,
  type ExportLayer,
  type TheoryRequest,
  type VariationRequest,
} from './contract';
import { PainterError } from '../engine/errors';

function bad(method: string, message: string, value?: unknown): never {
  throw new PainterError('BAD_ARGUMENT', `${method}: ${message}`, value === undefined ? undefined : { value });
}

type Validator<M extends ApiMethod> = (params: Record<string, unknown>) => ApiParams<M>;

function onlyKeys(method: string, params: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(params).filter((key) => !allowed.includes(key));
  if (extra.length > 0) bad(method, `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.join(', ')}.`);
}

function text(method: string, params: Record<string, unknown>, key: string, maxLength = 4096): string {
  const value = params[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || value.includes('\0')) {
    bad(method, `"${key}" must be a non-empty string of at most ${maxLength} characters.`, value);
  }
  return value;
}

function integer(method: string, params: Record<string, unknown>, key: string, min: number, max: number): number {
  const value = params[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    bad(method, `"${key}" must be an integer from ${min} to ${max}.`, value);
  }
  return value;
}

function number(method: string, params: Record<string, unknown>, key: string, min: number, max: number): number {
  const value = params[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    bad(method, `"${key}" must be a number from ${min} to ${max}.`, value);
  }
  return value;
}

function record(method: string, value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) bad(method, `"${what}" must be an object.`);
  return value as Record<string, unknown>;
}

function list(method: string, params: Record<string, unknown>, key: string, min: number, max: number): unknown[] {
  const value = params[key];
  if (!Array.isArray(value) || value.length < min || value.length > max) bad(method, `"${key}" must be a list of ${min} to ${max} items.`);
  return value;
}

/** Run ids are UUIDs; anything else could not have come from the engine. */
const RUN_ID = /^[A-Za-z0-9-]{1,128}$/;
function runId(method: string, value: unknown, key = 'runId'): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) bad(method, `"${key}" must be a run id (letters, digits and dashes).`, value);
  return value;
}

/**
 * A file path on the engine's machine, with one of the expected extensions.
 * A relative path is resolved by the engine's path policy (against the
 * workspace in browser mode, never the server's working folder).
 */
function filePath(method: string, params: Record<string, unknown>, key: string, extensions: readonly string[]): string {
  const path = text(method, params, key);
  if (!extensions.some((extension) => path.toLowerCase().endsWith(extension))) {
    bad(method, `"${key}" must end in ${extensions.join(' or ')}; got ${path}.`, path);
  }
  return path;
}

/** Longest stroke, and largest direction (4 MB as float32, under the WebSocket message limit once base64-encoded). */
const MAX_STROKE_POINTS = 512;
const MAX_DIRECTION_VALUES = 1 << 20;
/** A start image: up to RGB 2048×2048 (a latent pipeline's decoded size, DecodedSpec.maxSize). */
const MAX_IMAGE_VALUES = 3 * 2048 * 2048;

function direction(method: string, value: unknown): DirectionSource {
  const source = record(method, value, 'brush.direction');
  if (source['kind'] === 'gaussian-pc') {
    onlyKeys(method, source, ['kind', 'index', 'sign']);
    const sign = source['sign'] ?? 1;
    if (sign !== 1 && sign !== -1) bad(method, '"brush.direction.sign" must be 1 or -1.', sign);
    return { kind: 'gaussian-pc', index: integer(method, source, 'index', 0, 65535), sign };
  }
  if (source['kind'] === 'vector') {
    onlyKeys(method, source, ['kind', 'label', 'values']);
    const values = source['values'];
    if (!(values instanceof Float32Array) || values.length === 0 || values.length > MAX_DIRECTION_VALUES) {
      bad(method, `"brush.direction.values" must be a Float32Array of 1 to ${MAX_DIRECTION_VALUES} values.`);
    }
    if (!values.every((v) => Number.isFinite(v))) bad(method, '"brush.direction.values" must be finite numbers.');
    return { kind: 'vector', label: text(method, source, 'label', 128), values };
  }
  return bad(method, '"brush.direction.kind" must be "gaussian-pc" or "vector".', source['kind']);
}

/** A region painted on x̂0: weights in [0, 1], one per pixel (its size is checked against the model in the engine). */
function regionMask(method: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array) || value.length === 0 || value.length > MAX_DIRECTION_VALUES) bad(method, `"mask" must be a Float32Array of 1 to ${MAX_DIRECTION_VALUES} values.`);
  if (!value.every((v) => v >= 0 && v <= 1)) bad(method, '"mask" values must be from 0 to 1.');
  return value;
}

function appliedDirections(method: string, value: unknown): AppliedDirections {
  const applied = record(method, value, 'apply');
  onlyKeys(method, applied, ['directions', 'labels', 'sourceRunId', 'sourceStep']);
  const directions = applied['directions'];
  if (!(directions instanceof Float32Array) || directions.length === 0 || directions.length > MAX_DIRECTION_VALUES) {
    bad(method, `"apply.directions" must be a Float32Array of 1 to ${MAX_DIRECTION_VALUES} values.`);
  }
  if (!directions.every((v) => Number.isFinite(v))) bad(method, '"apply.directions" must be finite numbers.');
  const labels = list(method, applied, 'labels', 1, 8);
  if (!labels.every((l) => typeof l === 'string' && l.length > 0 && l.length <= 128)) bad(method, '"apply.labels" must be 1 to 8 labels of at most 128 characters.');
  if (directions.length % labels.length !== 0) bad(method, `"apply.directions" must hold one direction per label (${labels.length}); got ${directions.length} values.`);
  return {
    directions,
    labels: labels as string[],
    sourceRunId: runId(method, applied['sourceRunId'], 'apply.sourceRunId'),
    sourceStep: integer(method, applied, 'sourceStep', 0, 100000),
  };
}

function brush(method: string, value: unknown): Brush {
  const params = record(method, value, 'brush');
  onlyKeys(method, params, ['kind', 'points', 'global', 'radius', 'strength', 'seed', 'grain', 'color', 'direction']);
  const global = params['global'] ?? false;
  if (typeof global !== 'boolean') bad(method, '"brush.global" must be true or false.', global);
  const kind = params['kind'];
  if (typeof kind !== 'string' || !(BRUSH_KINDS as readonly string[]).includes(kind)) {
    bad(method, `"brush.kind" must be one of ${BRUSH_KINDS.join(', ')}.`, kind);
  }
  const points: BrushPoint[] = list(method, params, 'points', global ? 0 : 1, MAX_STROKE_POINTS).map((point) => {
    const entry = record(method, point, 'brush.points[]');
    onlyKeys(method, entry, ['x', 'y']);
    return { x: number(method, entry, 'x', -1e4, 1e4), y: number(method, entry, 'y', -1e4, 1e4) };
  });
  const result: Brush = {
    kind: kind as Brush['kind'],
    points,
    radius: number(method, params, 'radius', 0.25, 4096),
    strength: number(method, params, 'strength', 1e-6, 1000),
  };
  if (global) result.global = true;
  if (params['seed'] !== undefined) result.seed = integer(method, params, 'seed', 0, 2 ** 32 - 1);
  if (params['grain'] !== undefined) result.grain = number(method, params, 'grain', 0, 64);
  if (params['color'] !== undefined) {
    const color = list(method, params, 'color', 1, 4);
    if (!color.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1)) bad(method, '"brush.color" values must be numbers from −1 to 1.');
    result.color = color as number[];
  }
  if (params['direction'] !== undefined) result.direction = direction(method, params['direction']);
  if (kind === 'direction' && result.direction === undefined) bad(method, 'a direction brush needs "brush.direction".');
  return result;
}

/** generate's GAN-only fields: a latent z (finite numbers) and the run it varies. */
function ganGenerateExtras(method: string, params: Record<string, unknown>): { latent?: number[]; branchOf?: { runId: string; perturbation: string } } {
  const out: { latent?: number[]; branchOf?: { runId: string; perturbation: string } } = {};
  if (params['latent'] !== undefined) {
    const latent = list(method, params, 'latent', 1, 65536);
    if (!latent.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e4)) bad(method, '"latent" must be finite numbers of at most 1e4 in size.');
    out.latent = latent as number[];
  }
  if (params['branchOf'] !== undefined) {
    const branchOf = record(method, params['branchOf'], 'branchOf');
    onlyKeys(method, branchOf, ['runId', 'perturbation']);
    out.branchOf = { runId: runId(method, branchOf['runId']), perturbation: text(method, branchOf, 'perturbation', 256) };
  }
  return out;
}

/** Dropped files travel inside one WebSocket message (16 MB) in browser mode; over IPC the same cap keeps memory in check. */
const MAX_DROPPED_BYTES = 10 * 1024 * 1024;

/** Longest prompt text accepted (CLIP reads 77 tokens; the rest is cut, and said so). */
const MAX_PROMPT_CHARACTERS = 8192;

/** generate's fields for diffusers pipelines: prompt texts ('' allowed) and the decoded size. */
function promptExtras(method: string, params: Record<string, unknown>): { prompt?: string; negativePrompt?: string; width?: number; height?: number } {
  const extras: { prompt?: string; negativePrompt?: string; width?: number; height?: number } = {};
  for (const key of ['prompt', 'negativePrompt'] as const) {
    const value = params[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > MAX_PROMPT_CHARACTERS || value.includes('\0')) bad(method, `"${key}" must be a string of at most ${MAX_PROMPT_CHARACTERS} characters.`, value);
    extras[key] = value;
  }
  for (const key of ['width', 'height'] as const) {
    if (params[key] !== undefined) extras[key] = integer(method, params, key, 8, 4096);
  }
  return extras;
}

function droppedFile(method: string, value: unknown, what: string, maxBytes = MAX_DROPPED_BYTES): DroppedFile {
  const file = record(method, value, what);
  onlyKeys(method, file, ['name', 'bytes']);
  const bytes = file['bytes'];
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > maxBytes) {
    bad(method, `"${what}.bytes" must hold 1 to ${maxBytes} bytes.`);
  }
  const name = text(method, file, 'name', 255);
  if (/[\\/]/.test(name)) bad(method, `"${what}.name" must be a file name, not a path.`, name);
  return { name, bytes };
}

function current(method: string, value: unknown): { runId: string; step: number } | null {
  if (value === null) return null;
  const entry = record(method, value, 'current');
  onlyKeys(method, entry, ['runId', 'step']);
  return { runId: runId(method, entry['runId'], 'current.runId'), step: integer(method, entry, 'step', 0, 100000) };
}

const EXPORT_LAYERS: readonly ExportLayer[] = ['x0Hat', 'xt', 'both'];
function layer(method: string, params: Record<string, unknown>): ExportLayer {
  const value = params['layer'];
  if (typeof value !== 'string' || !(EXPORT_LAYERS as readonly string[]).includes(value)) bad(method, `"layer" must be one of ${EXPORT_LAYERS.join(', ')}.`, value);
  return value as ExportLayer;
}

const empty = (method: string) => (params: Record<string, unknown>) => {
  onlyKeys(method, params, []);
  return {} as Record<string, never>;
};

const validators: { [M in ApiMethod]: Validator<M> } = {
  listModels: empty('listModels'),
  listRuns: empty('listRuns'),
  recentSessions: empty('recentSessions'),
  studioPaths: empty('studioPaths'),
  providerSettings: empty('providerSettings'),
  setProvider: (params) => {
    const method = 'setProvider';
    onlyKeys(method, params, ['provider']);
    const provider = params['provider'];
    if (typeof provider !== 'string' || !(PROVIDER_CHOICES as readonly string[]).includes(provider)) {
      bad(method, `"provider" must be one of ${PROVIDER_CHOICES.join(', ')}.`, provider);
    }
    return { provider: provider as ApiMethods['setProvider'][0]['provider'] };
  },
  storage: empty('storage'),
  setStorage: (params) => {
    onlyKeys('setStorage', params, ['runMemoryMB', 'autosaveDiskMB']);
    return { runMemoryMB: number('setStorage', params, 'runMemoryMB', 16, 1_048_576), autosaveDiskMB: number('setStorage', params, 'autosaveDiskMB', 16, 1_048_576) };
  },
  addModelFolder: (params) => {
    onlyKeys('addModelFolder', params, ['folder']);
    return { folder: text('addModelFolder', params, 'folder') };
  },
  generate: (params) => {
    const method = 'generate';
    onlyKeys(method, params, ['jobId', 'modelId', 'seed', 'steps', 'sampler', 'classLabel', 'guidance', 'latent', 'branchOf', 'prompt', 'negativePrompt', 'width', 'height']);
    const sampler = params['sampler'];
    if (typeof sampler !== 'string' || !(SAMPLER_NAMES as readonly string[]).includes(sampler)) {
      bad(method, `"sampler" must be one of ${SAMPLER_NAMES.join(', ')}.`, sampler);
    }
    const classLabel = params['classLabel'];
    if (classLabel !== null && (typeof classLabel !== 'number' || !Number.isInteger(classLabel) || classLabel < 0)) {
      bad(method, '"classLabel" must be null or a non-negative integer.', classLabel);
    }
    const guidance = params['guidance'];
    if (typeof guidance !== 'number' || !Number.isFinite(guidance) || guidance < 0 || guidance > 50) {
      bad(method, '"guidance" must be a number from 0 to 50.', guidance);
    }
    return {
      jobId: text(method, params, 'jobId', 128),
      modelId: text(method, params, 'modelId', 128),
      seed: integer(method, params, 'seed', 0, 2 ** 32 - 1),
      steps: integer(method, params, 'steps', 1, 1000),
      sampler: sampler as ApiMethods['generate'][0]['sampler'],
      classLabel: classLabel as number | null,
      guidance,
      ...ganGenerateExtras(method, params),
      ...promptExtras(method, params),
    };
  },
  generateFromImage: (params) => {
    const method = 'generateFromImage';
    const { image, startStep, name, ...rest } = params;
    const request = validators.generate(rest);
    if (!(image instanceof Float32Array) || image.length === 0 || image.length > MAX_IMAGE_VALUES || !image.every((v) => Number.isFinite(v))) {
      bad(method, `"image" must be a Float32Array of 1 to ${MAX_IMAGE_VALUES} finite values.`);
    }
    return {
      ...request,
      image,
      startStep: integer(method, { startStep }, 'startStep', 0, 999),
      name: text(method, { name }, 'name', 255),
    };
  },
  cancel: (params) => {
    onlyKeys('cancel', params, ['jobId']);
    return { jobId: text('cancel', params, 'jobId', 128) };
  },
  decodeState: (params) => {
    const method = 'decodeState';
    onlyKeys(method, params, ['runId', 'step', 'which']);
    const which = params['which'];
    if (which !== 'xt' && which !== 'x0Hat') bad(method, '"which" must be "xt" or "x0Hat".', which);
    return { runId: runId(method, params['runId']), step: integer(method, params, 'step', 0, 100000), which };
  },
  removeModel: (params) => {
    onlyKeys('removeModel', params, ['modelId']);
    return { modelId: text('removeModel', params, 'modelId', 128) };
  },
  getRun: (params) => {
    onlyKeys('getRun', params, ['runId']);
    return { runId: text('getRun', params, 'runId', 128) };
  },
  saveRun: (params) => {
    onlyKeys('saveRun', params, ['runId', 'path']);
    const path = text('saveRun', params, 'path');
    if (!path.endsWith('.safetensors')) bad('saveRun', '"path" must end in .safetensors.', path);
    return { runId: text('saveRun', params, 'runId', 128), path };
  },
  openRun: (params) => {
    onlyKeys('openRun', params, ['path']);
    return { path: text('openRun', params, 'path') };
  },
  branch: (params) => {
    const method = 'branch';
    onlyKeys(method, params, ['jobId', 'runId', 'step', 'brush']);
    return {
      jobId: text(method, params, 'jobId', 128),
      runId: runId(method, params['runId']),
      step: integer(method, params, 'step', 0, 100000),
      brush: brush(method, params['brush']),
    };
  },
  variations: (params) => {
    const method = 'variations';
    onlyKeys(method, params, ['jobId', 'runId', 'step', 'family', 'directions', 'amplitudes', 'mask', 'nullSpaceRank', 'apply']);
    const family = params['family'];
    if (typeof family !== 'string' || !(DIRECTION_FAMILIES as readonly string[]).includes(family)) {
      bad(method, `"family" must be one of ${DIRECTION_FAMILIES.join(', ')}.`, family);
    }
    const amplitudes = list(method, params, 'amplitudes', 1, 9);
    if (!amplitudes.every((a) => typeof a === 'number' && Number.isFinite(a) && Math.abs(a) <= 1000)) bad(method, '"amplitudes" must be numbers from −1000 to 1000.');
    return {
      jobId: text(method, params, 'jobId', 128),
      runId: runId(method, params['runId']),
      step: integer(method, params, 'step', 0, 100000),
      family: family as VariationRequest['family'],
      directions: integer(method, params, 'directions', 1, 8),
      amplitudes: amplitudes as number[],
      ...(params['mask'] !== undefined ? { mask: regionMask(method, params['mask']) } : {}),
      ...(params['nullSpaceRank'] !== undefined ? { nullSpaceRank: integer(method, params, 'nullSpaceRank', 0, 65535) } : {}),
      ...(params['apply'] !== undefined ? { apply: appliedDirections(method, params['apply']) } : {}),
    };
  },
  theory: (params) => {
    const method = 'theory';
    onlyKeys(method, params, ['jobId', 'runId', 'analysis', 'seeds']);
    const analysis = params['analysis'];
    if (typeof analysis !== 'string' || !(THEORY_ANALYSES as readonly string[]).includes(analysis)) {
      bad(method, `"analysis" must be one of ${THEORY_ANALYSES.join(', ')}.`, analysis);
    }
    return {
      jobId: text(method, params, 'jobId', 128),
      runId: runId(method, params['runId']),
      analysis: analysis as TheoryRequest['analysis'],
      seeds: integer(method, params, 'seeds', 1, 32),
    };
  },
  deleteRuns: (params) => {
    onlyKeys('deleteRuns', params, ['runIds']);
    return { runIds: list('deleteRuns', params, 'runIds', 1, 10000).map((id) => runId('deleteRuns', id, 'runIds[]')) };
  },
  restoreRuns: (params) => {
    onlyKeys('restoreRuns', params, ['runIds']);
    return { runIds: list('restoreRuns', params, 'runIds', 1, 10000).map((id) => runId('restoreRuns', id, 'runIds[]')) };
  },
  runThumbnails: (params) => {
    onlyKeys('runThumbnails', params, ['runIds']);
    return { runIds: list('runThumbnails', params, 'runIds', 1, 1000).map((id) => runId('runThumbnails', id, 'runIds[]')) };
  },
  importRun: (params) => {
    onlyKeys('importRun', params, ['file']);
    return { file: droppedFile('importRun', params['file'], 'file') };
  },
  importSession: (params) => {
    onlyKeys('importSession', params, ['session', 'runs']);
    const runs = list('importSession', params, 'runs', 0, 10000).map((file, i) => droppedFile('importSession', file, `runs[${i}]`));
    const total = runs.reduce((sum, file) => sum + file.bytes.length, 0);
    if (total > MAX_DROPPED_BYTES) bad('importSession', `the dropped files hold ${total} bytes; at most ${MAX_DROPPED_BYTES} can be opened at once.`);
    return { session: droppedFile('importSession', params['session'], 'session', 16 * 1024 * 1024), runs };
  },
  gaussianGhost: (params) => {
    onlyKeys('gaussianGhost', params, ['runId']);
    return { runId: runId('gaussianGhost', params['runId']) };
  },
  localGhost: (params) => {
    onlyKeys('localGhost', params, ['jobId', 'runId']);
    return { jobId: text('localGhost', params, 'jobId', 128), runId: runId('localGhost', params['runId']) };
  },
  trajectorySpace: (params) => {
    const method = 'trajectorySpace';
    onlyKeys(method, params, ['jobId', 'runId', 'count', 'basis']);
    const basis = params['basis'];
    if (typeof basis !== 'string' || !(TRAJECTORY_BASES as readonly string[]).includes(basis)) bad(method, `"basis" must be one of ${TRAJECTORY_BASES.join(', ')}.`, basis);
    return {
      jobId: text(method, params, 'jobId', 128),
      runId: runId(method, params['runId']),
      count: integer(method, params, 'count', 1, 32),
      basis: basis as ApiParams<'trajectorySpace'>['basis'],
    };
  },
  saveSession: (params) => {
    const method = 'saveSession';
    onlyKeys(method, params, ['path', 'name', 'runIds', 'current']);
    return {
      path: filePath(method, params, 'path', ['.painter']),
      name: text(method, params, 'name', 200),
      runIds: list(method, params, 'runIds', 1, 10000).map((id) => runId(method, id, 'runIds[]')),
      current: current(method, params['current'] ?? null),
    };
  },
  openSession: (params) => {
    onlyKeys('openSession', params, ['path']);
    return { path: filePath('openSession', params, 'path', ['.painter']) };
  },
  exportStrip: (params) => {
    const method = 'exportStrip';
    onlyKeys(method, params, ['runId', 'path', 'layer', 'frames', 'scale']);
    return {
      runId: runId(method, params['runId']),
      path: filePath(method, params, 'path', ['.png']),
      layer: layer(method, params),
      frames: integer(method, params, 'frames', 1, 1001),
      scale: integer(method, params, 'scale', 1, 16),
    };
  },
  exportAnimation: (params) => {
    const method = 'exportAnimation';
    onlyKeys(method, params, ['runId', 'path', 'layer', 'frameMs', 'scale']);
    return {
      runId: runId(method, params['runId']),
      path: filePath(method, params, 'path', ['.gif']),
      layer: layer(method, params),
      frameMs: integer(method, params, 'frameMs', 20, 10000),
      scale: integer(method, params, 'scale', 1, 16),
    };
  },
  exportTrajectories: (params) => {
    const method = 'exportTrajectories';
    onlyKeys(method, params, ['runIds', 'path', 'includeGhost']);
    const includeGhost = params['includeGhost'];
    if (typeof includeGhost !== 'boolean') bad(method, '"includeGhost" must be true or false.', includeGhost);
    return {
      runIds: list(method, params, 'runIds', 1, 256).map((id) => runId(method, id, 'runIds[]')),
      path: filePath(method, params, 'path', ['.safetensors']),
      includeGhost,
    };
  },
};

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(validators, name);
}

export function validateParams<M extends ApiMethod>(method: M | string, params: unknown): ApiParams<M> {
  if (!isApiMethod(method)) bad(String(method).slice(0, 64), `unknown method; known methods: ${Object.keys(validators).join(', ')}.`);
  const record = params ?? {};
  if (typeof record !== 'object' || Array.isArray(record)) bad(method, 'arguments must be an object.');
  return (validators[method] as Validator<M>)(record as Record<string, unknown>);
}
