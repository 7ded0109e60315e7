/**
 * Runs the engine in its own process and supervises it (issue 9, item 10;
 * DESIGN.md §4: "A hang or crash in the engine never takes the UI down").
 *
 * The process is started by a launcher — a Node child process
 * (node-launcher.ts) or an Electron utility process (shell/engine-process.ts)
 * — so the same supervisor serves `painter serve` and the desktop app. It
 * forwards calls and relays events, and watches the process:
 *
 * - exit or crash (a signal, an out-of-memory abort): every call in flight
 *   fails with ENGINE_STOPPED saying what happened, an `engine` event tells
 *   the UI, and a fresh engine starts and re-opens the runs that were open
 *   (each is on disk: its autosave, or the file it was opened from);
 * - hang: a heartbeat every `heartbeatMs`; an engine that does not answer for
 *   `hangMs` is killed and treated as crashed;
 * - a crash loop: after `maxRestarts` restarts within a minute it stays down
 *   and says so, rather than burning the machine.
 *
 * Imports nothing from Electron.
 */
import type { ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResponse, ApiResult } from '../api/contract';
import type { OpenRunFile } from '../engine/run-store';
import type { EngineOptions } from '../engine/service';
import type { EngineLauncher, EngineProcess, EngineToHost, HostToEngine } from './protocol';

export type EventListener = (name: ApiEventName, payload: unknown) => void;

export interface EngineHostOptions {
  launcher: EngineLauncher;
  engine: EngineOptions;
  /** How often the engine is asked whether it is alive (ms). */
  heartbeatMs?: number;
  /** How long an engine may go without answering before it counts as hung (ms). */
  hangMs?: number;
  /** Restarts allowed within a minute before the engine stays down. */
  maxRestarts?: number;
  /** How long dispose() waits for a clean exit before killing (ms). */
  disposeMs?: number;
}

interface PendingCall {
  method: ApiMethod;
  resolve: (response: ApiResponse<unknown>) => void;
}

type State = 'starting' | 'ready' | 'failed' | 'disposed';

const DEFAULT_HEARTBEAT_MS = 1000;
/** Generous: a single forward pass of a large network on a slow CPU can take seconds, and the loop yields only between them. */
const DEFAULT_HANG_MS = 60_000;

/** A sentence for how an engine process ended. */
export function describeExit(code: number | null, signal: string | null, stderr: string, hung: boolean, hangMs: number): string {
  if (hung) return `stopped answering for ${Math.round(hangMs / 1000)} s and was stopped`;
  if (/heap out of memory|Allocation failed|out of memory|std::bad_alloc/i.test(stderr)) return 'ran out of memory';
  if (signal === 'SIGKILL') return 'was killed (SIGKILL — often the system running out of memory)';
  if (signal !== null) return `was stopped by signal ${signal}`;
  if (code === null) return 'could not be started';
  return `exited unexpectedly (code ${code})`;
}

export class EngineHost {
  private readonly heartbeatMs: number;
  private readonly hangMs: number;
  private readonly maxRestarts: number;
  private readonly disposeMs: number;
  private process: EngineProcess | null = null;
  private state: State = 'starting';
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  /** Calls made while the engine (re)starts, sent once it is ready. */
  private readonly queued: Array<{ id: number; method: ApiMethod; params: unknown }> = [];
  private readonly listeners = new Set<EventListener>();
  private openRuns: OpenRunFile[] = [];
  private restarts: number[] = [];
  private lastAnswer = Date.now();
  private heartbeat: NodeJS.Timeout | null = null;
  private hung = false;
  private disposing: Promise<void> | null = null;
  private failure = '';
  private readonly killOnExit = (): void => this.process?.kill();

