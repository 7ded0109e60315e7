/**
 * The main-process end of the API contract over IPC, and of the shell's own
 * channels (dialogs, commands, document state, dropped files). Every message
 * is checked before anything happens: the sender must be the studio window's
 * own main frame showing the studio page (STYLE.md: every main-side listener
 * checks its sender), and the arguments must pass validateParams (API) or the
 * shell validators. API failures come back as {ok:false, error} with a stable
 * code, never as a thrown stack; a refused shell message is dropped.
 */
import { dialog, ipcMain, type BrowserWindow, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents, type WebFrameMain } from 'electron';
import {
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  type ApiMethod,
  type ApiParams,
  type ApiResponse,
} from '../api/contract';
import { toErrorPayload } from '../engine/errors';
import type { EngineHost } from '../host/engine-host';
import { CLOSE_AFTER_SAVE_CHANNEL, OPEN_DIALOG_CHANNEL, OPEN_PATHS_CHANNEL, PICK_FOLDER_CHANNEL, SAVE_DIALOG_CHANNEL, UNSAVED_CHANNEL } from './ipc-channels';
import { isApiMethod, validateParams } from '../api/validate';
import { droppedPaths, fileDialogRequest, unsavedFlag } from './shell-validate';
import { isStudioUrl } from './window';

/** The studio window, or null while none is open. */
export type WindowGetter = () => BrowserWindow | null;

/** What the shell does with what the studio tells it. */
export interface ShellHooks {
  /** A session was saved to or opened from `path` (recent documents). */
  onSessionFile(path: string): void;
  /** Whether closing would lose work (the close prompt). */
  onUnsavedChanges(unsaved: boolean): void;
  onOpenPaths(paths: string[]): void;
  onCloseAfterSave(): void;
}

interface SenderEvent {
  sender: WebContents;
  senderFrame: WebFrameMain | null;
}

export function isTrustedSender(event: SenderEvent, getWindow: WindowGetter): boolean {
  const window = getWindow();
  if (window === null || window.isDestroyed()) return false;
  const frame = event.senderFrame;
  return event.sender === window.webContents && frame !== null && frame === window.webContents.mainFrame && isStudioUrl(frame.url);
}

/** Calls that name a session file the OS should list among recent documents. */
const SESSION_FILE_METHODS: ReadonlySet<ApiMethod> = new Set(['saveSession', 'openSession']);

async function handleInvoke(host: EngineHost, method: unknown, params: unknown, hooks: ShellHooks): Promise<ApiResponse<unknown>> {
  if (typeof method !== 'string' || !isApiMethod(method)) {
    return {
      ok: false,
      error: { code: 'BAD_ARGUMENT', message: `Unknown API method ${JSON.stringify(method)}.`, details: { method } },
    };
  }
  try {
    const valid = validateParams(method, params) as ApiParams<ApiMethod>;
    const response = await host.call(method, valid);
    if (response.ok && SESSION_FILE_METHODS.has(method)) hooks.onSessionFile((response.value as { path: string }).path);
    return response;
  } catch (error) {
    return { ok: false, error: toErrorPayload(error) };
  }
}

/**
 * Wires the IPC channels to the engine and the shell, and relays engine
 * events to the studio window. Returns a function that undoes all of it.
 */
export function registerIpc(host: EngineHost, getWindow: WindowGetter, hooks: ShellHooks): () => void {
  const refuse = (what: string): never => {
    throw new Error(`Refused ${what} from a page that is not the studio.`);
  };
  const trustedWindow = (event: IpcMainInvokeEvent, what: string): BrowserWindow => {
    const window = getWindow();
    if (window === null || !isTrustedSender(event, getWindow)) return refuse(what);
    return window;
  };

  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method: unknown, params: unknown) => {
    trustedWindow(event, 'an API call');
    return handleInvoke(host, method, params, hooks);
  });

  ipcMain.handle(PICK_FOLDER_CHANNEL, async (event) => {
    const window = trustedWindow(event, 'a folder request');
    const result = await dialog.showOpenDialog(window, { title: 'Add a model folder', properties: ['openDirectory'] });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });

  ipcMain.handle(SAVE_DIALOG_CHANNEL, async (event, request: unknown) => {
    const window = trustedWindow(event, 'a save dialog');
    const valid = fileDialogRequest(SAVE_DIALOG_CHANNEL, request);
    const result = await dialog.showSaveDialog(window, { ...valid, properties: ['createDirectory', 'showOverwriteConfirmation'] });
    return result.canceled || !result.filePath ? null : result.filePath;
  });

  ipcMain.handle(OPEN_DIALOG_CHANNEL, async (event, request: unknown) => {
    const window = trustedWindow(event, 'an open dialog');
    const valid = fileDialogRequest(OPEN_DIALOG_CHANNEL, request);
    const result = await dialog.showOpenDialog(window, { ...valid, properties: ['openFile'] });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });

  // One-way messages: a refused or malformed one is dropped (there is no caller to answer).
  const listen = (channel: string, accept: (event: IpcMainEvent, value: unknown) => void): void => {
    ipcMain.on(channel, (event, value: unknown) => {
      if (!isTrustedSender(event, getWindow)) return;
      try {
        accept(event, value);
      } catch {
        // invalid arguments: ignored, as from an untrusted page
      }
    });
  };
  listen(UNSAVED_CHANNEL, (_event, value) => hooks.onUnsavedChanges(unsavedFlag(UNSAVED_CHANNEL, value)));
  listen(OPEN_PATHS_CHANNEL, (_event, value) => hooks.onOpenPaths(droppedPaths(OPEN_PATHS_CHANNEL, value)));
  listen(CLOSE_AFTER_SAVE_CHANNEL, () => hooks.onCloseAfterSave());

  const stopRelay = host.onEvent((name, payload) => {
    const window = getWindow();
    if (window !== null && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, name, payload);
  });

  return () => {
    stopRelay();
    for (const channel of [IPC_INVOKE_CHANNEL, PICK_FOLDER_CHANNEL, SAVE_DIALOG_CHANNEL, OPEN_DIALOG_CHANNEL]) ipcMain.removeHandler(channel);
    for (const channel of [UNSAVED_CHANNEL, OPEN_PATHS_CHANNEL, CLOSE_AFTER_SAVE_CHANNEL]) ipcMain.removeAllListeners(channel);
  };
}
