/**
 * Named regressions for browser mode: requests and frames that once killed
 * `painter serve` with an uncaught exception. The server runs as a real child
 * process (the CLI), so a crash shows as an exit, and after every attack a
 * well-formed API call must still be answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const ROOT = resolve(import.meta.dirname, '..', '..');
let child: ChildProcess;
let port = 0;
let token = '';
let exited: number | null = null;

beforeAll(async () => {
  child = spawn(process.execPath, [join(ROOT, 'bin', 'painter.cjs'), 'serve', '--port', '0'], {
    env: { ...process.env, PAINTER_HOME: mkdtempSync(join(tmpdir(), 'painter-serve-hostile-')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('exit', (code) => (exited = code ?? -1));
  await new Promise<void>((done, fail) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+)/.exec(text);
      if (match) {
        port = Number(match[1]);
        token = match[2]!;
        done();
      }
    });
    child.on('exit', () => fail(new Error(`serve exited before listening: ${text}`)));
  });
});

afterAll(() => {
  child.kill('SIGTERM');
});

/** Sends raw bytes and returns the status line of the reply ('' when the socket closed silently). */
function rawRequest(bytes: string): Promise<string> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString('latin1')));
    socket.on('error', () => done(reply.split('\r\n')[0] ?? ''));
    socket.on('close', () => done(reply.split('\r\n')[0] ?? ''));
    socket.setTimeout(3000, () => socket.destroy());
  });
}

function openSocket(): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
  return new Promise((done, fail) => {
    socket.once('open', () => done(socket));
    socket.once('error', fail);
  });
}

/** A well-formed call on a fresh connection: the server is still serving. */
async function stillServing(): Promise<void> {
  expect(exited).toBeNull();
  const socket = await openSocket();
  const reply = await new Promise<string>((done) => {
    socket.once('message', (data) => done(String(data)));
    socket.send(JSON.stringify({ type: 'request', id: 1, method: 'studioPaths', params: {} }));
  });
  expect(JSON.parse(reply)).toMatchObject({ type: 'response', id: 1, response: { ok: true } });
  socket.close();
}

function closeCodeOf(socket: WebSocket): Promise<number> {
  return new Promise((done) => socket.once('close', (code) => done(code)));
}

describe('painter serve survives hostile requests (issue 9, items 1 and 3)', () => {
  const host = (): string => `127.0.0.1:${port}`;
  const cases: Array<[string, () => string, RegExp]> = [
    ['GET /% (malformed percent-encoding)', () => `GET /% HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, /^HTTP\/1\.1 400/],
    ['GET //', () => `GET // HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, /^HTTP\/1\.1 4\d\d/],
    ['GET //evil.example/x', () => `GET //evil.example/x HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, /^HTTP\/1\.1 4\d\d/],
    ['GET /%00', () => `GET /%00 HTTP/1.1\r\nHost: ${host()}\r\n\r\n`, /^HTTP\/1\.1 4\d\d/],
    ['a WebSocket upgrade to // with a wrong Host', () => `GET // HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, /^HTTP\/1\.1 403/],
    ['an upgrade to /% ', () => `GET /% HTTP/1.1\r\nHost: ${host()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, /^HTTP\/1\.1 403/],
    ['garbage instead of HTTP', () => `\u0000\u0001 not http at all\r\n\r\n`, /^(HTTP\/1\.1 400 .*|)$/],
  ];
  for (const [what, request, expected] of cases) {
    it(`answers ${what} with a 4xx and keeps serving`, async () => {
      expect(await rawRequest(request())).toMatch(expected);
      await stillServing();
    });
  }

  it('closes with a code on the frame `null`, and keeps serving', async () => {
    const socket = await openSocket();
    const closed = closeCodeOf(socket);
    socket.send('null');
    expect(await closed).toBe(1008);
    await stillServing();
  });

  it('closes with a code on a frame over the size limit, and keeps serving', async () => {
    // A raw client that announces a 17 MB frame and waits: the server must answer with close code
    // 1009 at the header (a client still pushing 17 MB may see a reset instead of the close frame).
    const code = await new Promise<number>((done, fail) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `GET /api?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\n` +
            'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      let reply = Buffer.alloc(0);
      let upgraded = false;
      socket.on('data', (chunk: Buffer) => {
        reply = Buffer.concat([reply, chunk]);
        const end = reply.indexOf('\r\n\r\n');
        if (!upgraded && end >= 0) {
          upgraded = true;
          expect(reply.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
          reply = reply.subarray(end + 4);
          const header = Buffer.alloc(14);
          header[0] = 0x81; // FIN, text
          header[1] = 0x80 | 127; // masked, 64-bit length
          header.writeBigUInt64BE(BigInt(17 * 1024 * 1024), 2);
          socket.write(header);
        }
        // A close frame from the server: 0x88, length, then the 2-byte code.
        if (upgraded && reply.length >= 4 && reply[0] === 0x88) done(reply.readUInt16BE(2));
      });
      socket.on('error', fail);
      socket.setTimeout(5000, () => fail(new Error('no close frame')));
    });
    expect(code).toBe(1009);
    await stillServing();
  });

  it('closes with a code on invalid UTF-8, and keeps serving', async () => {
    const socket = await openSocket();
    const closed = closeCodeOf(socket);
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await closed).toBe(1007);
    await stillServing();
  });
});
