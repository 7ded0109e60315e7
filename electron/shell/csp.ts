/**
 * The desktop app's content security policy, sent as a response header by the
 * app:// protocol (electron/shell/protocol.ts). It allows only what the studio
 * uses in Electron: its own scripts and styles (plus inline style attributes,
 * which Svelte components set), images from itself and from data:/blob: URLs
 * (canvas exports), and no network at all — the engine is reached over IPC,
 * so, unlike browser mode, there is no ws://127.0.0.1:* here.
 *
 * Browser mode (`painter serve`) keeps its own policy: the <meta> tag of
 * renderer/index.html, which the app:// protocol strips, so the two never mix.
 */
export const DESKTOP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'none'",
  "frame-src 'none'",
  "child-src 'none'",
  "object-src 'none'",
  "media-src 'none'",
  "manifest-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const META_CSP = /<meta\s+http-equiv=["']Content-Security-Policy["'][^>]*>\s*/gi;

/** index.html without its browser-mode <meta> policy (the header policy applies instead). */
export function withoutMetaCsp(html: string): string {
  return html.replace(META_CSP, '');
}
