/**
 * The packaged app's layout, checked here without an Electron binary:
 * electron-builder's `--dir` target (the unpacked app every Linux installer
 * wraps) built from this checkout against a stand-in Electron distribution,
 * then the app folder, the asar listing and header, the fuses, and — with
 * plain Node — the engine worker and the ONNX Runtime binding loaded from
 * app.asar.unpacked, exactly the files the packaged app would load.
 *
 * Linux x64 only (the stand-in is a Linux Electron folder). Needs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { getRawHeader, listPackage, statFile } from '@electron/asar';
import { getCurrentFuseWire } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../electron/host/engine-host';
import { nodeEngineLauncher } from '../../electron/host/node-launcher';
import { makeStandInElectron } from './stand-in';

const ROOT = join(__dirname, '..', '..');
const runnable = process.platform === 'linux' && process.arch === 'x64';
if (!runnable) console.log(`tests/packaging/layout.test.ts skipped: the stand-in Electron is a Linux x64 folder; this is ${process.platform}-${process.arch}.`);

const work = mkdtempSync(join(tmpdir(), 'painter-package-'));
const app = join(work, 'dist', 'linux-unpacked');
const resources = join(app, 'resources');
const asar = join(resources, 'app.asar');
const unpacked = join(resources, 'app.asar.unpacked');

function folderBytes(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

describe.runIf(runnable)('packaged app (electron-builder --dir, stand-in Electron)', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'out', 'main', 'main.js'))) throw new Error('out/main/main.js is missing: run `npm run build` first.');
    const electronVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf-8')) as { version: string }).version;
    const standIn = makeStandInElectron(join(work, 'electron-dist'), electronVersion);
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'electron-builder', 'cli.js'), '--dir', '--linux', '--x64', `-c.electronDist=${standIn}`, `-c.directories.output=${join(work, 'dist')}`],
      { cwd: ROOT, encoding: 'utf-8', env: { ...process.env, ELECTRON_BUILDER_OFFLINE: 'true' }, timeout: 300_000 },
    );
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  }, 300_000);

  it('has the executable, the asar, its unpacked side and the bundled models, and no stray files', () => {
    expect(statSync(join(app, 'painter')).mode & 0o111).not.toBe(0);
    expect(readdirSync(resources).sort()).toEqual(['app.asar', 'app.asar.unpacked', 'native-models']);
  });

  it('packs the built app into the asar, and leaves out the CLI, sources, maps, tests and other platforms', () => {
    const files = listPackage(asar, { isPack: false });
    for (const path of ['/package.json', '/out/main/main.js', '/out/preload/preload.cjs', '/out/renderer/index.html']) expect(files).toContain(path);
    expect(files.some((path) => path.startsWith('/out/renderer/assets/') && path.endsWith('.js'))).toBe(true);
    const stray = files.filter(
      (path) =>
        /^\/(out\/cli|out\/gpu-bundle|electron|renderer|tests|bench|native-models|build|scripts|docs)(\/|$)/.test(path) ||
        path.endsWith('.map') ||
        path.startsWith('/node_modules/onnxruntime-node/script') ||
        /\/bin\/napi-v6\/(darwin|win32|linux\/arm64)/.test(path) ||
        /^\/node_modules\/(electron|vitest|svelte|three|playwright-core|electron-builder)\//.test(path),
    );
    expect(stray).toEqual([]);
    // The preload is sandboxed: it may require nothing but 'electron'.
    const preload = readFileSync(join(ROOT, 'out', 'preload', 'preload.cjs'), 'utf-8');
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1])).toEqual(['electron']);
  });

  it('unpacks the ONNX Runtime binding and its shared library, the engine worker, its chunks and package.json', () => {
    const native = ['onnxruntime_binding.node', 'libonnxruntime.so.1'].map((name) => `node_modules/onnxruntime-node/bin/napi-v6/linux/x64/${name}`);
    for (const path of [...native, 'node_modules/onnxruntime-node/package.json', 'node_modules/onnxruntime-common/package.json', 'out/main/engine-worker.js', 'package.json']) {
      expect(existsSync(join(unpacked, path)), path).toBe(true);
      // …and the asar header says so, so Electron redirects reads of app.asar/<path> to the real file.
      expect((statFile(asar, path) as { unpacked?: boolean }).unpacked, path).toBe(true);
    }
    expect(readdirSync(join(unpacked, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6'))).toEqual(['linux']);
    expect(readdirSync(join(unpacked, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux'))).toEqual(['x64']);
    // Every module the worker imports by relative path is unpacked beside it.
    const worker = readFileSync(join(unpacked, 'out', 'main', 'engine-worker.js'), 'utf-8');
    for (const [, path] of worker.matchAll(/from "(\.[^"]+)"/g)) expect(existsSync(join(unpacked, 'out', 'main', path!)), path).toBe(true);
    expect((JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf-8')) as { type: string }).type).toBe('module');
  });

  it('ships every bundled model folder byte for byte, and not the training scripts', () => {
    const models = join(resources, 'native-models');
    expect(existsSync(join(models, 'train'))).toBe(false);
    const folders = readdirSync(join(ROOT, 'native-models')).filter((name) => name !== 'train' && statSync(join(ROOT, 'native-models', name)).isDirectory());
    expect(readdirSync(models).sort()).toEqual(folders.sort());
    for (const folder of folders) {
      for (const file of readdirSync(join(ROOT, 'native-models', folder))) {
        expect(readFileSync(join(models, folder, file)).equals(readFileSync(join(ROOT, 'native-models', folder, file))), `${folder}/${file}`).toBe(true);
      }
    }
  });

  it('flips the fuses: RunAsNode off, cookie encryption on, NODE_OPTIONS and inspect off, asar integrity on, app only from asar', async () => {
    const wire = await getCurrentFuseWire(join(app, 'painter'));
    const state = (index: number): string => String.fromCharCode(wire[index as keyof typeof wire] as number);
    expect(wire.version).toBe('1');
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(state).join('')).toBe('01001100');
  });

  it('loads the native binding from app.asar.unpacked with plain Node', () => {
    const entry = join(unpacked, 'node_modules', 'onnxruntime-node', 'dist', 'index.js');
    const script = `
      const ort = require(${JSON.stringify(entry)});
      const loaded = Object.keys(require.cache).filter((p) => p.endsWith('.node'));
      console.log(JSON.stringify({ backends: ort.listSupportedBackends().map((b) => b.name), loaded }));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf-8', cwd: work });
    expect(result.status, result.stderr).toBe(0);
    const { backends, loaded } = JSON.parse(result.stdout) as { backends: string[]; loaded: string[] };
    expect(backends).toContain('cpu');
    expect(loaded.map((path) => relative(unpacked, path))).toEqual(['node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node']);
  });

  describe('the unpacked engine worker, started by plain Node', () => {
    let host: EngineHost;
    beforeAll(() => {
      // The Node child-process launcher that `painter serve` uses; the app's utility process runs the same file.
      host = new EngineHost({
        launcher: nodeEngineLauncher(join(unpacked, 'out', 'main', 'engine-worker.js')),
        engine: { nativeModelsDir: join(resources, 'native-models'), userDataDir: join(work, 'user-data'), provider: 'cpu' },
      });
    });
    afterAll(async () => {
      await host?.dispose();
    });

    it('lists the packaged models and runs the Fashion-MNIST network for 3 steps', async () => {
      const models = await host.call('listModels', {});
      expect(models.ok, JSON.stringify(models)).toBe(true);
      if (!models.ok) return;
      expect(models.value.map((model) => model.id)).toContain('fashion-mnist');
      expect(models.value.every((model) => model.folder.startsWith(join(resources, 'native-models')))).toBe(true);
      const run = await host.call('generate', { jobId: 'packaged', modelId: 'fashion-mnist', seed: 1, steps: 3, sampler: 'euler', classLabel: 1, guidance: 1 });
      expect(run.ok, JSON.stringify(run)).toBe(true);
      if (run.ok) expect(run.value).toMatchObject({ stepCount: 4, provider: 'cpu' });
    });
  });

  it('stays a reasonable size (printed; the stand-in Electron adds nothing)', () => {
    const sizes = {
      asar: statSync(asar).size,
      unpacked: folderBytes(unpacked),
      models: folderBytes(join(resources, 'native-models')),
      total: folderBytes(app),
    };
    console.log(`packaged app (without Electron): ${megabytes(sizes.total)} = app.asar ${megabytes(sizes.asar)} + app.asar.unpacked ${megabytes(sizes.unpacked)} + native-models ${megabytes(sizes.models)}`);
    expect(getRawHeader(asar).header).toBeDefined();
    expect(sizes.asar).toBeLessThan(20 * 1024 * 1024);
    expect(sizes.unpacked).toBeLessThan(80 * 1024 * 1024);
    expect(sizes.total).toBeLessThan(160 * 1024 * 1024);
  });
});
