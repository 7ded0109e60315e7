/**
 * A child process for tests/engine/kill-during-save.test.ts: makes runs with
 * an engine and saves one session over and over (each save named after its
 * round), generating a new autosaved run each round, until it is killed.
 * Prints "ready" once the first save is complete.
 *
 *   node save-loop.cjs FIXTURES USER_DATA_DIR SESSION_PATH
 */
import { Engine } from '../../electron/engine/service';

async function main(): Promise<void> {
  const [fixtures, userDataDir, sessionPath] = process.argv.slice(2) as [string, string, string];
  const engine = new Engine({ nativeModelsDir: fixtures, userDataDir });
  const runIds: string[] = [];
  // 1,000 steps of a 16-value model: 130 KB per run file, so a save of 12 takes long enough to be cut.
  const generate = async (seed: number): Promise<string> =>
    (await engine.generate({ modelId: 'fixture-gaussian', seed, steps: 1000, sampler: 'euler', classLabel: null, guidance: 1 })).runId;
  for (let seed = 0; seed < 12; seed++) runIds.push(await generate(seed));
  for (let round = 0; ; round++) {
    // Keep 12 runs, the newest each round, so saves both write new run files and drop old ones.
    if (round > 0) {
      runIds.shift();
      runIds.push(await generate(100 + round));
    }
    await engine.call('saveSession', { path: sessionPath, name: `round-${round}`, runIds, current: null });
    if (round === 0) process.stdout.write('ready\n');
  }
}

void main();
