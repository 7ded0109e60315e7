/**
 * ONNX Runtime telemetry (issue 9, item 11): onnxruntime-node 1.30 writes a
 * device id and an event database to ~/.cache/Microsoft/DeveloperTools/
 * unless ORT_DISABLE_TELEMETRY=1 is set before its first session. The engine
 * sets it; here a real ONNX network runs through the CLI with a fresh HOME,
 * and nothing may appear in that HOME but what Painter itself keeps under
 * PAINTER_HOME.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

function listTree(folder: string): string[] {
  return readdirSync(folder, { recursive: true }).map(String).map((name) => relative(folder, join(folder, name))).sort();
}

describe('ONNX Runtime telemetry', () => {
  it('a run of an ONNX network writes nothing outside PAINTER_HOME (no ~/.cache/Microsoft)', () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-telemetry-home-'));
    const painterHome = join(home, 'painter-home');
    const out = join(home, 'out', 'run.safetensors');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PAINTER_HOME: painterHome };
    delete env['ORT_DISABLE_TELEMETRY'];
    delete env['XDG_CACHE_HOME'];
    delete env['XDG_CONFIG_HOME'];
    const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'painter.cjs'), 'sample', '--model', 'fashion-mnist', '--class', '1', '--steps', '3', '--out', out], {
      env,
      encoding: 'utf-8',
      timeout: 120_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(statSync(out).isFile()).toBe(true);
    const outsidePainter = listTree(home).filter((path) => !path.startsWith('painter-home') && !path.startsWith('out'));
    expect(outsidePainter).toEqual([]);
  });
});
