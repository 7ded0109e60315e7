/**
 * The studio window and the rules every web page in the app lives under:
 * context isolation, the renderer sandbox, no Node in the page, web security
 * on, no navigation away from the studio and no new windows. The page's CSP
 * is a <meta> tag in renderer/index.html, so it holds for file:// loads (which
 * carry no response headers) and for the browser-mode server alike.
 *
 * @see https://www.electronjs.org/docs/latest/tutorial/security
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, session, type WebContents } from 'electron';

const rendererHtml = join(import.meta.dirname, '../renderer/index.html');
const preloadScript = join(import.meta.dirname, '../preload/preload.cjs');

/** The Vite dev server that `electron-vite dev` starts, when there is one. */
function devServerUrl(): string | null {
  const url = process.env['ELECTRON_RENDERER_URL'];
  return !app.isPackaged && url ? url : null;
}

/**
 * Whether a frame URL is the studio page itself: the built index.html (any
 * hash or query), or a page of the dev server's origin in development.
 */
export function isStudioUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const dev = devServerUrl();
  if (dev !== null) return parsed.origin === new URL(dev).origin;
  return parsed.protocol === 'file:' && parsed.pathname === pathToFileURL(rendererHtml).pathname;
}

/** Refuses everything a page could use to leave the studio or escalate. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** App-wide hardening; call once, before the first window opens. */
export function hardenApp(): void {
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  // The studio needs no camera, notifications, geolocation, …
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

export function createStudioWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Painter',
    backgroundColor: '#101217',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadScript,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());

  const dev = devServerUrl();
  if (dev !== null) void window.loadURL(dev);
  else void window.loadFile(rendererHtml);
  return window;
}
