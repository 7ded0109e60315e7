/**
 * The IPC surface the page can reach: sender validation on every channel,
 * argument validation, the engine behind it (a real EngineHost on the test
 * fixtures), the dialog-driven channels, and the hooks the shell acts on.
 * `ipcMain` and `dialog` are test doubles (vi.mock of 'electron').
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiResponse } from '../../electron/api/contract';
import { EngineHost } from '../../electron/host/engine-host';
import { nodeEngineLauncher } from '../../electron/host/node-launcher';
import { FIXTURES } from '../helpers/fixtures';

type Handler = (event: unknown, ...args: unknown[]) => unknown;
const electron = vi.hoisted(() => ({
  handlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
  listeners: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
  dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn() },
  app: { isPackaged: true, on: vi.fn() },
}));
vi.mock('electron', () => ({
  app: electron.app,
  dialog: electron.dialog,
  ipcMain: {
    handle: (channel: string, handler: Handler) => electron.handlers.set(channel, handler),
    removeHandler: (channel: string) => electron.handlers.delete(channel),
    on: (channel: string, listener: Handler) => electron.listeners.set(channel, listener),
    removeAllListeners: (channel: string) => electron.listeners.delete(channel),
  },
  // window.ts's imports (the IPC module asks it whether a URL is the studio).
  BrowserWindow: vi.fn(),
  session: {},
}));

const { registerIpc } = await import('../../electron/shell/ipc');

const ROOT = join(__dirname, '..', '..');
const mainFrame = { url: 'app://painter/index.html' };
const webContents = { mainFrame, send: vi.fn() };
const studioWindow = { webContents, isDestroyed: () => false };
const trusted = { sender: webContents, senderFrame: mainFrame };
const hooks = { onSessionFile: vi.fn(), onUnsavedChanges: vi.fn(), onOpenPaths: vi.fn(), onCloseAfterSave: vi.fn() };

let host: EngineHost;
let unregister: () => void;
beforeAll(() => {
  host = new EngineHost({
    launcher: nodeEngineLauncher(join(ROOT, 'out', 'cli', 'engine-worker.cjs')),
    engine: { nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-ipc-')), provider: 'cpu' },
  });
  unregister = registerIpc(host, () => studioWindow as never, hooks);
});
afterAll(async () => {
  unregister();
  await host.dispose();
});
beforeEach(() => {
  vi.clearAllMocks();
});

// Like Electron's ipcMain.handle, a handler that throws (synchronously or not) rejects the renderer's invoke().
const invoke = (channel: string, event: unknown, ...args: unknown[]): Promise<unknown> => new Promise((resolve) => resolve(electron.handlers.get(channel)!(event, ...args)));
const send = (channel: string, event: unknown, ...args: unknown[]): unknown => electron.listeners.get(channel)!(event, ...args);

describe('IPC sender validation', () => {
  const strangers: Array<[string, unknown]> = [
    ['another web contents', { sender: { mainFrame }, senderFrame: mainFrame }],
    ['a subframe of the studio', { sender: webContents, senderFrame: { url: 'app://painter/index.html' } }],
    ['the studio window showing another page', { sender: { ...webContents, mainFrame: { url: 'https://evil.example/' } }, senderFrame: { url: 'https://evil.example/' } }],
    ['no frame', { sender: webContents, senderFrame: null }],
  ];

  for (const [who, event] of strangers) {
    it(`refuses ${who} on every invoke channel`, async () => {
      for (const channel of ['painter:invoke', 'painter:pick-folder', 'painter:save-dialog', 'painter:open-dialog']) {
        await expect(invoke(channel, event, 'listModels', {}), channel).rejects.toThrow(/Refused .* from a page that is not the studio/);
      }
      expect(electron.dialog.showOpenDialog).not.toHaveBeenCalled();
      expect(electron.dialog.showSaveDialog).not.toHaveBeenCalled();
    });

    it(`drops one-way messages from ${who}`, () => {
      send('painter:unsaved', event, true);
      send('painter:open-paths', event, ['/tmp/a.painter']);
      send('painter:close-after-save', event);
      expect(hooks.onUnsavedChanges).not.toHaveBeenCalled();
      expect(hooks.onOpenPaths).not.toHaveBeenCalled();
      expect(hooks.onCloseAfterSave).not.toHaveBeenCalled();
    });
  }
});

describe('the API over IPC', () => {
  it('answers the studio from the engine', async () => {
    const response = (await invoke('painter:invoke', trusted, 'listModels', {})) as ApiResponse<Array<{ id: string }>>;
    expect(response.ok).toBe(true);
    if (response.ok) expect(response.value.map((model) => model.id)).toContain('fixture-eps-int64');
  });

  it('turns unknown methods and bad arguments into BAD_ARGUMENT payloads, never a thrown stack', async () => {
    expect(await invoke('painter:invoke', trusted, 'formatDisk', {})).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT', message: 'Unknown API method "formatDisk".' } });
    const bad = (await invoke('painter:invoke', trusted, 'generate', { modelId: 'x', seed: -1 })) as ApiResponse<unknown>;
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('BAD_ARGUMENT');
    const provider = (await invoke('painter:invoke', trusted, 'setProvider', { provider: 'tpu' })) as ApiResponse<unknown>;
    expect(provider).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
  });

  it('tells the shell about a saved session file (recent documents), and only on success', async () => {
    const generated = (await invoke('painter:invoke', trusted, 'generate', { jobId: 'j1', modelId: 'fixture-eps-int64', seed: 3, steps: 3, sampler: 'euler', classLabel: null, guidance: 1 })) as ApiResponse<{ runId: string }>;
    expect(generated.ok).toBe(true);
    if (!generated.ok) return;
    const path = join(mkdtempSync(join(tmpdir(), 'painter-ipc-session-')), 'walk.painter');
    const saved = await invoke('painter:invoke', trusted, 'saveSession', { path, name: 'Walk', runIds: [generated.value.runId], current: null });
    expect(saved).toMatchObject({ ok: true, value: { path } });
    expect(hooks.onSessionFile).toHaveBeenCalledWith(path);
    hooks.onSessionFile.mockClear();
    await invoke('painter:invoke', trusted, 'openSession', { path: '/nonexistent/x.painter' });
    expect(hooks.onSessionFile).not.toHaveBeenCalled();
    await invoke('painter:invoke', trusted, 'openSession', { path });
    expect(hooks.onSessionFile).toHaveBeenCalledWith(path);
  });
});

describe('native dialogs', () => {
  it('save: passes the validated request to a modal dialog on the studio window and returns the path, or null when cancelled', async () => {
    electron.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: '/home/a/walk.painter' });
    const request = { title: 'Save session', defaultPath: '/home/a/untitled.painter', filters: [{ name: 'Painter session', extensions: ['painter'] }] };
    expect(await invoke('painter:save-dialog', trusted, request)).toBe('/home/a/walk.painter');
    expect(electron.dialog.showSaveDialog).toHaveBeenCalledWith(studioWindow, { ...request, properties: ['createDirectory', 'showOverwriteConfirmation'] });
    electron.dialog.showSaveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    expect(await invoke('painter:save-dialog', trusted, request)).toBeNull();
  });

  it('open and folder: one path, or null when cancelled', async () => {
    electron.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: ['/home/a/walk.painter'] });
    expect(await invoke('painter:open-dialog', trusted, { title: 'Open', filters: [] })).toBe('/home/a/walk.painter');
    expect(electron.dialog.showOpenDialog.mock.calls[0]![1]).toMatchObject({ properties: ['openFile'] });
    electron.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: ['/models/mine'] });
    expect(await invoke('painter:pick-folder', trusted)).toBe('/models/mine');
    expect(electron.dialog.showOpenDialog.mock.calls[1]![1]).toMatchObject({ properties: ['openDirectory'] });
    electron.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await invoke('painter:pick-folder', trusted)).toBeNull();
  });

  it('refuses malformed requests before any dialog opens', async () => {
    for (const request of [
      null,
      { title: '' },
      { title: 'x', defaultPath: 'relative/path.painter', filters: [] },
      { title: 'x', filters: [{ name: 'all', extensions: ['*'] }] },
      { title: 'x', filters: [], properties: ['openDirectory', 'multiSelections'] },
      { title: 'x'.repeat(201), filters: [] },
    ]) {
      await expect(invoke('painter:save-dialog', trusted, request), JSON.stringify(request)).rejects.toThrow(/painter:save-dialog: /);
    }
    expect(electron.dialog.showSaveDialog).not.toHaveBeenCalled();
  });
});

describe('one-way messages from the studio', () => {
  it('unsaved state, dropped paths and close-after-save reach the shell, validated', () => {
    send('painter:unsaved', trusted, true);
    expect(hooks.onUnsavedChanges).toHaveBeenCalledWith(true);
    send('painter:open-paths', trusted, ['/home/a/walk.painter', '/models/mine']);
    expect(hooks.onOpenPaths).toHaveBeenCalledWith(['/home/a/walk.painter', '/models/mine']);
    send('painter:close-after-save', trusted);
    expect(hooks.onCloseAfterSave).toHaveBeenCalledOnce();
  });

  it('malformed ones are dropped', () => {
    send('painter:unsaved', trusted, 'yes');
    send('painter:unsaved', trusted, { dirty: true });
    send('painter:open-paths', trusted, ['relative.painter']);
    send('painter:open-paths', trusted, []);
    send('painter:open-paths', trusted, Array.from({ length: 65 }, (_, i) => `/f${i}.painter`));
    expect(hooks.onUnsavedChanges).not.toHaveBeenCalled();
    expect(hooks.onOpenPaths).not.toHaveBeenCalled();
  });
});

describe('engine events', () => {
  it('progress is relayed to the studio window', async () => {
    await invoke('painter:invoke', trusted, 'generate', { jobId: 'j2', modelId: 'fixture-eps-int64', seed: 4, steps: 3, sampler: 'euler', classLabel: null, guidance: 1 });
    const progress = webContents.send.mock.calls.filter(([channel]) => channel === 'painter:event');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual(['painter:event', 'progress', expect.objectContaining({ jobId: 'j2' })]);
  });
});

describe('unregistering', () => {
  it('removes every handler and listener', () => {
    const channels = [...electron.handlers.keys(), ...electron.listeners.keys()];
    expect(channels.sort()).toEqual(
      ['painter:invoke', 'painter:pick-folder', 'painter:save-dialog', 'painter:open-dialog', 'painter:unsaved', 'painter:open-paths', 'painter:close-after-save'].sort(),
    );
  });
});
