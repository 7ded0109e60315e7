// A real engine behind a preload-shaped bridge, for renderer tests that run in
// Node: invoke() goes to an EngineHost (the engine worker built by
// `npm run build:cli`) on the test fixtures. JavaScript so the renderer's
// DOM-only tsconfig needs no Node types (see engine-bridge.d.mts).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineHost } from '../../electron/host/engine-host';
import { nodeEngineLauncher } from '../../electron/host/node-launcher';

const ROOT = join(import.meta.dirname, '..', '..');

export function engineBridge() {
  const folder = mkdtempSync(join(tmpdir(), 'painter-renderer-'));
  const host = new EngineHost({
    launcher: nodeEngineLauncher(join(ROOT, 'out', 'cli', 'engine-worker.cjs')),
    engine: { nativeModelsDir: join(ROOT, 'tests', 'fixtures'), userDataDir: join(folder, 'user-data'), provider: 'cpu' },
  });
  return {
    folder,
    fixtures: join(ROOT, 'tests', 'fixtures'),
    invoke: (method, params) => host.call(method, params),
    onEvent: (listener) => host.onEvent(listener),
    dispose: () => host.dispose(),
  };
}

export function fileExists(path) {
  return existsSync(path);
}
