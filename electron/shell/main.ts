/**
 * Electron entry: app lifecycle only. The engine runs in a utility process
 * under EngineHost's watchdog (engine-process.ts); IPC wiring lives in ipc.ts,
 * the window and its security rules in window.ts.
 */
import { join } from 'node:path';
import { app, BrowserWindow } from 'electron';
import { EngineHost } from '../host/engine-host';
import { utilityEngineLauncher } from './engine-process';
import { registerIpc } from './ipc';
import { createStudioWindow, hardenApp } from './window';

/** Bundled models: beside the app root in development, in resources/ when packaged. */
function nativeModelsDir(): string {
  return app.isPackaged
    ? join(process.resourcesPath, 'native-models')
    : join(app.getAppPath(), 'native-models');
}

// Every renderer is sandboxed, whatever a window's own options say.
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let studio: BrowserWindow | null = null;
  let host: EngineHost | null = null;
  let unregisterIpc: (() => void) | null = null;

  const openStudio = (): void => {
    studio = createStudioWindow();
    studio.on('closed', () => {
      studio = null;
    });
  };

  app.on('second-instance', () => {
    if (studio === null) return;
    if (studio.isMinimized()) studio.restore();
    studio.focus();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (app.isReady() && BrowserWindow.getAllWindows().length === 0) openStudio();
  });

  app.on('will-quit', () => {
    unregisterIpc?.();
    void host?.dispose();
  });

  void app.whenReady().then(() => {
    hardenApp();
    // Packaged, the worker is unpacked from the asar (electron-builder.yml) so Node can start it.
    const workerPath = join(import.meta.dirname, 'engine-worker.js').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
    host = new EngineHost({
      launcher: utilityEngineLauncher(workerPath),
      engine: { nativeModelsDir: nativeModelsDir(), userDataDir: app.getPath('userData') },
    });
    unregisterIpc = registerIpc(host, () => studio);
    openStudio();
  });
}
