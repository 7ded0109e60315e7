/**
 * What the studio does for the desktop shell: each menu command mapped to the
 * studio's action, files opened from outside (menu, Open Recent,
 * double-click, command line, a drop), and the close prompt's "Save…".
 * Paths are asked with native dialogs. Browser mode never calls any of this.
 */
import { api } from './api';
import { shell, RUN_FILTER, SESSION_FILTER, type OpenedFile, type StudioCommand } from './shell';
import { models } from './state/models.svelte';
import { notices } from './state/notices.svelte';
import { session, SESSION_EXTENSION } from './state/session.svelte';
import { theme } from './state/theme.svelte';
import { history } from './state/history.svelte';
import { ui } from './state/ui.svelte';

function slug(text: string): string {
  return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'session';
}

function joinPath(folder: string, file: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith(separator) ? folder + file : folder + separator + file;
}

function fileStem(path: string): string {
  const name = path.split(/[\\/]/).pop() ?? path;
  return name.toLowerCase().endsWith(SESSION_EXTENSION) ? name.slice(0, -SESSION_EXTENSION.length) : name;
}

/** Asks before replacing unsaved work; true to go on. */
function mayDiscard(what: string): boolean {
  return !session.dirty || window.confirm(`${what}? “${session.name}” has unsaved changes that will not be in any session file (its runs stay autosaved).`);
}

async function saveAs(): Promise<boolean> {
  if (shell === null || session.runs.length === 0) return false;
  const paths = await session.loadPaths();
  const suggested = session.path ?? (paths !== null ? joinPath(paths.sessionsDir, `${slug(session.name)}${SESSION_EXTENSION}`) : undefined);
  const path = await shell.showSaveDialog({ title: 'Save session', ...(suggested !== undefined ? { defaultPath: suggested } : {}), filters: [SESSION_FILTER] });
  if (path === null) return false;
  const target = path.toLowerCase().endsWith(SESSION_EXTENSION) ? path : `${path}${SESSION_EXTENSION}`;
  const name = session.path === null && session.name === 'Untitled session' ? fileStem(target) : session.name;
  return session.save(target, name);
}

async function save(): Promise<boolean> {
  if (session.runs.length === 0) return true; // nothing a session file would hold
  if (session.path !== null) return session.save(session.path, session.name);
  return saveAs();
}

/** A focused text field undoes its own typing; anything else is the studio's. */
function editingText(): boolean {
  const focused = document.activeElement;
  return focused instanceof HTMLElement && (focused.isContentEditable || focused.closest('input:not([type="range"]):not([type="checkbox"]):not([type="radio"]), textarea') !== null);
}

export async function openFile({ path, kind }: OpenedFile): Promise<void> {
  if (kind === 'model-folder') {
    await models.addFolder(path);
  } else if (kind === 'run') {
    try {
      await session.add(await api.call('openRun', { path }));
    } catch (error) {
      notices.report(error);
    }
  } else if (mayDiscard('Open another session')) {
    await session.open(path);
  }
}

export async function runShellCommand(command: StudioCommand): Promise<void> {
  switch (command) {
    case 'undo':
    case 'redo':
      // A focused text field undoes its own typing; otherwise the studio's history (lib/undo.ts).
      if (editingText()) document.execCommand(command);
      else await (command === 'undo' ? history.undo() : history.redo());
      return;
    case 'save':
      await save();
      return;
    case 'save-as':
      await saveAs();
      return;
    case 'open': {
      const path = await shell?.showOpenDialog({ title: 'Open a session or a run', filters: [SESSION_FILTER, RUN_FILTER] });
      if (path) shell?.openPaths([path]);
      return;
    }
    case 'new-session':
      // Undoable: Ctrl+Z brings the runs back.
      if (mayDiscard('Start a new session')) session.clear();
      return;
    case 'export':
      ui.open('export');
      return;
    case 'add-model-folder': {
      const folder = await shell?.pickFolder();
      if (folder) await models.addFolder(folder);
      return;
    }
    case 'toggle-theme':
      theme.toggle();
      return;
    case 'shortcuts':
    case 'glossary':
      ui.open(command);
      return;
  }
}

/** Wires the shell's messages to the studio; returns the function that unwires them (null in browser mode). */
export function connectDesktopShell(): (() => void) | null {
  if (shell === null) return null;
  const stops = [
    shell.onCommand((command) => void runShellCommand(command)),
    shell.onOpenFile((file) => void openFile(file)),
    shell.onSaveBeforeClose(() => {
      void save().then((saved) => {
        if (saved) shell?.closeAfterSave();
      });
    }),
  ];
  return () => stops.forEach((stop) => stop());
}
