/**
 * The sandboxed preload: exposes `window.painter` ({@link PainterBridge}) and
 * nothing else. The renderer never sees ipcRenderer; every call goes through
 * the one invoke channel that the main process checks and validates
 * (electron/shell/ipc.ts). Built as CommonJS (see electron.vite.config.ts).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  type ApiEventName,
  type ApiMethod,
  type ApiResponse,
  type PainterBridge,
} from '../api/contract';
import { PICK_FOLDER_CHANNEL } from './ipc-channels';

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
};

contextBridge.exposeInMainWorld('painter', bridge);
