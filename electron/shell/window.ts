/**
 * The studio window and the rules every web page in the app lives under:
 * context isolation, the renderer sandbox, no Node in the page, web security
 * on, DevTools only in development, no navigation of any frame away from the
 * studio, no new windows, no permissions. The page comes from app://painter
 * (protocol.ts), whose responses carry the desktop CSP.
 *
 * @see https://www.electronjs.org/docs/latest/tutorial/security
 */
import { join } from 'node:path';
import { app, BrowserWindow, session, type WebContents } from 'electron';
import { APP_ORIGIN, STUDIO_URL } from './protocol';
import { DEFAULT_SIZE, MIN_SIZE, type Rectangle } from './window-state';

const preloadScript = join(import.meta.dirname, '../preload/preload.cjs');

/** The Vite dev server that `electron-vite dev` starts, when there is one (never when packaged). */
export function devServerUrl(): string | null {
  const url = process.env['ELECTRON_RENDERER_URL'];
  return !app.isPackaged && url ? url : null;
}

/**
 * Whether a frame URL is the studio page itself: app://painter/index.html
 * (any hash or query), or a page of the dev server's origin in development.
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
  return `${parsed.protocol}//${parsed.host}` === APP_ORIGIN && (parsed.pathname === '/index.html' || parsed.pathname === '/');
}

/** Refuses everything a page could use to leave the studio or escalate. */
export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  // Any frame, main or sub: the studio never navigates after its first load (loadURL does not fire this).
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  if (app.isPackaged) {
    // devTools: false already keeps them shut; this also closes them if anything opens them.
    contents.on('devtools-opened', () => contents.closeDevTools());
  }
}

/** App-wide hardening; call once, before the first window opens. */
export function hardenApp(): void {
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  // The studio needs no camera, notifications, geolocation, USB, HID, serial, …
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.setDevicePermissionHandler(() => false);
}

export interface StudioWindowOptions {
  /** Restored bounds (window-state.ts), or null for the default size, centred. */
  bounds: Rectangle | null;
}

export function createStudioWindow(options: StudioWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    ...(options.bounds ?? DEFAULT_SIZE),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: 'Painter',
    backgroundColor: '#101217',
    webPreferences: {
      preload: preloadScript,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      // Middle-click would open links in new windows (denied anyway by the window-open handler).
      disableBlinkFeatures: 'Auxclick',
      devTools: !app.isPackaged,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServerUrl() ?? STUDIO_URL);
  return window;
}
