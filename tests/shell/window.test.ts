/**
 * The studio window's options and the app-wide security rules, with the
 * `electron` module replaced by test doubles of the few members window.ts uses.
 */
import { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => {
  const windows: Array<{ options: Record<string, unknown>; loadURL: ReturnType<typeof vi.fn>; once: ReturnType<typeof vi.fn> }> = [];
  return {
    windows,
    app: { isPackaged: false, on: vi.fn() },
    session: {
      defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn(), setDevicePermissionHandler: vi.fn() },
    },
    BrowserWindow: vi.fn(function (this: Record<string, unknown>, options: Record<string, unknown>) {
      const record = { options, loadURL: vi.fn(() => Promise.resolve()), once: vi.fn() };
      windows.push(record);
      Object.assign(this, record);
    }),
  };
});
vi.mock('electron', () => ({ app: electron.app, session: electron.session, BrowserWindow: electron.BrowserWindow }));

const { createStudioWindow, hardenApp, isStudioUrl, lockDown } = await import('../../electron/shell/window');

/** A WebContents double: real events, a recorded window-open handler. */
function contents(): EventEmitter & { setWindowOpenHandler: ReturnType<typeof vi.fn>; closeDevTools: ReturnType<typeof vi.fn> } {
  return Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn(), closeDevTools: vi.fn() });
}

function event(): { preventDefault: ReturnType<typeof vi.fn> } {
  return { preventDefault: vi.fn() };
}

beforeEach(() => {
  electron.windows.length = 0;
  electron.app.isPackaged = false;
  delete process.env['ELECTRON_RENDERER_URL'];
});

describe('the studio window', () => {
  it('isolates, sandboxes and keeps Node out of the page, with web security on', () => {
    createStudioWindow({ bounds: null });
    const preferences = electron.windows[0]!.options['webPreferences'] as Record<string, unknown>;
    expect(preferences).toMatchObject({
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
      disableBlinkFeatures: 'Auxclick',
    });
    expect(String(preferences['preload'])).toMatch(/preload[/\\]preload\.cjs$/);
  });

  it('loads the studio from app://painter, not file://', () => {
    createStudioWindow({ bounds: null });
    expect(electron.windows[0]!.loadURL).toHaveBeenCalledWith('app://painter/index.html');
  });

  it('keeps DevTools in development only', () => {
    createStudioWindow({ bounds: null });
    electron.app.isPackaged = true;
    createStudioWindow({ bounds: null });
    expect(electron.windows.map((w) => (w.options['webPreferences'] as Record<string, unknown>)['devTools'])).toEqual([true, false]);
  });

  it('opens at restored bounds, or the default size', () => {
    createStudioWindow({ bounds: { x: 40, y: 30, width: 1500, height: 900 } });
    createStudioWindow({ bounds: null });
    expect(electron.windows[0]!.options).toMatchObject({ x: 40, y: 30, width: 1500, height: 900, minWidth: 960, minHeight: 600, show: false });
    expect(electron.windows[1]!.options).toMatchObject({ width: 1280, height: 800 });
    expect(electron.windows[1]!.options).not.toHaveProperty('x');
  });

  it('a dev server URL is used only when not packaged', () => {
    process.env['ELECTRON_RENDERER_URL'] = 'http://localhost:5173';
    createStudioWindow({ bounds: null });
    electron.app.isPackaged = true;
    createStudioWindow({ bounds: null });
    expect(electron.windows.map((w) => w.loadURL.mock.calls[0]![0])).toEqual(['http://localhost:5173', 'app://painter/index.html']);
  });
});

describe('the studio URL', () => {
  it('is app://painter/index.html (any hash or query), nothing else', () => {
    expect(isStudioUrl('app://painter/index.html')).toBe(true);
    expect(isStudioUrl('app://painter/index.html#theory?x=1')).toBe(true);
    expect(isStudioUrl('app://painter/')).toBe(true);
    for (const url of ['app://evil/index.html', 'app://painter/assets/x.js', 'file:///index.html', 'http://127.0.0.1/index.html', 'https://painter/index.html', 'not a url']) {
      expect(isStudioUrl(url), url).toBe(false);
    }
  });
});

describe('every page is locked down', () => {
  it('navigation of any frame, redirects and webviews are refused; new windows denied', () => {
    const page = contents();
    lockDown(page as never);
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const attempt = event();
      page.emit(name, attempt);
      expect(attempt.preventDefault, name).toHaveBeenCalledOnce();
    }
    const handler = page.setWindowOpenHandler.mock.calls[0]![0] as (details: { url: string }) => { action: string };
    expect(handler({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('packaged, DevTools are closed if anything opens them', () => {
    electron.app.isPackaged = true;
    const page = contents();
    lockDown(page as never);
    page.emit('devtools-opened');
    expect(page.closeDevTools).toHaveBeenCalledOnce();
  });

  it('every web contents is locked down as it is created; every permission is refused', () => {
    hardenApp();
    const [name, listener] = electron.app.on.mock.calls.find(([n]) => n === 'web-contents-created')!;
    expect(name).toBe('web-contents-created');
    const page = contents();
    (listener as (e: unknown, c: unknown) => void)({}, page);
    const attempt = event();
    page.emit('will-frame-navigate', attempt);
    expect(attempt.preventDefault).toHaveBeenCalled();

    const request = electron.session.defaultSession.setPermissionRequestHandler.mock.calls[0]![0] as (c: unknown, p: string, cb: (ok: boolean) => void) => void;
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'fullscreen']) {
      const callback = vi.fn();
      request({}, permission, callback);
      expect(callback, permission).toHaveBeenCalledWith(false);
    }
    const check = electron.session.defaultSession.setPermissionCheckHandler.mock.calls[0]![0] as () => boolean;
    expect(check()).toBe(false);
    const device = electron.session.defaultSession.setDevicePermissionHandler.mock.calls[0]![0] as () => boolean;
    expect(device()).toBe(false);
  });
});
