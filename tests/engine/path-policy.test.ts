/**
 * Browser mode's reach (issue 9, item 9): an engine given a confinement policy
 * reads only inside its workspace, the model folders named on its command
 * line and the bundled models, writes only inside its workspace, resolves
 * relative paths against the workspace, and is not fooled by links.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ErrorPayload } from '../../electron/api/contract';
import { toErrorPayload } from '../../electron/engine/errors';
import { Engine } from '../../electron/engine/service';
import { FIXTURES } from '../helpers/fixtures';

const root = mkdtempSync(join(tmpdir(), 'painter-confined-'));
const workspace = join(root, 'workspace');
const home = join(root, 'home');
const models = join(root, 'my-models');
const outside = join(root, 'outside');
for (const folder of [home, models, outside]) mkdirSync(folder, { recursive: true });
cpSync(join(FIXTURES, 'gauss16'), join(models, 'gauss16-copy'), { recursive: true });
writeFileSync(join(models, 'gauss16-copy', 'manifest.json'), readFileSync(join(FIXTURES, 'gauss16', 'manifest.json'), 'utf-8').replace('"fixture-gaussian"', '"copied-gaussian"'));
cpSync(join(FIXTURES, 'gauss16'), join(outside, 'gauss16-outside'), { recursive: true });
writeFileSync(join(outside, 'gauss16-outside', 'manifest.json'), readFileSync(join(FIXTURES, 'gauss16', 'manifest.json'), 'utf-8').replace('"fixture-gaussian"', '"outside-gaussian"'));
// The desktop app added a folder outside the workspace; browser mode must neither load nor forget it.
writeFileSync(join(home, 'models.json'), JSON.stringify([join(outside, 'gauss16-outside')]));

const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home, confine: { workspace, readOnly: [models] } });
afterAll(() => engine.dispose());

async function failure(promise: Promise<unknown>): Promise<ErrorPayload> {
  try {
    await promise;
  } catch (error) {
    return toErrorPayload(error);
  }
  throw new Error('expected a refusal');
}

async function makeRun(): Promise<string> {
  return (await engine.generate({ modelId: 'fixture-gaussian', seed: 3, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 })).runId;
}

describe('a confined engine (browser mode)', () => {
  it('creates its workspace and suggests places inside it', async () => {
    expect(existsSync(workspace)).toBe(true);
    const paths = await engine.call('studioPaths', {});
    expect(paths.sessionsDir.startsWith(workspace)).toBe(true);
    expect(paths.exportsDir.startsWith(workspace)).toBe(true);
  });

  it('resolves a relative path against the workspace, never the working folder', async () => {
    const runId = await makeRun();
    const { path } = await engine.call('saveRun', { runId, path: 'relative/run.safetensors' });
    expect(path).toBe(join(workspace, 'relative', 'run.safetensors'));
    expect(existsSync(join(process.cwd(), 'relative'))).toBe(false);
    expect((await engine.call('openRun', { path: 'relative/run.safetensors' })).runId).toBe(runId);
  });

  it('refuses to read or write outside, by absolute path, by ../ and through links', async () => {
    const runId = await makeRun();
    symlinkSync(outside, join(workspace, 'door'));
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(join(outside, 'secret.txt'), join(workspace, 'secret.safetensors'));
    symlinkSync(join(outside, 'nowhere.safetensors'), join(workspace, 'dangling.safetensors'));
    const refusals: Array<() => Promise<unknown>> = [
      () => engine.call('openRun', { path: '/etc/passwd' }),
      () => engine.call('openRun', { path: '../outside/secret.txt' }),
      () => engine.call('openRun', { path: 'secret.safetensors' }),
      () => engine.call('openSession', { path: '/etc/x.painter' }),
      () => engine.call('saveRun', { runId, path: '/etc/passwd.safetensors' }),
      () => engine.call('saveRun', { runId, path: join(outside, 'run.safetensors') }),
      () => engine.call('saveRun', { runId, path: '../run.safetensors' }),
      () => engine.call('saveRun', { runId, path: 'door/run.safetensors' }),
      () => engine.call('saveRun', { runId, path: 'dangling.safetensors' }),
      () => engine.call('saveSession', { path: 'door/s.painter', name: 's', runIds: [runId], current: null }),
      () => engine.call('exportStrip', { runId, path: join(outside, 'strip.png'), layer: 'x0Hat', frames: 4, scale: 1 }),
      () => engine.call('exportTrajectories', { runIds: [runId], path: 'door/t.safetensors', includeGhost: false }),
      () => engine.call('addModelFolder', { folder: join(outside, 'gauss16-outside') }),
      () => engine.call('addModelFolder', { folder: 'door/gauss16-outside' }),
      // Model folders named on the command line are read, never written.
      () => engine.call('saveRun', { runId, path: join(models, 'run.safetensors') }),
    ];
    for (const refusal of refusals) {
      const error = await failure(refusal());
      expect(error.code, error.message).toBe('OUTSIDE_WORKSPACE');
      expect(error.message).toMatch(/^Browser mode (reads|writes|does not write)/);
    }
    expect(readdirSync(outside).sort()).toEqual(['gauss16-outside', 'secret.txt']);
    expect(existsSync(join(models, 'run.safetensors'))).toBe(false);
  });

  it('saves a session only where its runs folder is not a link out', async () => {
    const runId = await makeRun();
    symlinkSync(outside, join(workspace, 'linked-runs'));
    const error = await failure(engine.call('saveSession', { path: join(workspace, 'linked.painter'), name: 'l', runIds: [runId], current: null }));
    expect(error.code).toBe('OUTSIDE_WORKSPACE');
    const saved = await engine.call('saveSession', { path: 'sessions/ok.painter', name: 'ok', runIds: [runId], current: null });
    expect(saved.path).toBe(join(workspace, 'sessions', 'ok.painter'));
    expect((await engine.call('recentSessions', {})).map((s) => s.path)).toContain(saved.path);
  });

  it('loads models from the named folders, not from models.json entries outside, and keeps those entries', async () => {
    const ids = (await engine.call('listModels', {})).map((m) => m.id);
    expect(ids).toContain('fixture-gaussian'); // bundled
    expect(ids).not.toContain('outside-gaussian');
    const added = await engine.call('addModelFolder', { folder: join(models, 'gauss16-copy') });
    expect(added.id).toBe('copied-gaussian');
    // Browser mode keeps added folders for the launch only; the desktop's list is left as it was.
    expect(JSON.parse(readFileSync(join(home, 'models.json'), 'utf-8'))).toEqual([join(outside, 'gauss16-outside')]);
  });

  it('lists only the recent sessions it could open', async () => {
    writeFileSync(join(outside, 'desk.painter'), '{}');
    writeFileSync(join(home, 'recent-sessions.json'), JSON.stringify([{ path: join(outside, 'desk.painter'), name: 'desk', savedAt: '', runCount: 1 }]));
    expect(await engine.call('recentSessions', {})).toEqual([]);
  });
});

describe('an unconfined engine (desktop, CLI)', () => {
  it('reads and writes where it is told, relative paths against its base folder', async () => {
    const base = mkdtempSync(join(tmpdir(), 'painter-unconfined-'));
    const desktop = new Engine({ nativeModelsDir: FIXTURES, userDataDir: join(base, 'home'), baseDir: base });
    try {
      const { runId } = await desktop.generate({ modelId: 'fixture-gaussian', seed: 1, steps: 3, sampler: 'euler', classLabel: null, guidance: 1 });
      expect((await desktop.call('saveRun', { runId, path: 'r.safetensors' })).path).toBe(join(base, 'r.safetensors'));
      expect((await desktop.call('saveRun', { runId, path: join(outside, 'desk.safetensors') })).path).toBe(join(outside, 'desk.safetensors'));
    } finally {
      await desktop.dispose();
    }
  });
});
