/**
 * The engine as a Node child process (`painter serve`, and anywhere
 * EngineHost is used from plain Node): child_process.fork of the bundled
 * engine-worker.cjs with V8 serialisation, so typed arrays cross intact.
 */
import { fork } from 'node:child_process';
import { TextTail, type EngineLauncher, type EngineToHost } from './protocol';

export interface NodeLauncherOptions {
  /** Extra arguments for node, e.g. ['--max-old-space-size=2048']. */
  execArgv?: string[];
  /** Copy the engine's stderr to this process's stderr (it is always kept for crash reports). */
  echoStderr?: boolean;
}

export function nodeEngineLauncher(workerPath: string, options: NodeLauncherOptions = {}): EngineLauncher {
  return (events) => {
    const child = fork(workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
      // ONNX Runtime must never phone home nor write outside PAINTER_HOME (issue 9, item 11).
      env: { ...process.env, ORT_DISABLE_TELEMETRY: process.env['ORT_DISABLE_TELEMETRY'] ?? '1' },
    });
    const stderr = new TextTail();
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (options.echoStderr === true) process.stderr.write(chunk);
    });
    child.on('message', (message: EngineToHost) => events.onMessage(message));
    // A failed spawn reports 'error' and may never exit: count it as an exit.
    let ended = false;
    const end = (code: number | null, signal: string | null): void => {
      if (ended) return;
      ended = true;
      events.onExit(code, signal, stderr.toString());
    };
    child.on('error', () => end(null, null));
    child.on('exit', (code, signal) => end(code, signal));
    return {
      send: (message) => {
        if (child.connected) child.send(message);
      },
      kill: () => {
        child.kill('SIGKILL');
      },
      get pid() {
        return child.pid;
      },
    };
  };
}
