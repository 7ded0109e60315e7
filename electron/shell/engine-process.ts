/**
 * The engine as an Electron utility process (DESIGN.md §4): a Chromium-
 * supervised Node process, so a hang or an out-of-memory crash in the engine
 * never freezes the window. EngineHost (electron/host/) supervises it exactly
 * as it supervises the Node child process under `painter serve`.
 */
import { utilityProcess } from 'electron';
import { TextTail, type EngineLauncher, type EngineToHost } from '../host/protocol';

export function utilityEngineLauncher(modulePath: string, execArgv: string[] = []): EngineLauncher {
  return (events) => {
    const child = utilityProcess.fork(modulePath, [], {
      serviceName: 'Painter engine',
      stdio: 'pipe',
      execArgv,
      env: { ...process.env, ORT_DISABLE_TELEMETRY: process.env['ORT_DISABLE_TELEMETRY'] ?? '1' },
    });
    const stderr = new TextTail();
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdout?.on('data', () => {});
    child.on('message', (message: EngineToHost) => events.onMessage(message));
    let ended = false;
    const end = (code: number | null, signal: string | null): void => {
      if (ended) return;
      ended = true;
      events.onExit(code, signal, stderr.toString());
    };
    // 'error' reports a fatal V8 error (e.g. out of memory) before the exit.
    child.on('error', (type) => stderr.push(`\n${type}: out of memory or a fatal error\n`));
    child.on('exit', (code) => end(code, null));
    return {
      send: (message) => child.postMessage(message),
      kill: () => {
        // SIGKILL where there is one: a hung engine may not answer SIGTERM.
        if (child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
            return;
          } catch {
            // already gone, or no signals here (Windows)
          }
        }
        child.kill();
      },
      get pid() {
        return child.pid;
      },
    };
  };
}
