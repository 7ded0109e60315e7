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
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiMethod, WireMessage } from '../api/contract';
import { EngineHost } from '../host/engine-host';
import { nodeEngineLauncher } from '../host/node-launcher';
import { toErrorPayload } from '../engine/errors';
import type { EngineOptions } from '../engine/service';
import type { ConfinementOptions } from '../engine/path-policy';
import { validateParams } from '../api/validate';
import { decodeWire, encodeWire } from '../api/wire';
import { Downloads } from './downloads';

export interface ServeOptions extends EngineOptions {
  /** Browser mode is always confined (DESIGN.md §4): its workspace and read-only model folders. */
  confine: ConfinementOptions;
  /** 0 picks a free port. */
  port: number;
  /** Folder of the built renderer (out/renderer). */
  rendererDir: string;
  workerPath: string;
  /** Fixed token (tests); random when absent. */
  token?: string;
  /** The engine process's JavaScript heap limit, MB (node --max-old-space-size); absent: Node's default. */
  engineMemoryMB?: number;
  /** Watchdog timing (tests make a hang show quickly). */
  heartbeatMs?: number;
  hangMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** The engine's supervisor (its process id, its state). */
  engine: EngineHost;
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
  // The engine is a child process under a watchdog: a hang or crash there never takes this server down.
  const engine = new EngineHost({
    launcher: nodeEngineLauncher(options.workerPath, { execArgv: options.engineMemoryMB !== undefined ? [`--max-old-space-size=${options.engineMemoryMB}`] : [] }),
    engine: {
      nativeModelsDir: options.nativeModelsDir,
      userDataDir: options.userDataDir,
      ...(options.provider ? { provider: options.provider } : {}),
      confine: options.confine,
      ...(options.modelFolders ? { modelFolders: options.modelFolders } : {}),
      ...(options.storage ? { storage: options.storage } : {}),
    },
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.hangMs !== undefined ? { hangMs: options.hangMs } : {}),
  });
  let port = options.port;
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((host) => `http://${host}`);

  const downloads = new Downloads();
  const server: Server = createServer((request, response) => {
    try {
      if (serveDownload(request, response, downloads, allowedHosts(), token)) return;
      serveStatic(request, response, rendererDir, allowedHosts(), port);
    } catch {
      // A malformed request must never take the server down (hostile pages can send them).
      if (!response.headersSent) response.writeHead(400);
      response.end('Bad request');
    }
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = parseRequestUrl(request.url);
    const origin = request.headers.origin ?? '';
    const host = request.headers.host ?? '';
    const ok =
      url !== null &&
      url.pathname === '/api' &&
      allowedHosts().includes(host) &&
      allowedOrigins().includes(origin) &&
      sameSecret(url.searchParams.get('token') ?? '', token);
    if (!ok) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => attach(ws, engine, downloads, token));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
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
    engine,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      // A hung engine does not hold this up: dispose() kills it after a short wait.
      await Promise.all([closed, engine.dispose()]);
    },
  };
}

function attach(ws: WebSocket, engine: EngineHost, downloads: Downloads, token: string): void {
  const send = (message: WireMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(encodeWire(message));
  };
  const unsubscribe = engine.onEvent((name, payload) => send({ type: 'event', name, payload }));
  ws.on('close', unsubscribe);
  // ws closes the socket itself (1009 too big, 1007 invalid UTF-8) and reports it here; without a
  // listener the report would be an uncaught exception that ends the server for every client.
  ws.on('error', () => ws.terminate());
  ws.on('message', (data, isBinary) => {
    let message: unknown;
    try {
      if (isBinary) throw new TypeError('binary frame');
      message = decodeWire(String(data));
    } catch {
      ws.close(1003, 'not a JSON text frame');
      return;
    }
    const request = message as Partial<Extract<WireMessage, { type: 'request' }>> | null;
    if (request === null || typeof request !== 'object' || request.type !== 'request' || typeof request.id !== 'number' || !Number.isSafeInteger(request.id)) {
      ws.close(1008, 'not an API request');
      return;
    }
    const id = request.id;
    void (async () => {
      try {
        const params = validateParams(request.method as ApiMethod, request.params);
        const response = await engine.call(request.method as ApiMethod, params as never);
        if (response.ok && Downloads.offers(request.method as ApiMethod)) {
          const result = response.value as { path: string; download?: string };
          result.download = `${downloads.register(result.path)}?token=${encodeURIComponent(token)}`;
        }
        send({ type: 'response', id, response });
      } catch (error) {
        send({ type: 'response', id, response: { ok: false, error: toErrorPayload(error) } });
      }
    })();
  });
}

/** The request target as a URL, or null when it cannot be parsed (`//`, `http://[`, …). */
function parseRequestUrl(target: string | undefined): URL | null {
  try {
    const url = new URL(target ?? '/', 'http://127.0.0.1');
    // "//host/path" parses as another authority: not a path of this server.
    return url.host === '127.0.0.1' ? url : null;
  } catch {
    return null;
  }
}

/**
 * `GET /download/<id>/<name>?token=…`: an exported file, as an attachment.
 * Answers (and returns true) only for that path; the token and Host are
 * checked like the WebSocket's.
 */
function serveDownload(request: IncomingMessage, response: ServerResponse, downloads: Downloads, hosts: string[], token: string): boolean {
  const url = parseRequestUrl(request.url);
  if (url === null || !url.pathname.startsWith('/download/')) return false;
  if (!hosts.includes(request.headers.host ?? '') || !sameSecret(url.searchParams.get('token') ?? '', token)) {
    response.writeHead(403).end('Forbidden');
    return true;
  }
  const path = request.method === 'GET' ? downloads.resolve(url.pathname) : null;
  if (path === null || !existsSync(path) || !statSync(path).isFile()) {
    response.writeHead(404).end('This download has expired; export the file again.');
    return true;
  }
  const name = basename(path).replace(/[^\w.-]/g, '_');
  response.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="${name}"`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  response.end(readFileSync(path));
  return true;
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
  const url = parseRequestUrl(request.url);
  let pathname: string;
  try {
    if (url === null) throw new URIError('unparsable');
    pathname = decodeURIComponent(url.pathname);
  } catch {
    response.writeHead(400).end('Bad request');
    return;
  }
  if (pathname.includes('\0')) {
    response.writeHead(400).end('Bad request');
    return;
  }
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
