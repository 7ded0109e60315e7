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
/** Main → studio: a StudioCommand from the menu. */
export const COMMAND_CHANNEL = 'painter:command';
/** Main → studio: an OpenedFile (menu, Open Recent, double-click, command line, drop). */
export const OPEN_FILE_CHANNEL = 'painter:open-file';
/** Main → studio: the close prompt's "Save…". */
export const SAVE_BEFORE_CLOSE_CHANNEL = 'painter:save-before-close';
/** Studio → main: send(boolean) whenever whether closing would lose work changes. */
export const UNSAVED_CHANNEL = 'painter:unsaved';
/** Studio → main: send(paths) for files and folders dropped on the window. */
export const OPEN_PATHS_CHANNEL = 'painter:open-paths';
/** Studio → main: send() once the save asked for by "save before close" succeeded. */
export const CLOSE_AFTER_SAVE_CHANNEL = 'painter:close-after-save';
