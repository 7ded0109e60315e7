/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { PainterBridge } from '../electron/api/contract';

declare global {
  interface Window {
    /** Present in Electron only (electron/shell/preload.ts); absent in browser mode. */
    painter?: PainterBridge;
  }
}

export {};
