/**
 * One build for the three Electron targets (STYLE.md: electron-vite template):
 * - main:     electron/shell/main.ts and the engine's worker thread, ESM (package.json
 *             "type": "module"), next to each other in out/main/ because the
 *             main process starts the worker by path;
 * - preload:  electron/shell/preload.ts as a single CommonJS file, because a
 *             sandboxed preload cannot load ES modules nor require anything
 *             but 'electron' (so nothing in it may stay external);
 * - renderer: the Svelte studio from renderer/index.html into out/renderer/,
 *             which the browser-mode server serves as well.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const projectRoot = dirname(fileURLToPath(import.meta.url));
const fromRoot = (path: string): string => resolve(projectRoot, path);

export default defineConfig({
  main: {
    build: {
      outDir: fromRoot('out/main'),
      // Native and optional-native packages load from node_modules at run time;
      // pure-JS dependencies are bundled, because the engine worker runs
      // unpacked from the asar and cannot import a package packed inside it.
      externalizeDeps: { include: ['onnxruntime-node', 'ws'], exclude: ['@huggingface/tokenizers'] },
      rolldownOptions: {
        input: {
          main: fromRoot('electron/shell/main.ts'),
          'engine-worker': fromRoot('electron/host/engine-worker.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: fromRoot('out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { preload: fromRoot('electron/shell/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: fromRoot('renderer'),
    plugins: [svelte({ configFile: fromRoot('svelte.config.js') })],
    build: {
      outDir: fromRoot('out/renderer'),
      rolldownOptions: { input: fromRoot('renderer/index.html') },
    },
  },
});
