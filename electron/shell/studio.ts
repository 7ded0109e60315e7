/**
 * The studio window as the shell manages it: created with the bounds it had
 * last time, asking before it closes on unsaved changes, and the one place
 * menu commands and opened files reach the page (queued until the page has
 * loaded). The page's <title> is the window's title.
 */
import { app, dialog, screen, type BrowserWindow } from 'electron';
import type { OpenedFile, StudioCommand } from '../api/contract';
import { cannotOpenMessage, classifyPath } from './documents';
import { COMMAND_CHANNEL, OPEN_FILE_CHANNEL, SAVE_BEFORE_CLOSE_CHANNEL } from './ipc-channels';
import { createStudioWindow } from './window';

/** A message for the page: its channel and arguments. */
type PageMessage = [channel: string, ...args: unknown[]];
import { readWindowState, restorableBounds, writeWindowState } from './window-state';

export class Studio {
  private window: BrowserWindow | null = null;
  private loaded = false;
  private queued: PageMessage[] = [];
  private unsaved = false;
  /** Set once the user chose to close without saving (or the save finished): the next close goes through. */
  private closing = false;
  /** Set by app 'before-quit': a close confirmed during a quit continues the quit (macOS keeps running otherwise). */
  quitting = false;

  constructor(private readonly userDataDir: string) {}

  get current(): BrowserWindow | null {
    return this.window !== null && !this.window.isDestroyed() ? this.window : null;
  }

  open(): void {
    if (this.current !== null) return;
    const saved = readWindowState(this.userDataDir);
    const bounds = restorableBounds(saved?.bounds ?? null, screen.getAllDisplays().map((display) => display.workArea));
    const window = createStudioWindow({ bounds });
    if (bounds !== null && saved?.maximized) window.maximize();
    if (bounds !== null && saved?.fullScreen) window.setFullScreen(true);
    this.window = window;
    this.loaded = false;
    this.closing = false;
    window.webContents.on('did-finish-load', () => {
      this.loaded = true;
      const queued = this.queued;
      this.queued = [];
      for (const message of queued) this.post(...message);
    });
    window.on('close', (event) => {
      if (this.unsaved && !this.closing) {
        event.preventDefault();
        void this.confirmClose(window);
        return;
      }
      this.rememberBounds(window);
    });
    window.on('closed', () => {
      this.window = null;
      this.unsaved = false;
    });
  }

  focus(): void {
    const window = this.current;
    if (window === null) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  }

  /** Sends a menu command to the page now, or once it has loaded. */
  send(command: StudioCommand): void {
    this.post(COMMAND_CHANNEL, command);
  }

  /** Hands the page a file or folder to open. */
  openFile(file: OpenedFile): void {
    this.post(OPEN_FILE_CHANNEL, file);
  }

  /** Opens files and folders from outside: each one the studio knows is handed to the page; anything else gets a warning. */
  openPaths(paths: readonly string[]): void {
    for (const path of paths) {
      const kind = classifyPath(path);
      if (kind === null) {
        void this.warn(cannotOpenMessage(path));
        continue;
      }
      if (kind === 'session') app.addRecentDocument(path);
      this.openFile({ path, kind });
    }
  }

  /** Whether closing would lose work, as the page says (macOS also marks the close button). */
  setUnsaved(unsaved: boolean): void {
    this.unsaved = unsaved;
    const window = this.current;
    if (window !== null && process.platform === 'darwin') window.setDocumentEdited(unsaved);
  }

  private post(...message: PageMessage): void {
    const window = this.current;
    if (window === null || !this.loaded) {
      this.queued.push(message);
      return;
    }
    window.webContents.send(...message);
  }

  /** The studio saved after `save-before-close`: close for real. */
  closeAfterSave(): void {
    this.closeNow();
  }

  private closeNow(): void {
    this.closing = true;
    this.current?.close();
    if (this.quitting) app.quit();
  }

  private async confirmClose(window: BrowserWindow): Promise<void> {
    const { response } = await dialog.showMessageBox(window, {
      type: 'warning',
      buttons: ['Save…', 'Don’t Save', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
      noLink: true,
      message: 'Save the session before closing?',
      detail: 'Every run is autosaved, but the session — which runs belong together, their branches and the step on screen — is not saved yet.',
    });
    if (response === 0) this.post(SAVE_BEFORE_CLOSE_CHANNEL);
    else if (response === 1) this.closeNow();
    else this.quitting = false;
  }

  private rememberBounds(window: BrowserWindow): void {
    try {
      writeWindowState(this.userDataDir, { bounds: window.getNormalBounds(), maximized: window.isMaximized(), fullScreen: window.isFullScreen() });
    } catch {
      // Not being able to remember the window's place must not stop it closing.
    }
  }

  private async warn(message: string): Promise<void> {
    const window = this.current;
    const options = { type: 'warning' as const, message: 'Cannot open this', detail: message };
    await (window !== null ? dialog.showMessageBox(window, options) : dialog.showMessageBox(options));
  }
}