  constructor(private readonly options: EngineHostOptions) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.hangMs = options.hangMs ?? DEFAULT_HANG_MS;
    this.maxRestarts = options.maxRestarts ?? 3;
    this.disposeMs = options.disposeMs ?? 2000;
    // Never leave an engine behind when this process ends (however it ends in JavaScript).
    process.on('exit', this.killOnExit);
    this.start([]);
  }

  /** The engine process's id (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  get status(): State {
    return this.state;
  }

  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<ApiResult<M>>> {
    if (this.state === 'failed' || this.state === 'disposed') {
      return Promise.resolve({ ok: false, error: { code: 'ENGINE_STOPPED', message: this.state === 'failed' ? this.failure : 'The engine has been shut down.' } });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { method, resolve: resolve as (response: ApiResponse<unknown>) => void });
      if (this.state === 'ready') this.send({ type: 'request', id, method, params });
      else this.queued.push({ id, method, params });
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the engine to release its resources and exit; kills it after `disposeMs`. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const engine = this.process;
      this.state = 'disposed';
      this.stopHeartbeat();
      this.failAll('The engine was shut down.');
      if (engine !== null) {
        const exited = new Promise<void>((done) => (this.onDisposed = done));
        engine.send({ type: 'dispose' });
        const timer = setTimeout(() => engine.kill(), this.disposeMs);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', this.killOnExit);
    })();
    return this.disposing;
  }

  /** Stops the engine at once, without a clean exit (the last resort on Ctrl+C). */
  kill(): void {
    this.state = 'disposed';
    this.stopHeartbeat();
    this.process?.kill();
    this.failAll('The engine was shut down.');
  }

  private onDisposed: (() => void) | null = null;

  private start(restore: OpenRunFile[]): void {
    this.state = 'starting';
    this.hung = false;
    this.lastAnswer = Date.now();
    const engine = this.options.launcher({
      onMessage: (message) => {
        if (this.process === engine) this.receive(message);
      },
      onExit: (code, signal, stderr) => {
        if (this.process !== engine) return;
        this.process = null;
        this.exited(code, signal, stderr);
      },
    });
    this.process = engine;
    this.send({ type: 'init', options: this.options.engine, restore });
    this.startHeartbeat();
  }

  private send(message: HostToEngine): void {
    try {
      this.process?.send(message);
    } catch {
      // The channel closed under us; the exit handler deals with it.
    }
  }

  private receive(message: EngineToHost): void {
    this.lastAnswer = Date.now();
    switch (message.type) {
      case 'ready': {
        this.state = 'ready';
        const restarted = this.restarts.length > 0;
        for (const call of this.queued.splice(0)) this.send({ type: 'request', ...call });
        if (restarted) {
          this.emit('engine', {
            state: 'ready',
            message: `The engine was restarted${message.restored.length > 0 ? ` and re-opened ${message.restored.length} run${message.restored.length === 1 ? '' : 's'}` : ''}${message.lost.length > 0 ? `; ${message.lost.length} could not be re-opened` : ''}.`,
            restoredRuns: message.restored,
            lostRuns: message.lost.map((entry) => entry.runId),
          });
        }
        return;
      }
      case 'response': {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        call?.resolve(message.response);
        return;
      }
      case 'event':
        this.emit(message.name, message.payload as ApiEvents[typeof message.name]);
        return;
      case 'runs':
        this.openRuns = message.open;
        return;
      case 'pong':
        return;
      case 'disposed':
        return;
    }
  }

  private emit<E extends ApiEventName>(name: E, payload: ApiEvents[E]): void {
    for (const listener of this.listeners) listener(name, payload);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    let ping = 0;
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastAnswer > this.hangMs) {
        // Hung: no answer to any message for hangMs. Kill it; its exit restarts it.
        this.hung = true;
        this.stopHeartbeat();
        this.process?.kill();
        return;
      }
      this.send({ type: 'ping', id: ++ping });
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private exited(code: number | null, signal: string | null, stderr: string): void {
    this.stopHeartbeat();
    if (this.state === 'disposed') {
      this.onDisposed?.();
      return;
    }
    const what = describeExit(code, signal, stderr, this.hung, this.hangMs);
    const now = Date.now();
    this.restarts = [...this.restarts.filter((time) => now - time < 60_000), now];
    const giveUp = this.restarts.length > this.maxRestarts;
    const reason = `The engine ${what}${giveUp ? '' : '; it is being restarted'}.`;
    // Calls it was working on fail; calls still waiting for it go to the next one.
    const waiting = new Set(this.queued.map((call) => call.id));
    for (const [id, call] of this.pending) {
      if (waiting.has(id) && !giveUp) continue;
      this.pending.delete(id);
      call.resolve({
        ok: false,
        error: { code: 'ENGINE_STOPPED', message: `The engine ${what} while working on ${call.method}${giveUp ? '' : '; it is being restarted with your open runs — try again'}.`, details: { method: call.method, code, signal } },
      });
    }
    if (giveUp) {
      this.state = 'failed';
      this.failure = `The engine stopped ${this.restarts.length} times within a minute (last: it ${what}); it was not restarted again. Save what you can and restart Painter.`;
      this.queued.length = 0;
      this.emit('engine', { state: 'failed', message: this.failure });
      return;
    }
    this.emit('engine', { state: 'restarting', message: reason });
    this.start(this.openRuns);
  }

  private failAll(message: string): void {
    for (const call of this.pending.values()) call.resolve({ ok: false, error: { code: 'ENGINE_STOPPED', message } });
    this.pending.clear();
    this.queued.length = 0;
  }
}
