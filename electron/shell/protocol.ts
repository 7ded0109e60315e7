/**
 * The app:// protocol: the studio's built renderer (out/renderer) served to
 * the window from `app://painter/…`, not from file://. A standard, secure
 * scheme gives the page a real origin (so storage, ES modules and the CSP
 * header work as on the web) while no other page can load it; every response
 * carries the desktop CSP. Requests for anything outside the renderer folder,
 * or for another host, are 404.
 *
 * @see https://www.electronjs.org/docs/latest/tutorial/security#18-avoid-usage-of-the-file-protocol-and-prefer-usage-of-custom-protocols
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, relative, isAbsolute } from 'node:path';
import { protocol, type Session } from 'electron';
import { APP_HOST, APP_SCHEME, DESKTOP_CSP, withoutMetaCsp } from './csp';

export { APP_HOST, APP_ORIGIN, APP_SCHEME, STUDIO_URL } from './csp';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Must run before the app is ready: Electron fixes scheme privileges at startup. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/**
 * The file an app:// URL names inside `rootDir`, or null when the URL is not
 * ours (other scheme or host) or would leave the folder (`..`, encoded
 * separators, absolute paths).
 */
export function resolveAppPath(url: string, rootDir: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  const relativePath = normalize(path === '/' ? '/index.html' : path).replace(/^[/\\]+/, '');
  const file = join(rootDir, relativePath);
  const inside = relative(rootDir, file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return null;
  return file;
}

function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': DESKTOP_CSP } });
}

/** The response for one app:// request (exported for tests; the handler Electron calls). */
export async function appResponse(url: string, rootDir: string): Promise<Response> {
  const file = resolveAppPath(url, rootDir);
  if (file === null) return notFound();
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return notFound();
  }
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const headers = {
    'Content-Type': type,
    'Content-Security-Policy': DESKTOP_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  const content = type.startsWith('text/html') ? withoutMetaCsp(body.toString('utf-8')) : new Uint8Array(body);
  return new Response(content, { status: 200, headers });
}

/** Serves `rootDir` on app:// in a session (after the app is ready). */
export function serveApp(session: Session, rootDir: string): void {
  session.protocol.handle(APP_SCHEME, (request) => appResponse(request.url, rootDir));
}
