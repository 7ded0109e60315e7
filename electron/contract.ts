/**
 * The one API contract between the studio UI and the engine (types only).
 *
 * In Electron the calls travel over IPC through the contextBridge preload; in
 * browser mode (`painter serve`) over a local WebSocket. Both carry the same
 * {@link ApiRequest} / {@link ApiResponse} envelopes; the renderer's client
 * (renderer/lib/api.ts) unwraps `{ok:false}` into a thrown {@link ApiError}.
 */

import type { ImageSpec } from './engine/manifest';

/** Stable error codes; the message is a sentence a user can act on. */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'MODEL_NOT_FOUND'
  | 'BAD_MANIFEST'
  | 'BAD_MODEL'
  | 'BAD_FILE'
  | 'RUN_NOT_FOUND'
  | 'CANCELLED'
  | 'PROVIDER_FAILED'
  | 'IO_ERROR'
  | 'INTERNAL';

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type SamplerName = 'euler' | 'heun' | 'ddpm';
export const SAMPLER_NAMES: readonly SamplerName[] = ['euler', 'heun', 'ddpm'];

export type ModelKind = 'onnx' | 'gaussian' | 'gmm' | 'delta';

export interface ModelInfo {
  id: string;
  name: string;
  description: string;
  kind: ModelKind;
  image: ImageSpec;
  /** Class names, when the model takes a class label. */
  classes: string[] | null;
  /** Whether the model can also run unconditionally (a null label exists, or it is unconditional). */
  unconditional: boolean;
  defaultGuidance: number;
  defaultSteps: number;
  /** Execution provider the model runs on ("cpu", "cuda", …; "analytic" for closed-form models). */
  provider: string;
  /** Where the model came from. */
  source: 'bundled' | 'user';
  folder: string;
}

export interface GenerateRequest {
  modelId: string;
  seed: number;
  steps: number;
  sampler: SamplerName;
  /** Class label, or null for the unconditional model. */
  classLabel: number | null;
  /** Classifier-free guidance scale (1 = plain conditional). */
  guidance: number;
}

export interface BranchInfo {
  parentRunId: string;
  /** Step of the parent at which the branch left it. */
  step: number;
  /** Human-readable description of the perturbation that made the branch. */
  perturbation: string;
}

/** A recorded run without its tensors. */
export interface RunSummary {
  runId: string;
  modelId: string;
  settings: GenerateRequest;
  /** Number of recorded states: steps + 1 (the last one is the final image at σ = 0). */
  stepCount: number;
  /** σ of each recorded state (σ form, DESIGN.md §2). */
  sigmas: number[];
  /** Cumulative network evaluations at each recorded state. */
  evaluations: number[];
  seconds: number;
  createdAt: string;
  branch: BranchInfo | null;
  /**
   * How `xt` is stored: `vp` (x_t = α_t x0 + σ_t ε, unit variance) or `sigma`
   * (x0 + σ ε, the EDM and analytic models' own convention).
   */
  convention: StateConvention;
}

export type StateConvention = 'vp' | 'sigma';

/**
 * The tensors of a run, NCHW row-major per state, states stacked first:
 * xt and x0Hat have length stepCount · C·H·W. `xt` is in the model's own
 * convention (VP: x_t = α_t x0 + σ_t ε; EDM: x0 + σ ε).
 */
export interface RunTensors {
  summary: RunSummary;
  image: ImageSpec;
  xt: Float32Array;
  x0Hat: Float32Array;
}

export interface JobProgress {
  jobId: string;
  done: number;
  total: number;
  message: string;
}

/** Every call: name → [params, result]. */
export interface ApiMethods {
  listModels: [Record<string, never>, ModelInfo[]];
  addModelFolder: [{ folder: string }, ModelInfo];
  generate: [GenerateRequest & { jobId: string }, RunSummary];
  cancel: [{ jobId: string }, { cancelled: boolean }];
  listRuns: [Record<string, never>, RunSummary[]];
  getRun: [{ runId: string }, RunTensors];
  saveRun: [{ runId: string; path: string }, { path: string }];
  openRun: [{ path: string }, RunSummary];
}

export type ApiMethod = keyof ApiMethods;
export type ApiParams<M extends ApiMethod> = ApiMethods[M][0];
export type ApiResult<M extends ApiMethod> = ApiMethods[M][1];

export type ApiResponse<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

/** Events pushed from the engine to the UI. */
export interface ApiEvents {
  progress: JobProgress;
}
export type ApiEventName = keyof ApiEvents;

/** WebSocket wire format for browser mode (one JSON text frame per message). */
export type WireMessage =
  | { type: 'request'; id: number; method: ApiMethod; params: unknown }
  | { type: 'response'; id: number; response: ApiResponse<unknown> }
  | { type: 'event'; name: ApiEventName; payload: unknown };

/** IPC channel names (Electron). */
export const IPC_INVOKE_CHANNEL = 'painter:invoke';
export const IPC_EVENT_CHANNEL = 'painter:event';

/** What the preload exposes on `window.painter`. */
export interface PainterBridge {
  invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>>;
  onEvent(listener: (name: ApiEventName, payload: unknown) => void): () => void;
  /** Native folder picker (Electron only). */
  pickFolder?(): Promise<string | null>;
}
