/**
 * Property-based fuzzing of the API (issue 9) with fast-check:
 *
 * 1. The IPC validators (what the Electron main process and the server run
 *    on every call): 20,000 generated calls — any method name, any value
 *    (structured-clone types too) — each either validates or is refused with
 *    BAD_ARGUMENT; nothing else is ever thrown.
 * 2. The WebSocket API of a live `painter serve` server (its engine in a child
 *    process, confined to a workspace): 10,000 generated requests in batches,
 *    mostly well-formed calls with a field gone wrong, aimed at real runs and
 *    at paths inside, outside and through links out of the workspace, plus
 *    hundreds of junk frames. The server stays up, every request gets a typed
 *    answer (never INTERNAL, never a dead engine), and nothing is written
 *    outside the workspace and the engine's own folder.
 *
 * The seed is fixed (reproducible in CI) unless PAINTER_FUZZ_SEED is set.
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ErrorCode, WireMessage } from '../../electron/api/contract';
import { validateParams } from '../../electron/api/validate';
import { decodeWire, encodeWire } from '../../electron/api/wire';
import { PainterError } from '../../electron/engine/errors';
import { startServer, type RunningServer } from '../../electron/serve/server';
import { callArbitrary } from '../helpers/api-arbitraries';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SEED = Number(process.env['PAINTER_FUZZ_SEED'] ?? 20250509);
const VALIDATOR_CALLS = 20_000;
const BATCH = 50;
const BATCHES = 200; // 10,000 requests over the WebSocket
const JUNK_FRAMES = 300;
const CODES: readonly ErrorCode[] = ['BAD_ARGUMENT', 'MODEL_NOT_FOUND', 'BAD_MANIFEST', 'BAD_MODEL', 'BAD_FILE', 'RUN_NOT_FOUND', 'CANCELLED', 'PROVIDER_FAILED', 'IO_ERROR', 'OUTSIDE_WORKSPACE'];

const root = mkdtempSync(join(tmpdir(), 'painter-fuzz-'));
const workspace = join(root, 'workspace');
const home = join(root, 'home');
const outside = join(root, 'outside');
/** A folder at the top of /tmp the fuzzer aims absolute paths at; it must never appear. */
const escape = join(tmpdir(), `painter-fuzz-escape-${process.pid}`);
const inside = ['run', 'a/b/run', 'sessions/s', 'x', 'exports/strip'];
const paths = [
  'door/run.safetensors',
  'door/s.painter',
  'door/strip.png',
  '../outside/run.safetensors',
  '../../x.painter',
  join(outside, 'abs.safetensors'),
  join(outside, 'abs.painter'),
  join(escape, 'x.png'),
  join(escape, 'y.safetensors'),
  '/etc/passwd',
  '/etc/passwd.safetensors',
  '/dev/zero',
  '/proc/self/environ',
  'fifo.safetensors',
  'fifo.painter',
  'dangling.safetensors',
  '',
  '.',
  '..',
  `${'n'.repeat(300)}.safetensors`,
];
const folders = [join(workspace, 'models', 'gauss'), join(outside, 'gauss'), 'models/gauss', 'door/gauss', '/etc', '/', '/dev', 'nope'];

let server: RunningServer;
const runPool: string[] = [];

beforeAll(async () => {
  mkdirSync(join(workspace, 'models'), { recursive: true });
  mkdirSync(home);
  mkdirSync(outside);
  cpSync(join(FIXTURES, 'gauss16'), join(workspace, 'models', 'gauss'), { recursive: true });
  writeFileSync(join(workspace, 'models', 'gauss', 'manifest.json'), JSON.stringify({ id: 'fuzz-gauss', name: 'Fuzz', kind: 'gaussian', image: { channels: 1, height: 4, width: 4, range: [-1, 1] }, space: 'pixel', stats: 'stats.safetensors', sigmaMin: 0.002, sigmaMax: 80 }));
  cpSync(join(FIXTURES, 'gauss16'), join(outside, 'gauss'), { recursive: true });
  symlinkSync(outside, join(workspace, 'door'));
  symlinkSync(join(outside, 'nothing-here'), join(workspace, 'dangling.safetensors'));
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [join(workspace, 'fifo.safetensors'), join(workspace, 'fifo.painter')]);
  server = await startServer({
    confine: { workspace, readOnly: [] },
    port: 0,
    rendererDir: join(ROOT, 'out', 'renderer'),
    workerPath: join(ROOT, 'out', 'cli', 'engine-worker.cjs'),
    nativeModelsDir: FIXTURES,
    userDataDir: home,
    token: 'fuzz-token',
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the IPC validators under 20,000 generated calls', () => {
  it('validate or refuse with BAD_ARGUMENT, never anything else', () => {
    const targets = { runIds: () => ['0b7c2c86-5a1e-4a52-9d0e-3f1b9e0c1a11'], inside, paths, folders };
    const anyCall = fc.oneof(
      { weight: 3, arbitrary: callArbitrary(targets) },
      // Whatever a compromised renderer could put through structured clone.
      { weight: 1, arbitrary: fc.record({ method: fc.oneof(fc.string(), fc.constantFrom('generate', 'saveSession', 'branch')), params: fc.anything({ maxDepth: 3, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }) }) },
    );
    let accepted = 0;
    fc.assert(
      fc.property(anyCall, ({ method, params }) => {
        try {
          validateParams(method, params);
          accepted++;
        } catch (error) {
          if (!(error instanceof PainterError) || error.code !== 'BAD_ARGUMENT') throw error;
        }
      }),
      { numRuns: VALIDATOR_CALLS, seed: SEED },
    );
    process.stdout.write(`validator fuzz: ${VALIDATOR_CALLS} calls, ${accepted} accepted, seed ${SEED}\n`);
    expect(accepted).toBeGreaterThan(VALIDATOR_CALLS / 10); // the generator reaches past the validators
  });

  it('the wire codec decodes any text to a value or a SyntaxError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => encodeWire(v))), (text) => {
        try {
          decodeWire(text);
        } catch (error) {
          if (!(error instanceof SyntaxError) && !(error instanceof DOMException) && !(error instanceof RangeError)) throw error;
        }
      }),
      { numRuns: 5000, seed: SEED },
    );
  });
});

