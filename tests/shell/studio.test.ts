/**
 * The studio window as the shell drives it — dialog-driven flows: the
 * unsaved-changes prompt on close (save, don't save, cancel), files opened
 * from outside, messages queued until the page has loaded, and the window's
 * bounds remembered. `electron` is a test double (vi.mock).
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { readWindowState, writeWindowState } from '../../electron/shell/window-state';

/** BrowserWindow, as much of it as studio.ts and window.ts use: real events, recorded calls. */
class WindowDouble {
  static all: WindowDouble[] = [];
  readonly events = new EventEmitter();
  readonly webContents = Object.assign(new EventEmitter(), { send: vi.fn() });
  destroyed = false;
  title = '';
  constructor(readonly options: Record<string, unknown>) {
    WindowDouble.all.push(this);
  }
  on(name: string, listener: (...args: unknown[]) => void): this {
    this.events.on(name, listener);
    return this;
  }
  once(name: string, listener: (...args: unknown[]) => void): this {
    this.events.once(name, listener);
    return this;
  }
  loadURL = vi.fn(() => Promise.resolve());
  isDestroyed = (): boolean => this.destroyed;
  isMinimized = (): boolean => false;
  isMaximized = (): boolean => false;
  isFullScreen = (): boolean => false;
  getNormalBounds = (): Record<string, number> => ({ x: 5, y: 6, width: 1400, height: 900 });
  restore = vi.fn();
  focus = vi.fn();
  maximize = vi.fn();
  setFullScreen = vi.fn();
  setDocumentEdited = vi.fn();
  setRepresentedFilename = vi.fn();
  setTitle(title: string): void {
    this.title = title;
  }
  /** Like BrowserWindow.close(): 'close' can be prevented; otherwise the window is gone. */
  close(): void {
    let prevented = false;
    this.events.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.destroyed = true;
    this.events.emit('closed');
  }
}

const electron = vi.hoisted(() => ({
  dialog: { showMessageBox: vi.fn() },
  app: { isPackaged: true, on: vi.fn(), addRecentDocument: vi.fn(), quit: vi.fn() },
  screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
}));
// The factory runs when studio.ts is first imported (below), after WindowDouble is defined.
vi.mock('electron', () => ({ app: electron.app, dialog: electron.dialog, screen: electron.screen, BrowserWindow: WindowDouble, session: {}, ipcMain: {} }));

const { Studio } = await import('../../electron/shell/studio');

const files = mkdtempSync(join(tmpdir(), 'painter-studio-'));
const sessionFile = join(files, 'walk.painter');
const runFile = join(files, 'run.safetensors');
const modelFolder = join(files, 'model');
writeFileSync(sessionFile, '{}');
writeFileSync(runFile, '');
mkdirSync(modelFolder);
writeFileSync(join(modelFolder, 'manifest.json'), '{}');

let userData: string;
let studio: InstanceType<typeof Studio>;
let window: WindowDouble;

function openLoaded(): void {
  studio.open();
  window = WindowDouble.all.at(-1)!;
  window.webContents.emit('did-finish-load');
}

/** What the page was sent, as [channel, …args]. */
const sent = (): unknown[][] => window.webContents.send.mock.calls;
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  vi.clearAllMocks();
  WindowDouble.all.length = 0;
  userData = mkdtempSync(join(tmpdir(), 'painter-userdata-'));
  studio = new Studio(userData);
});

describe('closing with unsaved changes', () => {
  beforeEach(() => {
    openLoaded();
    studio.setUnsaved(true);
  });

  it('asks first; "Save…" asks the studio to save, which closes the window once it has', async () => {
    electron.dialog.showMessageBox.mockResolvedValueOnce({ response: 0 });
    window.close();
    expect(window.destroyed).toBe(false);
    await flush();
    const [parent, options] = electron.dialog.showMessageBox.mock.calls[0]!;
    expect(parent).toBe(window);
    expect(options).toMatchObject({ type: 'warning', buttons: ['Save…', 'Don’t Save', 'Cancel'], defaultId: 0, cancelId: 2, message: 'Save the session before closing?' });
    expect(sent()).toEqual([['painter:save-before-close']]);
    expect(window.destroyed).toBe(false);
    studio.closeAfterSave();
    expect(window.destroyed).toBe(true);
  });

  it('"Don’t Save" closes at once; "Cancel" keeps the window and its changes', async () => {
    electron.dialog.showMessageBox.mockResolvedValueOnce({ response: 2 });
    window.close();
    await flush();
    expect(window.destroyed).toBe(false);
    expect(sent()).toEqual([]);
    electron.dialog.showMessageBox.mockResolvedValueOnce({ response: 1 });
    window.close();
    await flush();
    expect(window.destroyed).toBe(true);
    expect(electron.app.quit).not.toHaveBeenCalled();
  });

  it('a confirmed close during a quit carries the quit on (macOS would otherwise keep running)', async () => {
    studio.quitting = true;
    electron.dialog.showMessageBox.mockResolvedValueOnce({ response: 1 });
    window.close();
    await flush();
    expect(window.destroyed).toBe(true);
    expect(electron.app.quit).toHaveBeenCalledOnce();
  });

  it('with nothing unsaved, closes without asking and remembers where the window was', () => {
    studio.setUnsaved(false);
    window.close();
    expect(electron.dialog.showMessageBox).not.toHaveBeenCalled();
    expect(window.destroyed).toBe(true);
    expect(readWindowState(userData)).toEqual({ bounds: { x: 5, y: 6, width: 1400, height: 900 }, maximized: false, fullScreen: false });
  });
});

describe('the window', () => {
  it('opens where it was last time, maximized if it was', () => {
    writeWindowState(userData, { bounds: { x: 50, y: 40, width: 1500, height: 950 }, maximized: true, fullScreen: false });
    studio.open();
    const opened = WindowDouble.all[0]!;
    expect(opened.options).toMatchObject({ x: 50, y: 40, width: 1500, height: 950 });
    expect(opened.maximize).toHaveBeenCalledOnce();
  });
});

describe('files opened from outside', () => {
  it('are handed to the page with their kind; sessions join the recent documents', () => {
    openLoaded();
    studio.openPaths([sessionFile, runFile, modelFolder]);
    expect(sent()).toEqual([
      ['painter:open-file', { path: sessionFile, kind: 'session' }],
      ['painter:open-file', { path: runFile, kind: 'run' }],
      ['painter:open-file', { path: modelFolder, kind: 'model-folder' }],
    ]);
    expect(electron.app.addRecentDocument).toHaveBeenCalledWith(sessionFile);
    expect(electron.app.addRecentDocument).toHaveBeenCalledTimes(1);
  });

  it('wait for the page to load (a double-click starts the app with the file)', () => {
    studio.open();
    window = WindowDouble.all[0]!;
    studio.openPaths([sessionFile]);
    studio.send('toggle-theme');
    expect(window.webContents.send).not.toHaveBeenCalled();
    window.webContents.emit('did-finish-load');
    expect(sent()).toEqual([
      ['painter:open-file', { path: sessionFile, kind: 'session' }],
      ['painter:command', 'toggle-theme'],
    ]);
  });

  it('anything else gets a warning that says what can be opened, and nothing reaches the page', async () => {
    openLoaded();
    const text = join(files, 'notes.txt');
    writeFileSync(text, 'x');
    studio.openPaths([text]);
    await flush();
    expect(sent()).toEqual([]);
    expect(electron.dialog.showMessageBox.mock.calls[0]![1]).toMatchObject({ type: 'warning', detail: expect.stringMatching(/cannot open .*notes\.txt: it is not a session \(\.painter\)/) });
  });
});
