import type { ApiEventName, ApiMethod, ApiResponse } from '../api/contract';
import type { OpenRunFile } from '../engine/run-store';
import type { EngineOptions } from '../engine/service';

/**
 * Messages between {@link EngineHost} (the supervisor, in the Electron main
 * process or the `painter serve` process) and the engine process
 * (engine-worker.ts). They travel by structured clone (Electron's
 * utilityProcess) or V8 serialisation (Node's child_process with
 * `serialization: 'advanced'`), so typed arrays cross intact.
 */
export type HostToEngine =
  /** First message: build the engine; re-open `restore` (the open runs of an engine that stopped). */
  | { type: 'init'; options: EngineOptions; restore: OpenRunFile[] }
  | { type: 'request'; id: number; method: ApiMethod; params: unknown }
  /** Heartbeat: the engine answers `pong` as soon as its event loop is free. */
  | { type: 'ping'; id: number }
  /** Release everything and exit. */
  | { type: 'dispose' };

export type EngineToHost =
  | { type: 'ready'; restored: string[]; lost: Array<{ runId: string; reason: string }> }
  | { type: 'response'; id: number; response: ApiResponse<unknown> }
  | { type: 'event'; name: ApiEventName; payload: unknown }
  | { type: 'pong'; id: number }
  /** The open runs and their files, sent whenever they change (what a restarted engine re-opens). */
  | { type: 'runs'; open: OpenRunFile[] }
  | { type: 'disposed' };

/** How the supervisor starts and talks to one engine process; Node and Electron each provide one. */
export interface EngineProcess {
  send(message: HostToEngine): void;
  /** Stops the process at once (SIGKILL where there is one). */
  kill(): void;
  readonly pid: number | undefined;
}

export interface EngineProcessEvents {
  onMessage(message: EngineToHost): void;
  /** The process ended; `stderr` is the end of what it wrote there (for saying why). */
  onExit(code: number | null, signal: string | null, stderr: string): void;
}

/** Starts a fresh engine process wired to `events`. */
export type EngineLauncher = (events: EngineProcessEvents) => EngineProcess;

/** Keeps the last `max` characters of a stream (a crashed engine's last words). */
export class TextTail {
  private text = '';
  constructor(private readonly max = 4000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}
