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
  type DocumentState,
  type FileDialogRequest,
  type PainterBridge,
  type ShellCommand,
} from '../api/contract';
import {
  CLOSE_AFTER_SAVE_CHANNEL,
  COMMAND_CHANNEL,
  DOCUMENT_STATE_CHANNEL,
  OPEN_DIALOG_CHANNEL,
  OPEN_PATHS_CHANNEL,
  PICK_FOLDER_CHANNEL,
  SAVE_DIALOG_CHANNEL,
} from './ipc-channels';

const bridge: PainterBridge = {
  invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>> {
    return ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, params) as Promise<ApiResponse<unknown>>;
  },

  onEvent(listener: (name: ApiEventName, payload: unknown) => void): () => void {
    // Wrap so the renderer never receives the IpcRendererEvent (it carries `sender`).
    const relay = (_event: IpcRendererEvent, name: ApiEventName, payload: unknown): void => listener(name, payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, relay);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, relay);
    };
  },

  pickFolder(): Promise<string | null> {
    return ipcRenderer.invoke(PICK_FOLDER_CHANNEL) as Promise<string | null>;
  },

  showSaveDialog(request: FileDialogRequest): Promise<string | null> {
    return ipcRenderer.invoke(SAVE_DIALOG_CHANNEL, request) as Promise<string | null>;
  },

  showOpenDialog(request: FileDialogRequest): Promise<string | null> {
    return ipcRenderer.invoke(OPEN_DIALOG_CHANNEL, request) as Promise<string | null>;
  },

  onCommand(listener: (command: ShellCommand) => void): () => void {
    const relay = (_event: IpcRendererEvent, command: ShellCommand): void => listener(command);
    ipcRenderer.on(COMMAND_CHANNEL, relay);
    return () => {
      ipcRenderer.removeListener(COMMAND_CHANNEL, relay);
    };
  },

  setDocumentState(state: DocumentState): void {
    ipcRenderer.send(DOCUMENT_STATE_CHANNEL, state);
  },

  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },

  openPaths(paths: string[]): void {
    ipcRenderer.send(OPEN_PATHS_CHANNEL, paths);
  },

  closeAfterSave(): void {
    ipcRenderer.send(CLOSE_AFTER_SAVE_CHANNEL);
  },
};

contextBridge.exposeInMainWorld('painter', bridge);
