/**
 * The studio's actions in one place — undo, redo, save, save as, open, new
 * session, export, add model folder, theme, shortcuts, glossary — for the
 * header, the keyboard, and the desktop shell's menus (which call
 * `runCommand` through the preload's `onCommand`). `hasUnsavedChanges()` is
 * what a close prompt asks.
 */
import { STUDIO_COMMANDS, type StudioCommand } from '../../electron/api/contract';
import { api } from './api';
import { shell } from './shell';
import { history } from './state/history.svelte';
import { models } from './state/models.svelte';
import { session } from './state/session.svelte';
import { theme } from './state/theme.svelte';
import { ui } from './state/ui.svelte';
import { run } from './state/run.svelte';

export interface CommandInfo {
  label: string;
  /** As shown in menus and the shortcuts overlay ("Ctrl+Z"; ⌘ on a Mac). */
  shortcut?: string;
  enabled: () => boolean;
  run: () => void | Promise<void>;
}

/** Work that closing, reloading or opening another session would lose. */
export function hasUnsavedChanges(): boolean {
  return session.hasUnsavedChanges;
}

/** Asks before `what` replaces unsaved work; true to go on. */
async function mayDiscard(what: string): Promise<boolean> {
  if (!hasUnsavedChanges()) return true;
  const count = session.runs.length;
  return ui.confirm(
    `${what}?`,
    `“${session.name}” has unsaved changes (${count} run${count === 1 ? '' : 's'}). They stay in Undo for now, but are lost when the studio closes unless you save.`,
    what,
  );
}

async function save(forceDialog: boolean): Promise<void> {
  if (session.runs.length === 0) return;
  if (!forceDialog && session.path !== null) {
    await session.save(session.path, session.name);
    return;
  }
  ui.saveAs = forceDialog;
  ui.open('save');
}

export const COMMANDS: Record<StudioCommand, CommandInfo> = {
  undo: { label: 'Undo', shortcut: 'Ctrl+Z', enabled: () => history.canUndo, run: () => history.undo() },
  redo: { label: 'Redo', shortcut: 'Shift+Ctrl+Z', enabled: () => history.canRedo, run: () => history.redo() },
  save: { label: 'Save', shortcut: 'Ctrl+S', enabled: () => session.runs.length > 0, run: () => save(false) },
  'save-as': { label: 'Save as…', shortcut: 'Shift+Ctrl+S', enabled: () => session.runs.length > 0, run: () => save(true) },
  open: {
    label: 'Open…',
    shortcut: 'Ctrl+O',
    enabled: () => true,
    run: () => ui.open('open'),
  },
  'new-session': {
    label: 'New session',
    enabled: () => session.runs.length > 0,
    run: async () => {
      if (await mayDiscard('New session')) session.clear();
    },
  },
  export: { label: 'Export…', shortcut: 'Ctrl+E', enabled: () => run.summary !== null, run: () => ui.open('export') },
  'add-model-folder': {
    label: 'Add model folder…',
    enabled: () => true,
    run: async () => {
      const pick = api.pickFolder;
      if (pick === null) {
        ui.open('add-model');
        return;
      }
      const folder = await pick();
      if (folder !== null) await models.addFolder(folder);
    },
  },
  'toggle-theme': { label: 'Dark / light theme', enabled: () => true, run: () => theme.toggle() },
  shortcuts: { label: 'Keyboard shortcuts', shortcut: '?', enabled: () => true, run: () => ui.open('shortcuts') },
  glossary: { label: 'Glossary', shortcut: 'F1', enabled: () => true, run: () => ui.open('glossary') },
};

/** Runs a command if it is enabled now; unknown names (from an older or newer shell) are ignored. */
export async function runCommand(name: StudioCommand | string): Promise<void> {
  if (!(STUDIO_COMMANDS as readonly string[]).includes(name)) return;
  const command = COMMANDS[name as StudioCommand];
  if (command.enabled()) await command.run();
}

/** Opening a session replaces the one on screen: asks first when that would lose work. */
export async function openSessionAt(path: string): Promise<boolean> {
  if (!(await mayDiscard('Open another session'))) return false;
  return session.open(path);
}

export { mayDiscard };

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest('input:not([type="range"]):not([type="checkbox"]):not([type="radio"]), textarea, select') !== null);
}

/**
 * The studio's keyboard shortcuts; returns true when the key was one (the
 * caller then prevents the browser's own meaning, e.g. Ctrl+S saving the page).
 * Undo/redo inside a text field stay the field's own.
 */
export function shortcutFor(event: KeyboardEvent): StudioCommand | null {
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && !event.altKey) {
    if (key === 'z' && !typing(event.target)) return event.shiftKey ? 'redo' : 'undo';
    if (key === 'y' && !event.shiftKey && !typing(event.target)) return 'redo';
    if (key === 's') return event.shiftKey ? 'save-as' : 'save';
    if (key === 'o' && !event.shiftKey) return 'open';
    if (key === 'e' && !event.shiftKey) return 'export';
    return null;
  }
  if (event.altKey || mod || typing(event.target)) return null;
  if (event.key === '?') return 'shortcuts';
  if (event.key === 'F1') return 'glossary';
  return null;
}

/**
 * Wires the studio to its surroundings: keyboard shortcuts, the browser's
 * leave-page prompt while work is unsaved, and (in Electron) the shell's menu
 * commands and close prompt. Returns the teardown.
 */
export function connectCommands(): () => void {
  const onKeydown = (event: KeyboardEvent): void => {
    if (event.defaultPrevented || document.querySelector('dialog[open]') !== null) return;
    const command = shortcutFor(event);
    if (command === null) return;
    // In the desktop app the menu's accelerators run these (DesktopShell.svelte): never twice.
    if (shell !== null && command !== 'shortcuts' && command !== 'glossary') return;
    event.preventDefault();
    void runCommand(command);
  };
  const onBeforeUnload = (event: BeforeUnloadEvent): void => {
    if (!hasUnsavedChanges()) return;
    event.preventDefault();
    // Chromium (and older browsers) prompt only when returnValue is set to something non-empty.
    event.returnValue = 'You have unsaved runs.';
  };
  window.addEventListener('keydown', onKeydown);
  window.addEventListener('beforeunload', onBeforeUnload);
  // The desktop shell's menu commands arrive through DesktopShell.svelte (lib/desktop.svelte.ts), which uses these actions.
  window.painterStudio = { runCommand, hasUnsavedChanges };
  return () => {
    delete window.painterStudio;
    window.removeEventListener('keydown', onKeydown);
    window.removeEventListener('beforeunload', onBeforeUnload);
  };
}
