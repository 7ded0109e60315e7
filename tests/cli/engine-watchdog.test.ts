/**
 * Engine isolation (issue 9, item 10): the engine runs in a child process
 * under EngineHost's watchdog, for real — killed with SIGKILL in the middle
 * of a job, frozen with SIGSTOP (a hang), pushed past a tiny JavaScript heap
 * limit (out of memory), and crashed in a loop. Each time the calls in flight
 * fail with ENGINE_STOPPED saying what happened, the UI hears an `engine`
 * event, and a fresh engine comes back with the runs that were open — except
 * in a crash loop, where it stays down and says so. And `painter serve`
 * always stops on SIGTERM, even with its engine frozen.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, EngineStatus, JobProgress } from '../../electron/api/contract';
import { EngineHost, type EngineHostOptions } from '../../electron/host/engine-host';
import { nodeEngineLauncher } from '../../electron/host/node-launcher';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = resolve(import.meta.dirname, '..', '..');
const WORKER = join(ROOT, 'out', 'cli', 'engine-worker.cjs');
const hosts: EngineHost[] = [];

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, encoding: 'utf-8' });
  expect(build.status, build.stderr).toBe(0);
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.dispose()));
});

function startHost(options: Partial<EngineHostOptions> & { execArgv?: string[] } = {}): { host: EngineHost; home: string; events: EngineStatus[] } {
  const home = mkdtempSync(join(tmpdir(), 'painter-watchdog-'));
  const host = new EngineHost({
    launcher: nodeEngineLauncher(WORKER, { execArgv: options.execArgv ?? [] }),
    engine: { nativeModelsDir: FIXTURES, userDataDir: home },
    ...options,
  });
  hosts.push(host);
  const events: EngineStatus[] = [];
  host.onEvent((name, payload) => {
    if (name === 'engine') events.push(payload as EngineStatus);
  });
  return { host, home, events };
}

function value<T>(response: ApiResponse<T>): T {
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
  return response.value;
}

async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((done) => setTimeout(done, 20));
  }
}

const generate = (host: EngineHost, jobId: string, seed: number, steps = 20) =>
  host.call('generate', { jobId, modelId: 'fixture-gaussian', seed, steps, sampler: 'euler', classLabel: null, guidance: 1 });

describe('the engine process under its watchdog', () => {
  it('killed with SIGKILL mid-job: the job fails with ENGINE_STOPPED, the UI is told, the open runs come back', async () => {
    const { host, home, events } = startHost();
    const first = value(await generate(host, 'a', 1));
    const firstTensors = value(await host.call('getRun', { runId: first.runId }));
    // A run opened from a file the user saved: restored from that file.
    const saved = join(home, 'mine.safetensors');
    const second = value(await generate(host, 'b', 2));
    value(await host.call('saveRun', { runId: second.runId, path: saved }));
    value(await host.call('deleteRuns', { runIds: [second.runId] }));
    const opened = value(await host.call('openRun', { path: saved }));
    const pid = host.pid!;

    let progressed = false;
    host.onEvent((name, payload) => {
      if (name === 'progress' && (payload as JobProgress).jobId === 'long') progressed = true;
    });
    const long = host.call('generate', { jobId: 'long', modelId: 'fixture-delta', seed: 3, steps: 1000, sampler: 'heun', classLabel: null, guidance: 1 });
    await waitFor(() => progressed);
    process.kill(pid, 'SIGKILL');
    const failed = await long;
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error.code).toBe('ENGINE_STOPPED');
      expect(failed.error.message).toMatch(/^The engine was killed \(SIGKILL.*\) while working on generate; it is being restarted with your open runs — try again\.$/);
    }
    await waitFor(() => events.some((e) => e.state === 'ready'));
    expect(events.map((e) => e.state)).toEqual(['restarting', 'ready']);
    expect(events[1]!.restoredRuns!.sort()).toEqual([first.runId, opened.runId].sort());
    expect(host.pid).not.toBe(pid);
    expect(value(await host.call('listRuns', {})).map((run) => run.runId).sort()).toEqual([first.runId, opened.runId].sort());
    const back = value(await host.call('getRun', { runId: first.runId }));
    expect(Buffer.from(back.xt.buffer).equals(Buffer.from(firstTensors.xt.buffer))).toBe(true);
    expect(Buffer.from(back.x0Hat.buffer).equals(Buffer.from(firstTensors.x0Hat.buffer))).toBe(true);
  });

  it('frozen (SIGSTOP, a hang): stopped after the hang limit, calls fail with a reason, and it comes back', async () => {
    const { host, events } = startHost({ heartbeatMs: 100, hangMs: 1500 });
    const run = value(await generate(host, 'a', 1));
    const pid = host.pid!;
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    const stuck = await host.call('listRuns', {});
    expect(stuck.ok).toBe(false);
    if (!stuck.ok) expect(stuck.error.message).toMatch(/^The engine stopped answering for 2 s and was stopped while working on listRuns/);
    expect(Date.now() - started).toBeLessThan(15_000);
    await waitFor(() => events.some((e) => e.state === 'ready'));
    expect(value(await host.call('listRuns', {})).map((r) => r.runId)).toEqual([run.runId]);
  });

  it('out of memory (a 16 MB session of 5 million empty lists against a 64 MB heap): says so and comes back', async () => {
    const { host, home, events } = startHost({ execArgv: ['--max-old-space-size=64'] });
    const run = value(await generate(host, 'a', 1));
    const bomb = join(home, 'bomb.painter');
    writeFileSync(bomb, `{"format":"painter.session/1","runs":[],"x":[${'[],'.repeat(5_300_000)}[]]}`);
    const result = await host.call('openSession', { path: bomb });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('ENGINE_STOPPED');
      expect(result.error.message).toMatch(/^The engine ran out of memory while working on openSession/);
    }
    await waitFor(() => events.some((e) => e.state === 'ready'));
    expect(events[0]!.message).toMatch(/ran out of memory; it is being restarted/);
    expect(value(await host.call('listRuns', {})).map((r) => r.runId)).toEqual([run.runId]);
  });

  it('a crash loop: after three restarts within a minute it stays down and every call says why', async () => {
    const { host, events } = startHost({ maxRestarts: 3 });
    for (let kill = 0; kill < 4; kill++) {
      await waitFor(() => host.status === 'ready');
      process.kill(host.pid!, 'SIGKILL');
      await waitFor(() => events.length >= 2 * kill + 1);
    }
    await waitFor(() => host.status === 'failed');
    expect(events.at(-1)).toMatchObject({ state: 'failed' });
    const refused = await host.call('listModels', {});
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toMatch(/^The engine stopped 4 times within a minute .* restart Painter\.$/);
  });
});

describe('painter serve and its engine process', () => {
  /** The child processes of `pid` (Linux /proc). */
  const childrenOf = (pid: number): number[] =>
    readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf-8')
      .trim()
      .split(/\s+/)
      .filter((text) => text !== '')
      .map(Number);

  it('stops on SIGTERM within seconds even with its engine frozen, and leaves no engine behind', async () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-serve-stop-'));
    const serve = spawn(process.execPath, [join(ROOT, 'bin', 'painter.cjs'), 'serve', '--port', '0'], { env: { ...process.env, PAINTER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    serve.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('Workspace:'));
    expect(output).toContain(join(home, 'workspace'));
    let engines: number[] = [];
    await waitFor(() => (engines = childrenOf(serve.pid!)).length > 0);
    process.kill(engines[0]!, 'SIGSTOP');
    const exited = new Promise<number | null>((done) => serve.on('exit', (code) => done(code)));
    const started = Date.now();
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
    await waitFor(() => !existsSync(`/proc/${engines[0]}`) || readFileSync(`/proc/${engines[0]}/status`, 'utf-8').includes('zombie'));
  });
});
