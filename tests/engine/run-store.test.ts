/**
 * Storage budgets (issue 9, item 6): open runs beyond the memory budget move
 * to disk and come back bit for bit when asked for; autosaves beyond the disk
 * budget are removed oldest first, never those of a run any engine has open;
 * the budgets come from options, the environment, the settings file or the
 * defaults, in that order.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serializeRun } from '../../electron/engine/runs';
import { Engine } from '../../electron/engine/service';
import { DEFAULT_AUTOSAVE_DISK_MB, DEFAULT_RUN_MEMORY_MB, resolveStorageSettings } from '../../electron/engine/storage-settings';
import { FIXTURES } from '../helpers/fixtures';

const MiB = 1024 * 1024;
const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
});

function makeEngine(home: string, storage: { runMemoryMB?: number; autosaveDiskMB?: number }): Engine {
  const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home, storage });
  engines.push(engine);
  return engine;
}

/** A 1,000-step run of the 16-value fixture: 2 × 1001 × 16 × 4 B = 128 KB of tensors. */
async function generate(engine: Engine, seed: number): Promise<string> {
  return (await engine.generate({ modelId: 'fixture-gaussian', seed, steps: 1000, sampler: 'euler', classLabel: null, guidance: 1 })).runId;
}

const autosaves = (home: string): string[] => (existsSync(join(home, 'runs')) ? readdirSync(join(home, 'runs')).filter((name) => name.endsWith('.safetensors')) : []);
const autosaveBytes = (home: string): number => autosaves(home).reduce((sum, name) => sum + statSync(join(home, 'runs', name)).size, 0);

describe('the memory budget', () => {
  it('keeps the open runs within it, moving the least recently used to disk and back, bit for bit', async () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-budget-mem-'));
    const engine = makeEngine(home, { runMemoryMB: 1 });
    const ids: string[] = [];
    const copies = new Map<string, Buffer>();
    for (let seed = 0; seed < 30; seed++) {
      const runId = await generate(engine, seed);
      ids.push(runId);
      copies.set(runId, Buffer.from(serializeRun(engine.getRunRecord(runId))));
      expect(engine.runs.residentBytes).toBeLessThanOrEqual(MiB);
    }
    expect(engine.runs.evictions).toBeGreaterThan(15);
    // Every run, evicted or not, reads back identical; reading keeps within the budget.
    for (const runId of [...ids].reverse()) {
      const tensors = await engine.call('getRun', { runId });
      expect(Buffer.from(serializeRun({ ...engine.getRunRecord(runId), xt: tensors.xt, x0Hat: tensors.x0Hat })).equals(copies.get(runId)!)).toBe(true);
      expect(engine.runs.residentBytes).toBeLessThanOrEqual(MiB);
    }
    expect(engine.runs.reloads).toBeGreaterThan(15);
    expect((await engine.call('listRuns', {})).map((s) => s.runId)).toEqual(ids);
    const status = await engine.call('storage', {});
    expect(status).toMatchObject({ runMemoryMB: 1, openRuns: 30 });
    expect(status.residentRuns).toBeLessThanOrEqual(8);
  });

  it('a run opened from a user file is written to its own autosave before it leaves memory (the user may change theirs)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-budget-open-'));
    const engine = makeEngine(home, { runMemoryMB: 1 });
    const source = join(home, 'mine.safetensors');
    const first = await generate(engine, 1);
    await engine.call('saveRun', { runId: first, path: source });
    await engine.call('deleteRuns', { runIds: [first] });
    const opened = await engine.call('openRun', { path: source });
    const before = readFileSync(source);
    for (let seed = 10; seed < 20; seed++) await generate(engine, seed); // pushes the opened run out of memory
    writeFileSync(source, 'changed by the user');
    const back = await engine.call('getRun', { runId: opened.runId });
    expect(Buffer.from(serializeRun({ ...engine.getRunRecord(opened.runId), xt: back.xt, x0Hat: back.x0Hat })).equals(before)).toBe(true);
  });
});

