/**
 * IPC channels that are Electron-only and therefore not part of the shared
 * API contract (the contract's two channels live in contract.ts). Imported by
 * both the preload and the main process; no Electron import here.
 */

/** Native folder picker: invoke() → absolute path, or null when cancelled. */
export const PICK_FOLDER_CHANNEL = 'painter:pick-folder';
