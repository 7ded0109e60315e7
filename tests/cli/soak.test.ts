/**
 * Soak (issue 9, item 6; opt-in: PAINTER_SOAK=1, about two minutes on two
 * cores): 200 branches in one session on the bundled Fashion-MNIST network,
 * through a supervised engine process as `painter serve` runs it, each branch
 * fetched as the studio fetches it, then the session saved. With a 16 MB run
 * memory budget the engine's resident memory must stop growing once warm:
 * its RSS over the last 25 branches within 10 % of its RSS over branches
 * 51–75 (by the 50th the budget is full: before, runs stay in memory by
 * design). Medians of per-branch samples, so one sample taken just before a
 * garbage collection does not decide; the RSS after the save is reported.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiResponse, StorageStatus } from '../../electron/api/contract';
import { EngineHost } from '../../electron/host/engine-host';
import { nodeEngineLauncher } from '../../electron/host/node-launcher';
import { Random } from '../../electron/engine/rng';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BRANCHES = 200;
/** Warm: the 16 MB budget holds ~50 runs of 320 KB, so from then on open runs no longer add resident memory. */
const WARM_UP = 50;

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf-8'));
  return Number(match![1]) / 1024;
}

function value<T>(response: ApiResponse<T>): T {
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
  return response.value;
}

describe.skipIf(process.env['PAINTER_SOAK'] !== '1')('soak: 200 branches in one session', () => {
  const home = mkdtempSync(join(tmpdir(), 'painter-soak-'));
  const host = new EngineHost({
    launcher: nodeEngineLauncher(join(ROOT, 'out', 'cli', 'engine-worker.cjs')),
    engine: { nativeModelsDir: join(ROOT, 'native-models'), userDataDir: home, confine: { workspace: join(home, 'workspace'), readOnly: [] }, storage: { runMemoryMB: 16 } },
  });
  afterAll(() => host.dispose());

  it('keeps the engine process within 10 % of its warmed-up RSS', { timeout: 1_800_000 }, async () => {
    const random = new Random(7);
    const root = value(await host.call('generate', { jobId: 'root', modelId: 'fashion-mnist', seed: 1, steps: 50, sampler: 'euler', classLabel: 3, guidance: 2 }));
    const runs = [root.runId];
    const samples: number[] = [];
    const started = performance.now();
    for (let i = 1; i <= BRANCHES; i++) {
      const parent = runs[Math.floor(random.uniform() * runs.length)]!;
      const branch = value(
        await host.call('branch', {
          jobId: `b${i}`,
          runId: parent,
          step: 5 + Math.floor(random.uniform() * 40),
          brush: { kind: 'noise', points: [{ x: 6 + 16 * random.uniform(), y: 6 + 16 * random.uniform() }], radius: 4, strength: 4, seed: i, grain: 1 },
        }),
      );
      runs.push(branch.runId);
      value(await host.call('getRun', { runId: branch.runId })); // what the studio fetches to show it
      value(await host.call('gaussianGhost', { runId: branch.runId }));
      samples.push(rssMb(host.pid!));
    }
    value(await host.call('saveSession', { path: 'soak.painter', name: 'soak', runIds: runs, current: null }));
    const afterSave = rssMb(host.pid!);
    const storage = value(await host.call('storage', {})) as StorageStatus;
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const warm = median(samples.slice(WARM_UP, WARM_UP + 25));
    const end = median(samples.slice(-25));
    const growth = (end - warm) / warm;
    process.stdout.write(
      `soak: ${BRANCHES} branches in ${((performance.now() - started) / 1000).toFixed(0)} s; engine RSS (median) branches ${WARM_UP + 1}–${WARM_UP + 25}: ${warm.toFixed(0)} MB, ` +
        `branches ${BRANCHES - 24}–${BRANCHES}: ${end.toFixed(0)} MB (${(100 * growth).toFixed(1)} %), after saving the session: ${afterSave.toFixed(0)} MB; ` +
        `every 25: ${samples.filter((_, i) => (i + 1) % 25 === 0).map((v) => v.toFixed(0)).join(', ')} MB; ` +
        `open runs ${storage.openRuns}, in memory ${storage.residentRuns} (${storage.residentMB.toFixed(1)} MB), ${storage.evictions} moved to disk\n`,
    );
    expect(growth).toBeLessThan(0.1);
  });
});
