/**
 * The desktop page's origin and its content security policy, sent as a
 * response header by the app:// protocol (electron/shell/protocol.ts). The
 * policy allows only what the studio uses in Electron: its own bundled
 * scripts (the assets folder, nothing else of the origin), its own
 * stylesheets (no inline styles: Svelte's style: directives go through the
 * CSSOM, which the policy does not restrict), images from itself and from
 * data:/blob: URLs (canvas exports), and no network at all —
 * the engine is reached over IPC, so, unlike browser mode, there is no
 * ws://127.0.0.1:* here. No Electron import (tests and the scanner read it).
 *
 * Browser mode (`painter serve`) keeps its own policy: the <meta> tag of
 * renderer/index.html, which the app:// protocol strips, so the two never mix.
 * tests/e2e/desktop-csp.test.ts runs the studio under this policy in Chromium
 * and fails on any violation.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'painter';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const STUDIO_URL = `${APP_ORIGIN}/index.html`;

/** The policy for the studio served from `origin` (app://painter; tests serve the same files from an http origin). */
export function desktopCsp(origin: string): string {
  return [
    "default-src 'none'",
    // Scripts only from the bundle's folder, not the whole origin ('self' would admit any file the origin serves).
    `script-src ${origin}/assets/`,
    "style-src 'self'",
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
}

export const DESKTOP_CSP = desktopCsp(APP_ORIGIN);

const META_CSP = /<meta\s+http-equiv=["']Content-Security-Policy["'][^>]*>\s*/gi;

/** index.html without its browser-mode <meta> policy (the header policy applies instead). */
export function withoutMetaCsp(html: string): string {
  return html.replace(META_CSP, '');
}