describe('the disk budget', () => {
  it('removes the oldest autosaves of closed runs, never those of open runs (of this or another engine)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-budget-disk-'));
    const other = makeEngine(home, { autosaveDiskMB: 1024 });
    const othersRun = await generate(other, 99); // another live engine's open run: the oldest file of all
    // A previous session's autosaves, from an engine that has gone: closed runs, older than what follows.
    const gone = makeEngine(home, { autosaveDiskMB: 1024 });
    const previous: string[] = [];
    for (let seed = 50; seed < 58; seed++) previous.push(await generate(gone, seed));
    await gone.dispose();
    engines.splice(engines.indexOf(gone), 1);
    expect(autosaves(home)).toHaveLength(9);

    const engine = makeEngine(home, { autosaveDiskMB: 1 });
    const mine: string[] = [];
    for (let seed = 0; seed < 3; seed++) mine.push(await generate(engine, seed));
    expect(autosaveBytes(home)).toBeLessThanOrEqual(MiB);
    const left = (): Set<string> => new Set(autosaves(home).map((name) => name.replace('.safetensors', '')));
    expect(left().has(othersRun)).toBe(true);
    for (const runId of mine) expect(left().has(runId)).toBe(true);
    // Oldest first: what is left of the previous session is its newest files.
    const kept = previous.filter((runId) => left().has(runId));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(previous.slice(previous.length - kept.length));

    // More open runs than the budget holds: everything closed goes, nothing open, and the user is told.
    for (let seed = 10; seed < 20; seed++) mine.push(await generate(engine, seed));
    expect([...left()].sort()).toEqual([othersRun, ...mine].sort());
    expect(engine.notices.some((n) => /over the 1 MB budget, but all belong to open runs/.test(n))).toBe(true);
  });
});

describe('storage settings', () => {
  it('options beat the environment, which beats the settings file, which beats the defaults', () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-budget-settings-'));
    mkdirSync(home, { recursive: true });
    expect(resolveStorageSettings(home)).toEqual({ runMemoryMB: DEFAULT_RUN_MEMORY_MB, autosaveDiskMB: DEFAULT_AUTOSAVE_DISK_MB });
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ runMemoryMB: 300, autosaveDiskMB: 700, theme: 'dark' }));
    expect(resolveStorageSettings(home)).toEqual({ runMemoryMB: 300, autosaveDiskMB: 700 });
    process.env['PAINTER_RUN_MEMORY_MB'] = '200';
    try {
      expect(resolveStorageSettings(home)).toEqual({ runMemoryMB: 200, autosaveDiskMB: 700 });
      expect(resolveStorageSettings(home, { runMemoryMB: 100 })).toEqual({ runMemoryMB: 100, autosaveDiskMB: 700 });
      process.env['PAINTER_RUN_MEMORY_MB'] = 'lots';
      expect(() => resolveStorageSettings(home)).toThrow(/PAINTER_RUN_MEMORY_MB must be a number of megabytes/);
    } finally {
      delete process.env['PAINTER_RUN_MEMORY_MB'];
    }
    const notices: string[] = [];
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ runMemoryMB: -5 }));
    expect(resolveStorageSettings(home, {}, (n) => notices.push(n)).runMemoryMB).toBe(DEFAULT_RUN_MEMORY_MB);
    expect(notices[0]).toMatch(/"runMemoryMB" must be a number of megabytes/);
  });

  it('setStorage applies at once and is kept in the settings file (other keys kept)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'painter-budget-set-'));
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ theme: 'dark' }));
    const engine = makeEngine(home, {});
    for (let seed = 0; seed < 10; seed++) await generate(engine, seed);
    const status = await engine.call('setStorage', { runMemoryMB: 16, autosaveDiskMB: 2048 });
    expect(status).toMatchObject({ runMemoryMB: 16, autosaveDiskMB: 2048, openRuns: 10 });
    expect(JSON.parse(readFileSync(join(home, 'settings.json'), 'utf-8'))).toEqual({ theme: 'dark', runMemoryMB: 16, autosaveDiskMB: 2048 });
  });
});
