/**
 * The sandboxed preload: exposes `window.painter` ({@link PainterBridge}) and
 * nothing else. The renderer never sees ipcRenderer: each bridge function
 * uses one fixed channel, and the main process checks the sender and the
 * arguments of every message (electron/shell/ipc.ts). Built as CommonJS (see
 * electron.vite.config.ts).
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import {
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  type ApiEventName,
  type ApiMethod,
  type ApiResponse,
  type FileDialogRequest,
  type OpenedFile,
  type PainterBridge,
  type StudioCommand,
} from '../api/contract';
import {
  CLOSE_AFTER_SAVE_CHANNEL,
  COMMAND_CHANNEL,
  OPEN_DIALOG_CHANNEL,
  OPEN_FILE_CHANNEL,
  OPEN_PATHS_CHANNEL,
  PICK_FOLDER_CHANNEL,
  SAVE_BEFORE_CLOSE_CHANNEL,
  SAVE_DIALOG_CHANNEL,
  UNSAVED_CHANNEL,
} from './ipc-channels';

/** Subscribes to a main → page channel; the renderer never receives the IpcRendererEvent (it carries `sender`). */
function subscribe<T extends unknown[]>(channel: string, listener: (...args: T) => void): () => void {
  const relay = (_event: IpcRendererEvent, ...args: unknown[]): void => listener(...(args as T));
  ipcRenderer.on(channel, relay);
  return () => {
    ipcRenderer.removeListener(channel, relay);
  };
}

const bridge: PainterBridge = {
  invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>> {
    return ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, params) as Promise<ApiResponse<unknown>>;
  },
  onEvent: (listener: (name: ApiEventName, payload: unknown) => void) => subscribe(IPC_EVENT_CHANNEL, listener),
  pickFolder: () => ipcRenderer.invoke(PICK_FOLDER_CHANNEL) as Promise<string | null>,
  onCommand: (listener: (command: StudioCommand) => void) => subscribe(COMMAND_CHANNEL, listener),
  setUnsavedChanges(unsaved: boolean): void {
    ipcRenderer.send(UNSAVED_CHANNEL, unsaved);
  },
  pathForFile(file: unknown): string | null {
    if (!(file instanceof File)) return null;
    const path = webUtils.getPathForFile(file);
    return path === '' ? null : path;
  },
  onOpenFile: (listener: (file: OpenedFile) => void) => subscribe(OPEN_FILE_CHANNEL, listener),
  openPaths(paths: string[]): void {
    ipcRenderer.send(OPEN_PATHS_CHANNEL, paths);
  },
  onSaveBeforeClose: (listener: () => void) => subscribe(SAVE_BEFORE_CLOSE_CHANNEL, listener),
  closeAfterSave(): void {
    ipcRenderer.send(CLOSE_AFTER_SAVE_CHANNEL);
  },
  showSaveDialog: (request: FileDialogRequest) => ipcRenderer.invoke(SAVE_DIALOG_CHANNEL, request) as Promise<string | null>,
  showOpenDialog: (request: FileDialogRequest) => ipcRenderer.invoke(OPEN_DIALOG_CHANNEL, request) as Promise<string | null>,
};

contextBridge.exposeInMainWorld('painter', bridge);
