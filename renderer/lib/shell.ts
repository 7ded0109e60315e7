/**
 * The desktop shell's side of the preload bridge — menu commands, files
 * opened from outside, the close prompt, native dialogs, dropped files — or
 * null in browser mode. The API contract itself goes through lib/api.ts.
 */
import type { FileDialogRequest, OpenedFile, PainterBridge, StudioCommand } from '../../electron/api/contract';

export type DesktopShell = Required<
  Pick<
    PainterBridge,
    'onCommand' | 'setUnsavedChanges' | 'pathForFile' | 'onOpenFile' | 'openPaths' | 'onSaveBeforeClose' | 'closeAfterSave' | 'showSaveDialog' | 'showOpenDialog' | 'pickFolder'
  >
>;

const REQUIRED: ReadonlyArray<keyof DesktopShell> = [
  'onCommand',
  'setUnsavedChanges',
  'pathForFile',
  'onOpenFile',
  'openPaths',
  'onSaveBeforeClose',
  'closeAfterSave',
  'showSaveDialog',
  'showOpenDialog',
  'pickFolder',
];

function desktopShell(bridge: PainterBridge | undefined): DesktopShell | null {
  if (bridge === undefined || REQUIRED.some((name) => typeof bridge[name] !== 'function')) return null;
  return bridge as DesktopShell;
}

export const shell: DesktopShell | null = typeof window === 'undefined' ? null : desktopShell(window.painter);

export const SESSION_FILTER = { name: 'Painter session', extensions: ['painter'] };
export const RUN_FILTER = { name: 'Run (safetensors)', extensions: ['safetensors'] };

export type { FileDialogRequest, OpenedFile, StudioCommand };
