import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../electron/api/contract';
import { lineage, parentOf, subtreeIds, treeRows } from '../../renderer/lib/branch-tree';

function summary(runId: string, createdAt: string, parent?: { id: string; step: number }): RunSummary {
  return {
    runId,
    modelId: 'm',
    settings: { modelId: 'm', seed: 1, steps: 10, sampler: 'euler', classLabel: null, guidance: 1 },
    stepCount: 11,
    sigmas: [],
    evaluations: [],
    seconds: 0,
    createdAt,
    branch: parent ? { parentRunId: parent.id, step: parent.step, perturbation: `at ${parent.step}` } : null,
    convention: 'sigma',
  };
}

//   a ─┬─ b (step 2) ── d (step 5)
//      └─ c (step 7)
//   e
//   f (its parent was deleted: shown as a root)
const runs = [
  summary('c', '2026-01-01T00:00:04Z', { id: 'a', step: 7 }),
  summary('a', '2026-01-01T00:00:00Z'),
  summary('e', '2026-01-01T00:00:01Z'),
  summary('d', '2026-01-01T00:00:05Z', { id: 'b', step: 5 }),
  summary('b', '2026-01-01T00:00:03Z', { id: 'a', step: 2 }),
  summary('f', '2026-01-01T00:00:06Z', { id: 'gone', step: 1 }),
];

describe('branch tree', () => {
  it('lists roots by age, each followed by its branches by branch step, indented', () => {
    expect(treeRows(runs).map((row) => `${'  '.repeat(row.depth)}${row.summary.runId}`)).toEqual(['a', '  b', '    d', '  c', 'e', 'f']);
    expect(treeRows(runs).find((row) => row.summary.runId === 'a')?.childCount).toBe(2);
    expect(treeRows([])).toEqual([]);
  });

  it('deleting a run takes its whole subtree and nothing else', () => {
    expect(subtreeIds(runs, 'a')).toEqual(['a', 'b', 'd', 'c']);
    expect(subtreeIds(runs, 'b')).toEqual(['b', 'd']);
    expect(subtreeIds(runs, 'e')).toEqual(['e']);
    expect(subtreeIds(runs, 'missing')).toEqual([]);
  });

  it('walks from a branch up to its root', () => {
    expect(lineage(runs, 'd').map((run) => run.runId)).toEqual(['a', 'b', 'd']);
    expect(lineage(runs, 'f').map((run) => run.runId)).toEqual(['f']);
    expect(parentOf(runs, runs.find((run) => run.runId === 'c')!)?.runId).toBe('a');
    expect(parentOf(runs, runs.find((run) => run.runId === 'f')!)).toBeNull();
  });

  it('survives a cycle in damaged metadata without looping', () => {
    const cyclic = [summary('x', '1', { id: 'y', step: 1 }), summary('y', '2', { id: 'x', step: 1 })];
    expect(lineage(cyclic, 'x').map((run) => run.runId)).toEqual(['y', 'x']);
    // Neither is a root; both are still listed, and nothing hangs.
    expect(treeRows(cyclic).map((row) => `${row.depth}${row.summary.runId}`)).toEqual(['0x', '1y']);
    expect(subtreeIds(cyclic, 'x')).toEqual(['x', 'y']);
  });
});
