/**
 * Validates every API call's arguments where they enter the trusted side
 * (Electron main process, browser-mode server) before they reach the engine.
 */
import { SAMPLER_NAMES, type ApiMethod, type ApiMethods, type ApiParams } from './contract';
import { PainterError } from './engine/errors';

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

const empty = (method: string) => (params: Record<string, unknown>) => {
  onlyKeys(method, params, []);
  return {} as Record<string, never>;
};

const validators: { [M in ApiMethod]: Validator<M> } = {
  listModels: empty('listModels'),
  listRuns: empty('listRuns'),
  addModelFolder: (params) => {
    onlyKeys('addModelFolder', params, ['folder']);
    return { folder: text('addModelFolder', params, 'folder') };
  },
  generate: (params) => {
    const method = 'generate';
    onlyKeys(method, params, ['jobId', 'modelId', 'seed', 'steps', 'sampler', 'classLabel', 'guidance']);
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
    };
  },
  cancel: (params) => {
    onlyKeys('cancel', params, ['jobId']);
    return { jobId: text('cancel', params, 'jobId', 128) };
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
