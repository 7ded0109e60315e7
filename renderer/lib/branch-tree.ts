/**
 * The branch tree of the runs in a session: a run made by a brush points to
 * its parent (RunSummary.branch.parentRunId); runs without a parent in the
 * session are roots. Pure functions, so they are tested without a browser.
 */
import type { RunSummary } from '../../electron/api/contract';

export interface TreeRow {
  summary: RunSummary;
  /** 0 for a root. */
  depth: number;
  childCount: number;
}

function childrenByParent(runs: readonly RunSummary[]): Map<string | null, RunSummary[]> {
  const ids = new Set(runs.map((run) => run.runId));
  const children = new Map<string | null, RunSummary[]>();
  for (const run of runs) {
    const parent = run.branch !== null && ids.has(run.branch.parentRunId) ? run.branch.parentRunId : null;
    const list = children.get(parent) ?? [];
    list.push(run);
    children.set(parent, list);
  }
  // Roots in the order they were made; branches by the step they left their parent, then age.
  for (const [parent, list] of children) {
    list.sort((a, b) =>
      parent === null ? a.createdAt.localeCompare(b.createdAt) : a.branch!.step - b.branch!.step || a.createdAt.localeCompare(b.createdAt),
    );
  }
  return children;
}

/**
 * Every run once, depth-first: each root followed by its branches, indented
 * by depth. Runs that no root reaches (a parent cycle in damaged files) are
 * listed as roots, so nothing in the session is ever hidden.
 */
export function treeRows(runs: readonly RunSummary[]): TreeRow[] {
  const children = childrenByParent(runs);
  const rows: TreeRow[] = [];
  const seen = new Set<string>();
  const visit = (run: RunSummary, depth: number): void => {
    if (seen.has(run.runId)) return;
    seen.add(run.runId);
    const own = children.get(run.runId) ?? [];
    rows.push({ summary: run, depth, childCount: own.length });
    for (const child of own) visit(child, depth + 1);
  };
  for (const root of children.get(null) ?? []) visit(root, 0);
  for (const run of runs) visit(run, 0);
  return rows;
}

/** `runId` and all its descendants (what deleting a branch removes), parents before children. */
export function subtreeIds(runs: readonly RunSummary[], runId: string): string[] {
  const children = childrenByParent(runs);
  const out: string[] = [];
  const visit = (id: string): void => {
    if (out.includes(id)) return;
    out.push(id);
    for (const child of children.get(id) ?? []) visit(child.runId);
  };
  if (runs.some((run) => run.runId === runId)) visit(runId);
  return out;
}

/** The chain root → … → `runId` (only runs present in the session). */
export function lineage(runs: readonly RunSummary[], runId: string): RunSummary[] {
  const byId = new Map(runs.map((run) => [run.runId, run]));
  const chain: RunSummary[] = [];
  let current = byId.get(runId);
  while (current !== undefined && !chain.includes(current)) {
    chain.unshift(current);
    current = current.branch !== null ? byId.get(current.branch.parentRunId) : undefined;
  }
  return chain;
}

/** The parent of a branch, when it is in the session. */
export function parentOf(runs: readonly RunSummary[], run: RunSummary): RunSummary | null {
  if (run.branch === null) return null;
  return runs.find((candidate) => candidate.runId === run.branch!.parentRunId) ?? null;
}
