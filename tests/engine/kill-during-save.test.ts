/**
 * Kill during save (issue 9, item 7): a child process saves a session over
 * and over and is killed with SIGKILL at a random moment, 20 times. After
 * each kill the session on disk must open with every run intact (the previous
 * save or the new one, never a mix), and after the next start of an engine
 * and the next save no temporary file may remain.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/service';
import { openSession } from '../../electron/engine/session';
import { Random } from '../../electron/engine/rng';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'painter-kill-save-'));
// Inside the package, so the bundle finds node_modules (onnxruntime-node stays external).
const script = join(ROOT, 'out', 'test', 'save-loop.cjs');
const userDataDir = join(work, 'home');
const sessionPath = join(work, 'sessions', 'killed.painter');
const KILLS = 20;

beforeAll(async () => {
  await build({ entryPoints: [join(ROOT, 'tests', 'helpers', 'save-loop.ts')], outfile: script, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['onnxruntime-node'], logLevel: 'error' });
});

const temporaries = (folder: string): string[] => readdirSync(folder, { recursive: true }).map(String).filter((name) => /\.tmp-\d+-[0-9a-f]{8}$/.test(name));

/** Starts the loop, waits for its first save, lets it run `ms` more, then kills it. */
function runAndKill(ms: number): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, FIXTURES, userDataDir, sessionPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) setTimeout(() => child.kill('SIGKILL'), ms);
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? done() : fail(new Error(`save loop exited (${code}): ${errors}`))));
  });
}

describe('a save killed at a random moment', () => {
  const random = new Random(20250101);
  const seen = new Set<string>();
  let leftovers = 0;
  afterAll(() => {
    process.stdout.write(`kill-during-save: ${KILLS} kills, ${seen.size} distinct saved rounds seen, ${leftovers} kills left temporary files (all cleaned)\n`);
  });

  it(`leaves the previous session intact and no temporary file after the next start and save (${KILLS} kills)`, async () => {
    for (let kill = 0; kill < KILLS; kill++) {
      await runAndKill(Math.floor(random.uniform() * 400));
      // The session opens, and every run it lists is complete (readRun checks sizes, offsets and metadata).
      const opened = openSession(sessionPath);
      expect(opened.runs).toHaveLength(12);
      for (const run of opened.runs) expect(run.xt.length).toBe(1001 * 16);
      seen.add(opened.name);
      if (temporaries(work).length > 0) leftovers++;
      // The next start cleans the engine's own folders; the next save cleans the session's.
      const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir });
      expect(temporaries(userDataDir)).toEqual([]);
      const reopened = await engine.call('openSession', { path: sessionPath });
      await engine.call('saveSession', { path: sessionPath, name: reopened.name, runIds: reopened.runs.map((run) => run.runId), current: null });
      await engine.dispose();
      expect(temporaries(work)).toEqual([]);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
