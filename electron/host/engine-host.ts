/**
 * Runs the engine off the UI thread: a worker thread hosts {@link Engine};
 * this class forwards calls to it, relays progress events, and cancels jobs.
 * Used by the Electron main process and by the browser-mode server alike,
 * so it imports nothing from Electron.
 */
import { Worker } from 'node:worker_threads';
import type { ApiEventName, ApiMethod, ApiParams, ApiResponse, ApiResult } from '../api/contract';
import type { EngineOptions } from '../engine/service';
import type { HostToWorker, WorkerToHost } from './protocol';

export type EventListener = (name: ApiEventName, payload: unknown) => void;

export class EngineHost {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (response: ApiResponse<unknown>) => void>();
  private readonly listeners = new Set<EventListener>();
  private exited = false;

  constructor(workerPath: string, options: EngineOptions) {
    this.worker = new Worker(workerPath, { workerData: options });
    this.worker.on('message', (message: WorkerToHost) => this.receive(message));
    this.worker.on('error', (error: Error) => this.failAll(`The engine stopped: ${error.message}`));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(`The engine exited (code ${code}).`);
    });
  }

  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<ApiResult<M>>> {
    if (this.exited) {
      return Promise.resolve({ ok: false, error: { code: 'INTERNAL', message: 'The engine is not running.' } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (response: ApiResponse<unknown>) => void);
      const message: HostToWorker = { type: 'request', id, method, params };
      this.worker.postMessage(message);
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async dispose(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
  }

  private receive(message: WorkerToHost): void {
    if (message.type === 'response') {
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message.response);
    } else {
      for (const listener of this.listeners) listener(message.name, message.payload);
    }
  }

  private failAll(reason: string): void {
    for (const resolve of this.pending.values()) {
      resolve({ ok: false, error: { code: 'INTERNAL', message: reason } });
    }
    this.pending.clear();
  }
}
