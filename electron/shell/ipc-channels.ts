/**
 * IPC channels that are Electron-only and therefore not part of the shared
 * API contract (the contract's two channels live in contract.ts). Imported by
 * both the preload and the main process; no Electron import here.
 */

/** Native folder picker: invoke() → absolute path, or null when cancelled. */
export const PICK_FOLDER_CHANNEL = 'painter:pick-folder';
/** Native save dialog: invoke(FileDialogRequest) → absolute path, or null. */
export const SAVE_DIALOG_CHANNEL = 'painter:save-dialog';
/** Native open dialog (one file): invoke(FileDialogRequest) → absolute path, or null. */
export const OPEN_DIALOG_CHANNEL = 'painter:open-dialog';
/** Main → studio: a {@link ShellCommand} (menus, files opened from outside, closing). */
export const COMMAND_CHANNEL = 'painter:command';
/** Studio → main: send(DocumentState) whenever the session's name, file or unsaved state changes. */
export const DOCUMENT_STATE_CHANNEL = 'painter:document-state';
/** Studio → main: send(paths) for files and folders dropped on the window. */
export const OPEN_PATHS_CHANNEL = 'painter:open-paths';
/** Studio → main: send() once the save asked for by `save-before-close` succeeded. */
export const CLOSE_AFTER_SAVE_CHANNEL = 'painter:close-after-save';
