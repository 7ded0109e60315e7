/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { PainterBridge, StudioCommand } from '../electron/api/contract';

declare global {
  interface Window {
    /** Present in Electron only (electron/shell/preload.ts); absent in browser mode. */
    painter?: PainterBridge;
    /**
     * The studio's commands for a shell that drives the page from outside
     * (e.g. Electron's webContents.executeJavaScript, or a test):
     * renderer/lib/commands.ts.
     */
    painterStudio?: {
      runCommand(command: StudioCommand): Promise<void>;
      hasUnsavedChanges(): boolean;
    };
  }
}

export {};