function connect(): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=fuzz-token`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
  return new Promise((done, fail) => {
    socket.once('open', () => done(socket));
    socket.once('error', fail);
  });
}

/** Every file and folder under `folder` (links not followed). */
function tree(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      out.push(relative(root, path));
      if (lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(folder);
  return out.sort();
}

describe('the WebSocket API of a confined painter serve under 10,000 generated requests', () => {
  it('answers every request with a typed answer, stays up, and writes nothing outside its workspace', { timeout: 240_000 }, async () => {
    const socket = await connect();
    const waiting = new Map<number, (message: Extract<WireMessage, { type: 'response' }>) => void>();
    socket.on('message', (data) => {
      const message = decodeWire(String(data)) as WireMessage;
      if (message.type === 'response') waiting.get(message.id)?.(message);
    });
    const call = (id: number, method: string, params: unknown): Promise<Extract<WireMessage, { type: 'response' }>> =>
      new Promise((done) => {
        waiting.set(id, (message) => {
          waiting.delete(id);
          done(message);
        });
        socket.send(encodeWire({ type: 'request', id, method, params }));
      });
    // A few real runs, so well-formed calls reach the engine's real paths (topped up as the fuzzer deletes them).
    let seed = 0;
    const topUp = async (): Promise<void> => {
      while (runPool.length < 4) {
        seed++;
        const reply = await call(-seed, 'generate', { jobId: `seed-${seed}`, modelId: 'fixture-gaussian', seed, steps: 20, sampler: 'euler', classLabel: null, guidance: 1 });
        expect(reply.response.ok).toBe(true);
        if (reply.response.ok) runPool.push((reply.response.value as { runId: string }).runId);
      }
    };
    await topUp();
    const outsideBefore = tree(outside);
    const codes = new Map<string, number>();
    let writes = 0;
    let nextId = 1000;
    let sent = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fc.array(callArbitrary({ runIds: () => runPool, inside, paths, folders }), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await topUp();
        const replies = await Promise.all(batch.map(({ method, params }) => call(nextId++, method, params)));
        sent += batch.length;
        for (const [i, reply] of replies.entries()) {
          const { response } = reply;
          const key = response.ok ? 'ok' : response.error.code;
          codes.set(key, (codes.get(key) ?? 0) + 1);
          if (!response.ok) {
            expect(CODES, `${batch[i]!.method}: ${response.error.code} ${response.error.message}`).toContain(response.error.code);
            expect(response.error.message.length).toBeGreaterThan(5);
          } else if (/^(save|export)/.test(batch[i]!.method)) {
            writes++;
          } else if (batch[i]!.method === 'deleteRuns') {
            for (const runId of (response.value as { deleted: string[] }).deleted) runPool.splice(runPool.indexOf(runId), 1);
          } else if (batch[i]!.method === 'generate' || batch[i]!.method === 'branch') {
            runPool.push((response.value as { runId: string }).runId);
            if (runPool.length > 12) runPool.shift();
          }
        }
      }),
      { numRuns: BATCHES, seed: SEED, endOnFailure: true },
    );
    const seconds = (performance.now() - started) / 1000;
    expect(sent).toBeGreaterThanOrEqual(BATCH * BATCHES);
    socket.close();

    // Junk frames: each closes its connection with a code; the server serves on.
    const junk = fc.sample(fc.oneof(fc.string({ maxLength: 64 }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))), { numRuns: JUNK_FRAMES, seed: SEED });
    let closedWithCode = 0;
    for (const frame of junk) {
      const raw = await connect();
      const closed = new Promise<number>((done) => raw.once('close', (code) => done(code)));
      raw.send(frame, { binary: Buffer.isBuffer(frame) });
      const code = await Promise.race([closed, new Promise<number>((done) => setTimeout(() => done(-1), 300))]);
      if (code > 0) closedWithCode++;
      raw.terminate();
    }

    // Still up, still the same engine process, and nothing written where it must not be.
    const after = await connect();
    const answer = await new Promise<WireMessage>((done) => {
      after.once('message', (data) => done(decodeWire(String(data)) as WireMessage));
      after.send(encodeWire({ type: 'request', id: 1, method: 'studioPaths', params: {} }));
    });
    expect(answer).toMatchObject({ type: 'response', id: 1, response: { ok: true } });
    after.close();
    expect(server.engine.status).toBe('ready');
    expect(tree(outside)).toEqual(outsideBefore);
    expect(readdirSync(root).sort()).toEqual(['home', 'outside', 'workspace']);
    expect(() => lstatSync(escape)).toThrow();
    // …while inside the workspace the generated calls did write (they reach past the validators).
    expect(writes).toBeGreaterThan(20);
    expect(tree(workspace).filter((path) => /\.(safetensors|painter|png|gif)$/.test(path) && !/fifo|dangling|models/.test(path)).length).toBeGreaterThan(0);
    process.stdout.write(
      `websocket fuzz: ${sent} requests in ${seconds.toFixed(1)} s (seed ${SEED}); answers ${JSON.stringify(Object.fromEntries(codes))}, ${writes} writes inside the workspace; ` +
        `${JUNK_FRAMES} junk frames, ${closedWithCode} closed with a code (the rest answered or ignored)\n`,
    );
  });
});
