/**
 * The main-process end of the API contract over IPC. Every call is checked
 * twice before it reaches the engine: the sender must be the studio window's
 * own page (STYLE.md: every main-side listener checks its sender), and the
 * arguments must pass validateParams. Whatever goes wrong comes back as
 * {ok:false, error} with a stable code, never as a thrown stack.
 */
import { dialog, ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import {
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  type ApiMethod,
  type ApiParams,
  type ApiResponse,
} from '../api/contract';
import { toErrorPayload } from '../engine/errors';
import type { EngineHost } from '../host/engine-host';
import { PICK_FOLDER_CHANNEL } from './ipc-channels';
import { isApiMethod, validateParams } from '../api/validate';
import { isStudioUrl } from './window';

/** The studio window, or null while none is open. */
export type WindowGetter = () => BrowserWindow | null;

function isTrustedSender(event: IpcMainInvokeEvent, getWindow: WindowGetter): boolean {
  const window = getWindow();
  if (window === null || window.isDestroyed()) return false;
  const frame = event.senderFrame;
  return (
    event.sender === window.webContents &&
    frame !== null &&
    frame === window.webContents.mainFrame &&
    isStudioUrl(frame.url)
  );
}

async function handleInvoke(host: EngineHost, method: unknown, params: unknown): Promise<ApiResponse<unknown>> {
  if (typeof method !== 'string' || !isApiMethod(method)) {
    return {
      ok: false,
      error: { code: 'BAD_ARGUMENT', message: `Unknown API method ${JSON.stringify(method)}.`, details: { method } },
    };
  }
  try {
    const valid = validateParams(method, params) as ApiParams<ApiMethod>;
    return await host.call(method, valid);
  } catch (error) {
    return { ok: false, error: toErrorPayload(error) };
  }
}

/**
 * Wires the IPC channels to the engine and relays engine events to the
 * studio window. Returns a function that undoes all of it.
 */
export function registerIpc(host: EngineHost, getWindow: WindowGetter): () => void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, method: unknown, params: unknown) => {
    if (!isTrustedSender(event, getWindow)) throw new Error('Refused an API call from a page that is not the studio.');
    return handleInvoke(host, method, params);
  });

  ipcMain.handle(PICK_FOLDER_CHANNEL, async (event) => {
    const window = getWindow();
    if (window === null || !isTrustedSender(event, getWindow)) {
      throw new Error('Refused a folder request from a page that is not the studio.');
    }
    const result = await dialog.showOpenDialog(window, {
      title: 'Add a model folder',
      properties: ['openDirectory'],
    });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });

  const stopRelay = host.onEvent((name, payload) => {
    const window = getWindow();
    if (window !== null && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, name, payload);
  });

  return () => {
    stopRelay();
    ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    ipcMain.removeHandler(PICK_FOLDER_CHANNEL);
  };
}
