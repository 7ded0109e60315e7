/**
 * The studio's side of the desktop shell (renderer/lib/desktop.svelte.ts):
 * menu commands, files opened from outside and the close prompt's "Save…",
 * with a real engine behind the bridge (engine-bridge.mjs) and the shell's
 * native dialogs as test doubles that answer like a user would.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PainterBridge } from '../../electron/api/contract';
import { engineBridge, fileExists, type EngineBridge } from './engine-bridge.mjs';

let engine: EngineBridge;
const dialogs = { showSaveDialog: vi.fn(), showOpenDialog: vi.fn(), pickFolder: vi.fn() };
const shell = { openPaths: vi.fn(), closeAfterSave: vi.fn(), setUnsavedChanges: vi.fn(), pathForFile: vi.fn(() => null) };
const listeners: { command?: (c: string) => void; openFile?: (f: unknown) => void; saveBeforeClose?: () => void } = {};
const confirm = vi.fn(() => true);

beforeAll(() => {
  engine = engineBridge();
  const bridge: PainterBridge = {
    invoke: (method, params) => engine.invoke(method, params),
    onEvent: (listener) => engine.onEvent(listener),
    ...dialogs,
    ...shell,
    onCommand: (listener) => ((listeners.command = listener as (c: string) => void), () => {}),
    onOpenFile: (listener) => ((listeners.openFile = listener as (f: unknown) => void), () => {}),
    onSaveBeforeClose: (listener) => ((listeners.saveBeforeClose = listener), () => {}),
  };
  // The renderer's globals, as much as these modules use: window.painter and window.confirm.
  Object.assign(globalThis, { window: { painter: bridge, confirm } });
});
afterAll(async () => {
  await engine.dispose();
});

const desktop = () => import('../../renderer/lib/desktop.svelte');
const state = async () => ({
  session: (await import('../../renderer/lib/state/session.svelte')).session,
  models: (await import('../../renderer/lib/state/models.svelte')).models,
  theme: (await import('../../renderer/lib/state/theme.svelte')).theme,
  notices: (await import('../../renderer/lib/state/notices.svelte')).notices,
});

async function makeRun(seed: number): Promise<void> {
  const { session } = await state();
  const { api } = await import('../../renderer/lib/api');
  await session.add(await api.call('generate', { jobId: `job-${seed}`, modelId: 'fixture-eps-int64', seed, steps: 3, sampler: 'euler', classLabel: null, guidance: 1 }));
}

beforeEach(async () => {
  vi.clearAllMocks();
  (await state()).session.reset();
});

describe('desktop commands in the studio', () => {
  it('the shell is connected only where the bridge has the desktop functions, and listens to all three channels', async () => {
    const { connectDesktopShell } = await desktop();
    const disconnect = connectDesktopShell();
    expect(disconnect).not.toBeNull();
    expect(Object.keys(listeners).sort()).toEqual(['command', 'openFile', 'saveBeforeClose']);
  });

  it('Save As… asks for a file natively, adds .painter, names an untitled session after the file, and writes it', async () => {
    const { runShellCommand } = await desktop();
    const { session } = await state();
    await makeRun(1);
    const chosen = `${engine.folder}/walk-in-the-park`;
    dialogs.showSaveDialog.mockResolvedValueOnce(chosen);
    await runShellCommand('save-as');
    const request = dialogs.showSaveDialog.mock.calls[0]![0] as { title: string; defaultPath: string; filters: unknown[] };
    expect(request.title).toBe('Save session');
    expect(request.defaultPath).toMatch(/sessions\/untitled-session\.painter$/);
    expect(request.filters).toEqual([{ name: 'Painter session', extensions: ['painter'] }]);
    expect(session.path).toBe(`${chosen}.painter`);
    expect(session.name).toBe('walk-in-the-park');
    expect(session.dirty).toBe(false);
    expect(fileExists(`${chosen}.painter`)).toBe(true);
  });

  it('Save writes to the session file it has without asking; a cancelled dialog saves nothing', async () => {
    const { runShellCommand } = await desktop();
    const { session } = await state();
    await makeRun(2);
    dialogs.showSaveDialog.mockResolvedValueOnce(null);
    await runShellCommand('save');
    expect(session.path).toBeNull();
    expect(session.dirty).toBe(true);
    dialogs.showSaveDialog.mockResolvedValueOnce(`${engine.folder}/second.painter`);
    await runShellCommand('save');
    expect(session.path).toBe(`${engine.folder}/second.painter`);
    await makeRun(3);
    expect(session.dirty).toBe(true);
    await runShellCommand('save');
    expect(dialogs.showSaveDialog).toHaveBeenCalledTimes(2);
    expect(session.dirty).toBe(false);
  });

  it('the close prompt’s "Save…" saves, then lets the window close; cancelling the file dialog keeps it open', async () => {
    const { session } = await state();
    await makeRun(4);
    dialogs.showSaveDialog.mockResolvedValueOnce(null);
    listeners.saveBeforeClose!();
    await vi.waitFor(() => expect(dialogs.showSaveDialog).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(shell.closeAfterSave).not.toHaveBeenCalled();
    dialogs.showSaveDialog.mockResolvedValueOnce(`${engine.folder}/before-close.painter`);
    listeners.saveBeforeClose!();
    await vi.waitFor(() => expect(shell.closeAfterSave).toHaveBeenCalledOnce());
    expect(session.dirty).toBe(false);
  });

  it('New Session asks before discarding unsaved runs, and empties the session', async () => {
    const { runShellCommand } = await desktop();
    const { session } = await state();
    await makeRun(5);
    confirm.mockReturnValueOnce(false);
    await runShellCommand('new-session');
    expect(session.runs).toHaveLength(1);
    await runShellCommand('new-session');
    expect(confirm).toHaveBeenCalledTimes(2);
    expect(session.runs).toEqual([]);
    expect(session.name).toBe('Untitled session');
  });

  it('Open… asks for a session or run natively and hands the path to the shell to sort', async () => {
    const { runShellCommand } = await desktop();
    dialogs.showOpenDialog.mockResolvedValueOnce('/home/a/walk.painter');
    await runShellCommand('open');
    expect(dialogs.showOpenDialog.mock.calls[0]![0]).toMatchObject({ filters: [{ extensions: ['painter'] }, { extensions: ['safetensors'] }] });
    expect(shell.openPaths).toHaveBeenCalledWith(['/home/a/walk.painter']);
  });

  it('theme and model-folder commands run the studio’s own actions', async () => {
    const { runShellCommand } = await desktop();
    const { theme, models } = await state();
    const before = theme.current;
    await runShellCommand('toggle-theme');
    expect(theme.current).not.toBe(before);
    dialogs.pickFolder.mockResolvedValueOnce(`${engine.fixtures}/fixture-x0`);
    await runShellCommand('add-model-folder');
    expect(models.selectedId).toBe('fixture-x0');
  });
});

describe('files opened from outside', () => {
  it('a run file joins the session; a session file replaces it (after asking); a model folder is added', async () => {
    const { openFile, runShellCommand } = await desktop();
    const { session, models, notices } = await state();
    await makeRun(6);
    const runId = session.runs[0]!.runId;
    const { api } = await import('../../renderer/lib/api');
    const runPath = `${engine.folder}/kept.safetensors`;
    await api.call('saveRun', { runId, path: runPath });
    dialogs.showSaveDialog.mockResolvedValueOnce(`${engine.folder}/opened.painter`);
    await runShellCommand('save-as');

    session.reset();
    await openFile({ path: runPath, kind: 'run' });
    expect(session.runs.map((run) => run.runId)).toEqual([runId]);
    expect(session.dirty).toBe(true);

    confirm.mockReturnValueOnce(false);
    await openFile({ path: `${engine.folder}/opened.painter`, kind: 'session' });
    expect(session.path).toBeNull();
    await openFile({ path: `${engine.folder}/opened.painter`, kind: 'session' });
    expect(session.path).toBe(`${engine.folder}/opened.painter`);
    expect(session.dirty).toBe(false);

    await openFile({ path: `${engine.fixtures}/fixture-v`, kind: 'model-folder' });
    expect(models.list.map((model) => model.id)).toContain('fixture-v');

    await openFile({ path: `${engine.folder}/missing.safetensors`, kind: 'run' });
    expect(notices.error?.code).toBe('BAD_FILE');
  });
});
