/**
 * The application menu, as a template built from plain data (so tests read it
 * without Electron). Items that need the studio's state send it a
 * {@link StudioCommand} over the preload bridge; items that need a native
 * dialog or the OS first (Open…, Open Recent, the data folder, About) call
 * back into main.ts.
 *
 * Platform conventions: macOS gets the app menu (About, Hide, Quit) and
 * Window menu; Windows and Linux get Quit under File and About under Help.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { RecentSession, StudioCommand } from '../api/contract';

export interface MenuContext {
  platform: NodeJS.Platform;
  appName: string;
  /** DevTools only in development. */
  packaged: boolean;
  recent: readonly RecentSession[];
  send(command: StudioCommand): void;
  /** Native open dialog, then open what was chosen. */
  openFile(): void;
  openRecent(path: string): void;
  openDataFolder(): void;
  showAbout(): void;
}

const command = (context: MenuContext, name: StudioCommand) => (): void => context.send(name);

export function menuTemplate(context: MenuContext): MenuItemConstructorOptions[] {
  const mac = context.platform === 'darwin';
  const recent: MenuItemConstructorOptions[] =
    context.recent.length === 0
      ? [{ label: 'No recent sessions', enabled: false }]
      : context.recent.map((entry): MenuItemConstructorOptions => ({ label: entry.name, sublabel: entry.path, toolTip: entry.path, click: () => context.openRecent(entry.path) }));

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'New Session', accelerator: 'CmdOrCtrl+N', click: command(context, 'new-session') },
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => context.openFile() },
      { label: 'Open Recent', submenu: recent },
      { type: 'separator' },
      { label: 'Save', accelerator: 'CmdOrCtrl+S', click: command(context, 'save') },
      { label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S', click: command(context, 'save-as') },
      { type: 'separator' },
      { label: 'Add Model Folder…', click: command(context, 'add-model-folder') },
      { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: command(context, 'export') },
      ...(mac ? [] : ([{ type: 'separator' }, { role: 'quit' }] as MenuItemConstructorOptions[])),
    ],
  };

  // Undo/Redo go to the studio, which undoes in the focused text field or else its own history. Cut/copy/paste stay native.
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      { label: 'Undo', accelerator: 'CmdOrCtrl+Z', click: command(context, 'undo') },
      { label: 'Redo', accelerator: mac ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y', click: command(context, 'redo') },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };

  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { role: 'resetZoom' },
      { type: 'separator' },
      { label: 'Toggle Light/Dark Theme', accelerator: 'CmdOrCtrl+Shift+L', click: command(context, 'toggle-theme') },
      { role: 'togglefullscreen' },
      ...(context.packaged ? [] : ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as MenuItemConstructorOptions[])),
    ],
  };

  const help: MenuItemConstructorOptions = {
    role: 'help',
    label: '&Help',
    submenu: [
      { label: 'Keyboard Shortcuts', accelerator: 'CmdOrCtrl+/', click: command(context, 'shortcuts') },
      { label: 'Open Data Folder', click: () => context.openDataFolder() },
      ...(mac ? [] : ([{ type: 'separator' }, { label: `About ${context.appName}`, click: () => context.showAbout() }] as MenuItemConstructorOptions[])),
    ],
  };

  if (!mac) return [file, edit, view, help];
  const appMenu: MenuItemConstructorOptions = {
    label: context.appName,
    submenu: [
      { label: `About ${context.appName}`, click: () => context.showAbout() },
      { type: 'separator' },
      { role: 'services' },
      { type: 'separator' },
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      { type: 'separator' },
      { role: 'quit' },
    ],
  };
  return [appMenu, file, edit, view, { role: 'windowMenu' }, help];
}
