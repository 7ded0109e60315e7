import type { ApiEventName, ApiMethod, ApiResponse } from '../../electron/api/contract';

export interface EngineBridge {
  /** A fresh temporary folder for the test's files. */
  folder: string;
  /** tests/fixtures: the engine's models folder here. */
  fixtures: string;
  invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>>;
  onEvent(listener: (name: ApiEventName, payload: unknown) => void): () => void;
  dispose(): Promise<void>;
}

export function engineBridge(): EngineBridge;

export function fileExists(path: string): boolean;
