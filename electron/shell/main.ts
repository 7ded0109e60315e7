/**
 * Electron entry: app lifecycle only. The engine runs in a utility process
 * under EngineHost's watchdog (engine-process.ts). The window, its commands
 * and its close prompt live in studio.ts, its security rules in window.ts,
 * the app:// protocol in protocol.ts, IPC in ipc.ts, the menu in menu.ts.
 */
import { join, resolve } from 'node:path';
import { app, dialog, Menu, session, shell } from 'electron';
import type { RecentSession } from '../api/contract';
import { EngineHost } from '../host/engine-host';
import { pathsFromArgv, RUN_EXTENSION, SESSION_EXTENSION } from './documents';
import { utilityEngineLauncher } from './engine-process';
import { registerIpc } from './ipc';
import { menuTemplate } from './menu';
import { registerAppScheme, serveApp } from './protocol';
import { Studio } from './studio';
import { hardenApp } from './window';

/** Bundled models: beside the app root in development, in resources/ when packaged. */
function nativeModelsDir(): string {
  return app.isPackaged ? join(process.resourcesPath, 'native-models') : join(app.getAppPath(), 'native-models');
}

// Before ready: app:// must be privileged at startup, and every renderer is sandboxed whatever a window's own options say.
registerAppScheme();
app.enableSandbox();
// PAINTER_HOME moves settings, autosaved runs and window state, as for the CLI (and the single-instance lock with them).
const painterHome = process.env['PAINTER_HOME'];
if (painterHome !== undefined && painterHome.trim() !== '') app.setPath('userData', resolve(painterHome));

if (!app.requestSingleInstanceLock()) {
  // Another Painter is running: it receives our command line in 'second-instance' and opens the files there.
  app.quit();
} else {
  const studio = new Studio(app.getPath('userData'));
  let host: EngineHost | null = null;
  let unregisterIpc: (() => void) | null = null;
  let recent: RecentSession[] = [];
  // Files named on the command line, or opened through the OS (macOS 'open-file') before the window exists.
  const pending: string[] = pathsFromArgv(process.argv, process.cwd());

  const openPaths = (paths: readonly string[]): void => {
    if (!app.isReady()) {
      pending.push(...paths);
      return;
    }
    studio.open();
    studio.focus();
    studio.openPaths(paths);
  };

  const refreshMenu = async (): Promise<void> => {
    if (host !== null) {
      const response = await host.call('recentSessions', {});
      if (response.ok) recent = response.value;
    }
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate({
          platform: process.platform,
          appName: app.getName(),
          packaged: app.isPackaged,
          recent,
          send: (command) => studio.send(command),
          openFile: () => void chooseFile(),
          openRecent: (path) => openPaths([path]),
          openDataFolder: () => void shell.openPath(app.getPath('userData')),
          showAbout: () => app.showAboutPanel(),
        }),
      ),
    );
  };

  const chooseFile = async (): Promise<void> => {
    const window = studio.current;
    const options: Electron.OpenDialogOptions = {
      title: 'Open a session or a run',
      properties: ['openFile'],
      filters: [
        { name: 'Painter sessions and runs', extensions: [SESSION_EXTENSION.slice(1), RUN_EXTENSION.slice(1)] },
        { name: 'Painter sessions', extensions: [SESSION_EXTENSION.slice(1)] },
        { name: 'Runs (safetensors)', extensions: [RUN_EXTENSION.slice(1)] },
      ],
    };
    const result = window !== null ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    if (!result.canceled) openPaths(result.filePaths);
  };

  app.on('second-instance', (_event, argv, workingDirectory) => {
    studio.open();
    studio.focus();
    studio.openPaths(pathsFromArgv(argv, workingDirectory));
  });

  // macOS: a double-clicked .painter (or one dropped on the Dock icon), possibly before ready.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    openPaths([path]);
  });

  app.on('before-quit', () => {
    studio.quitting = true;
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (app.isReady()) studio.open();
  });

  app.on('will-quit', () => {
    unregisterIpc?.();
    void host?.dispose();
  });

  void app.whenReady().then(() => {
    hardenApp();
    serveApp(session.defaultSession, join(import.meta.dirname, '../renderer'));
    app.setAboutPanelOptions({
      applicationName: 'Painter',
      applicationVersion: app.getVersion(),
      copyright: 'MIT licence',
      credits: 'Diffusion models paint outline first, details later (Wang & Vastola, arXiv 2303.02490).',
    });
    // Packaged, the worker is unpacked from the asar (electron-builder.yml) so Node can start it.
    const workerPath = join(import.meta.dirname, 'engine-worker.js').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
    host = new EngineHost({
      launcher: utilityEngineLauncher(workerPath),
      engine: { nativeModelsDir: nativeModelsDir(), userDataDir: app.getPath('userData') },
    });
    unregisterIpc = registerIpc(host, () => studio.current, {
      onSessionFile: (path) => {
        app.addRecentDocument(path);
        void refreshMenu();
      },
      onUnsavedChanges: (unsaved) => studio.setUnsaved(unsaved),
      onOpenPaths: (paths) => studio.openPaths(paths),
      onCloseAfterSave: () => studio.closeAfterSave(),
    });
    void refreshMenu();
    studio.open();
    if (pending.length > 0) studio.openPaths(pending.splice(0));
  });
}
