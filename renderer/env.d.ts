/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { PainterBridge } from '../electron/contract';

declare global {
  interface Window {
    /** Present in Electron only (electron/preload.ts); absent in browser mode. */
    painter?: PainterBridge;
  }
}

export {};
