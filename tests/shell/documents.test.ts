/** Files handed to the app from outside (double-click, command line, second instance, drop), with real files on disk. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cannotOpenMessage, classifyPath, pathsFromArgv } from '../../electron/shell/documents';

const root = mkdtempSync(join(tmpdir(), 'painter-documents-'));
const session = join(root, 'walk.painter');
const upper = join(root, 'LOUD.PAINTER');
const run = join(root, 'run.safetensors');
const model = join(root, 'my-model');
const diffusers = join(root, 'sd-onnx');
const plainFolder = join(root, 'photos');
const text = join(root, 'notes.txt');
writeFileSync(session, '{}');
writeFileSync(upper, '{}');
writeFileSync(run, '');
mkdirSync(model);
writeFileSync(join(model, 'manifest.json'), '{}');
mkdirSync(diffusers);
writeFileSync(join(diffusers, 'model_index.json'), '{}');
mkdirSync(plainFolder);
writeFileSync(text, 'x');

describe('opening files from outside', () => {
  it('sorts sessions, runs and model folders (manifest.json or a diffusers model_index.json)', () => {
    expect(classifyPath(session)).toBe('session');
    expect(classifyPath(upper)).toBe('session');
    expect(classifyPath(run)).toBe('run');
    expect(classifyPath(model)).toBe('model-folder');
    expect(classifyPath(diffusers)).toBe('model-folder');
    expect(classifyPath(plainFolder)).toBeNull();
    expect(classifyPath(text)).toBeNull();
    expect(classifyPath(join(root, 'gone.painter'))).toBeNull();
  });

  it('takes from a command line the paths it can open, resolved against the launching folder, once each', () => {
    // Packaged: [exe, …args]; second instances also get Chromium switches.
    const argv = ['/opt/Painter/painter', '--allow-file-access-from-files', 'walk.painter', 'notes.txt', run, '--original-process-start-time=1', 'my-model', 'walk.painter', 'photos'];
    expect(pathsFromArgv(argv, root)).toEqual([session, run, model]);
    // Unpackaged: [electron, '.', …args]; the app folder is no model folder.
    expect(pathsFromArgv(['/usr/bin/electron', '.', 'walk.painter'], root)).toEqual([session]);
    expect(pathsFromArgv(['/opt/Painter/painter'], root)).toEqual([]);
  });

  it('says what it can open when it cannot', () => {
    expect(cannotOpenMessage(text)).toBe(`Painter cannot open ${text}: it is not a session (.painter), a run (.safetensors) or a model folder (with a manifest.json or model_index.json).`);
  });
});
