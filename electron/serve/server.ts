/**
 * Browser mode (`painter serve`): the built renderer over HTTP and the API
 * contract over a WebSocket, bound to 127.0.0.1 only and guarded like a
 * Jupyter server — a random token per launch, a Host check (against DNS
 * rebinding) and an Origin check, so no other page open on this machine can
 * drive the engine or make it read files.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiMethod, WireMessage } from '../api/contract';
import { EngineHost } from '../host/engine-host';
import { toErrorPayload } from '../engine/errors';
import type { EngineOptions } from '../engine/service';
import { validateParams } from '../api/validate';
import { decodeWire, encodeWire } from '../api/wire';

export interface ServeOptions extends EngineOptions {
  /** 0 picks a free port. */
  port: number;
  /** Folder of the built renderer (out/renderer). */
  rendererDir: string;
  workerPath: string;
  /** Fixed token (tests); random when absent. */
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const rendererDir = resolve(options.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`The studio is not built (${join(rendererDir, 'index.html')} is missing); run "npm run build" first.`);
  }
  const engine = new EngineHost(options.workerPath, { nativeModelsDir: options.nativeModelsDir, userDataDir: options.userDataDir, ...(options.providers ? { providers: options.providers } : {}) });
  let port = options.port;
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((host) => `http://${host}`);

  const server: Server = createServer((request, response) => serveStatic(request, response, rendererDir, allowedHosts(), port));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const origin = request.headers.origin ?? '';
    const host = request.headers.host ?? '';
    const ok =
      url.pathname === '/api' && allowedHosts().includes(host) && allowedOrigins().includes(origin) && sameSecret(url.searchParams.get('token') ?? '', token);
    if (!ok) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => attach(ws, engine));
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((done) => server.close(() => done()));
      await engine.dispose();
    },
  };
}

function attach(ws: WebSocket, engine: EngineHost): void {
  const send = (message: WireMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(encodeWire(message));
  };
  const unsubscribe = engine.onEvent((name, payload) => send({ type: 'event', name, payload }));
  ws.on('close', unsubscribe);
  ws.on('message', (data) => {
    let message: WireMessage;
    try {
      message = decodeWire(String(data)) as WireMessage;
    } catch {
      ws.close(1003, 'not JSON');
      return;
    }
    if (message.type !== 'request' || typeof message.id !== 'number') return;
    void (async () => {
      try {
        const params = validateParams(message.method, message.params);
        const response = await engine.call(message.method as ApiMethod, params as never);
        send({ type: 'response', id: message.id, response });
      } catch (error) {
        send({ type: 'response', id: message.id, response: { ok: false, error: toErrorPayload(error) } });
      }
    })();
  });
}

function serveStatic(request: IncomingMessage, response: ServerResponse, root: string, hosts: string[], port: number): void {
  if (!hosts.includes(request.headers.host ?? '')) {
    response.writeHead(403).end('Forbidden host');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405).end();
    return;
  }
  const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
  const relative = normalize(pathname === '/' ? '/index.html' : pathname);
  const file = join(root, relative);
  if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
    response.writeHead(404).end('Not found');
    return;
  }
  const headers: Record<string, string> = {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
  if (extname(file) === '.html') {
    headers['Content-Security-Policy'] =
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; ` +
      `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`;
    headers['X-Frame-Options'] = 'DENY';
  }
  response.writeHead(200, headers);
  response.end(request.method === 'HEAD' ? undefined : readFileSync(file));
}
