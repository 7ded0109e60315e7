/**
 * Browser mode offers an export as a download to the browser's machine: the
 * link works with the token, only for files an export call wrote, and never
 * serves anything else.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiResponse, ExportResult, RunSummary, WireMessage } from '../../electron/api/contract';
import { decodeWire, encodeWire } from '../../electron/api/wire';
import { startServer, type RunningServer } from '../../electron/serve/server';
import { Downloads } from '../../electron/serve/downloads';

const ROOT = resolve(import.meta.dirname, '..', '..');
let server: RunningServer;
let workspace = '';

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'painter-download-ws-'));
  server = await startServer({
    confine: { workspace, readOnly: [] },
    port: 0,
    rendererDir: join(ROOT, 'out', 'renderer'),
    workerPath: join(ROOT, 'out', 'cli', 'engine-worker.cjs'),
    nativeModelsDir: join(ROOT, 'tests', 'fixtures'),
    userDataDir: mkdtempSync(join(tmpdir(), 'painter-download-')),
  });
});
afterAll(() => server?.close());

async function call<T>(method: string, params: unknown): Promise<T> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
  await new Promise((done, fail) => {
    socket.once('open', done);
    socket.once('error', fail);
  });
  try {
    socket.send(encodeWire({ type: 'request', id: 1, method, params } as WireMessage));
    // Progress events may come first; the answer is the one response.
    const response = await new Promise<ApiResponse<T>>((done) =>
      socket.on('message', (data) => {
        const message = decodeWire(String(data)) as WireMessage;
        if (message.type === 'response') done(message.response as ApiResponse<T>);
      }),
    );
    if (!response.ok) throw new Error(response.error.message);
    return response.value;
  } finally {
    socket.close();
  }
}

describe('export downloads in browser mode', () => {
  it('an export comes with a link that downloads the same bytes, with the token only', async () => {
    const run = await call<RunSummary>('generate', { jobId: 'g', modelId: 'fixture-gaussian', seed: 1, steps: 5, sampler: 'euler', classLabel: null, guidance: 1 });
    const path = join(workspace, 'strip.png');
    const result = await call<ExportResult>('exportStrip', { runId: run.runId, path, layer: 'both', frames: 3, scale: 2 });
    expect(result.download).toMatch(/^\/download\/[0-9a-f]{32}\/strip\.png\?token=/);
    const base = `http://127.0.0.1:${server.port}`;
    const ok = await fetch(base + result.download);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="strip.png"');
    expect(Buffer.from(await ok.arrayBuffer()).equals(readFileSync(path))).toBe(true);

    const withoutToken = result.download!.replace(/\?token=.*/, '');
    expect((await fetch(base + withoutToken)).status).toBe(403);
    expect((await fetch(base + result.download!.replace(/[0-9a-f]{32}/, '0'.repeat(32)))).status).toBe(404);
    expect((await fetch(`${base}/download/../../etc/passwd?token=${server.token}`)).status).not.toBe(200);
  });

  it('links expire', () => {
    let now = 0;
    const downloads = new Downloads(() => now);
    const link = downloads.register('/tmp/x.png');
    expect(downloads.resolve(link)).toBe('/tmp/x.png');
    now += 31 * 60 * 1000;
    expect(downloads.resolve(link)).toBeNull();
    expect(downloads.resolve('/download/zz/x')).toBeNull();
  });
});
