import type { ApiEventName, ApiMethod, ApiResponse } from '../api/contract';

/** Messages between {@link EngineHost} and the engine worker thread. */
export type HostToWorker = { type: 'request'; id: number; method: ApiMethod; params: unknown };

export type WorkerToHost =
  | { type: 'response'; id: number; response: ApiResponse<unknown> }
  | { type: 'event'; name: ApiEventName; payload: unknown };
