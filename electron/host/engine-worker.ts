/**
 * The engine's worker thread: hosts one {@link Engine}, answers requests from
 * {@link EngineHost}, and posts progress events. Arguments were validated by
 * the caller (ipc.ts / server.ts) before they were posted here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ApiEventName } from '../api/contract';
import { Engine, type EngineOptions } from '../engine/service';
import { toErrorPayload } from '../engine/errors';
import type { HostToWorker, WorkerToHost } from './protocol';

const port = parentPort;
if (port === null) throw new Error('engine-worker must run in a worker thread');

const engine = new Engine(workerData as EngineOptions);
const post = (message: WorkerToHost): void => port.postMessage(message);

port.on('message', (message: HostToWorker) => {
  void (async () => {
    try {
      const value = await engine.call(message.method, message.params as never, {
        emit: (name: ApiEventName, payload: unknown) => post({ type: 'event', name, payload }),
      });
      post({ type: 'response', id: message.id, response: { ok: true, value } });
    } catch (error) {
      post({ type: 'response', id: message.id, response: { ok: false, error: toErrorPayload(error) } });
    }
  })();
});
