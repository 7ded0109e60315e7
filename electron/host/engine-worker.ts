/**
 * The engine process: hosts one {@link Engine} and answers {@link EngineHost}.
 * Started as a Node child process (child_process.fork: `process.send`) or as
 * an Electron utility process (`process.parentPort`); the same file serves
 * both. Arguments were validated by the caller (ipc.ts / server.ts) before
 * they were posted here.
 */
import type { ApiResponse } from '../api/contract';
import { Engine } from '../engine/service';
import { toErrorPayload } from '../engine/errors';
import type { EngineToHost, HostToEngine } from './protocol';

interface Channel {
  post(message: EngineToHost): void;
  listen(receive: (message: HostToEngine) => void): void;
}

/** Electron's utility process exposes `process.parentPort` (messages arrive as `{ data }`). */
interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

function parentChannel(): Channel {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort !== undefined) {
    return {
      post: (message) => electronPort.postMessage(message),
      listen: (receive) => electronPort.on('message', (event) => receive(event.data as HostToEngine)),
    };
  }
  if (typeof process.send === 'function') {
    // Our parent is gone (killed, crashed): nothing is left to answer.
    process.on('disconnect', () => process.exit(0));
    return {
      post: (message) => {
        if (process.connected) process.send!(message);
      },
      listen: (receive) => process.on('message', (message) => receive(message as HostToEngine)),
    };
  }
  throw new Error('engine-worker must be started by EngineHost (as a child or utility process).');
}

const channel = parentChannel();
let engine: Engine | null = null;
let lastRuns = '';

/** Tells the supervisor which runs are open and where they lie, when that changed. */
function reportRuns(): void {
  if (engine === null) return;
  const open = engine.runs.openFiles();
  const text = JSON.stringify(open);
  if (text === lastRuns) return;
  lastRuns = text;
  channel.post({ type: 'runs', open });
}

channel.listen((message) => {
  switch (message.type) {
    case 'init': {
      engine = new Engine(message.options);
      const { restored, lost } = engine.restoreRuns(message.restore);
      channel.post({ type: 'ready', restored, lost });
      reportRuns();
      return;
    }
    case 'ping':
      channel.post({ type: 'pong', id: message.id });
      return;
    case 'dispose':
      void (async () => {
        await engine?.dispose();
        channel.post({ type: 'disposed' });
        process.exit(0);
      })();
      return;
    case 'request':
      void (async () => {
        const current = engine;
        if (current === null) {
          channel.post({ type: 'response', id: message.id, response: { ok: false, error: { code: 'INTERNAL', message: 'The engine is not initialised.' } } });
          return;
        }
        let response: ApiResponse<unknown>;
        try {
          const value = await current.call(message.method, message.params as never, {
            emit: (name, payload) => channel.post({ type: 'event', name, payload }),
          });
          response = { ok: true, value };
        } catch (error) {
          response = { ok: false, error: toErrorPayload(error) };
        }
        // The open runs first: once the caller has its answer it may act on it (or this process
        // may die), and a restarted engine must know every run that answer mentioned.
        reportRuns();
        channel.post({ type: 'response', id: message.id, response });
      })();
      return;
  }
});
