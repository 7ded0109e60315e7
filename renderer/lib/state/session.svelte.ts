/**
 * The session: every run the user made or opened (roots and their branches),
 * which one is on screen, and where the session is saved. Tensors are fetched
 * once per run and kept.
 */
import type { RecentSession, RunSummary, RunTensors, StudioPaths } from '../../../electron/api/contract';
import { api } from '../api';
import { subtreeIds, treeRows, type TreeRow } from '../branch-tree';
import { notices } from './notices.svelte';
import { run } from './run.svelte';

export const SESSION_EXTENSION = '.painter';

class Session {
  runs = $state.raw<RunSummary[]>([]);
  name = $state('Untitled session');
  /** Where it was last saved or opened from. */
  path = $state<string | null>(null);
  /** Changed since the last save. */
  dirty = $state(false);
  recent = $state.raw<RecentSession[]>([]);
  paths = $state.raw<StudioPaths | null>(null);
  private readonly tensors = new Map<string, RunTensors>();

  readonly rows = $derived<TreeRow[]>(treeRows(this.runs));
  readonly currentId = $derived(run.summary?.runId ?? null);

  find(runId: string): RunSummary | null {
    return this.runs.find((candidate) => candidate.runId === runId) ?? null;
  }

  async tensorsOf(runId: string): Promise<RunTensors> {
    const cached = this.tensors.get(runId);
    if (cached !== undefined) return cached;
    const tensors = await api.call('getRun', { runId });
    this.tensors.set(runId, tensors);
    return tensors;
  }

  /** A run the engine just made: fetch it, keep it, show it. */
  async add(summary: RunSummary, keepStep = false): Promise<void> {
    const tensors = await this.tensorsOf(summary.runId);
    this.runs = [...this.runs.filter((other) => other.runId !== summary.runId), summary];
    this.dirty = true;
    run.show(tensors, keepStep);
  }

  async select(runId: string, keepStep = true): Promise<void> {
    try {
      run.show(await this.tensorsOf(runId), keepStep);
    } catch (error) {
      notices.report(error);
    }
  }

  /** Deletes a run and every branch made from it; shows its parent (or another run) if it was on screen. */
  async remove(runId: string): Promise<void> {
    const doomed = subtreeIds(this.runs, runId);
    if (doomed.length === 0) return;
    try {
      await api.call('deleteRuns', { runIds: doomed });
    } catch (error) {
      notices.report(error);
      return;
    }
    const removed = this.find(runId);
    const wasShown = this.currentId !== null && doomed.includes(this.currentId);
    this.runs = this.runs.filter((other) => !doomed.includes(other.runId));
    for (const id of doomed) this.tensors.delete(id);
    run.forget(doomed);
    this.dirty = true;
    if (!wasShown) return;
    const next = (removed?.branch && this.find(removed.branch.parentRunId)) || this.runs[this.runs.length - 1];
    if (next) await this.select(next.runId);
    else run.clear();
  }

  async loadPaths(): Promise<StudioPaths | null> {
    if (this.paths !== null) return this.paths;
    try {
      this.paths = await api.call('studioPaths', {});
    } catch (error) {
      notices.report(error);
    }
    return this.paths;
  }

  async loadRecent(): Promise<void> {
    try {
      this.recent = await api.call('recentSessions', {});
    } catch (error) {
      notices.report(error);
    }
  }

  async save(path: string, name: string): Promise<boolean> {
    if (this.runs.length === 0) return false;
    try {
      const current = run.summary !== null ? { runId: run.summary.runId, step: run.step } : null;
      const saved = await api.call('saveSession', { path, name, runIds: this.runs.map((r) => r.runId), current });
      this.path = saved.path;
      this.name = name;
      this.dirty = false;
      notices.dismiss();
      void this.loadRecent();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  /** Starts an empty, unsaved session (the engine keeps the old runs' autosaves). */
  reset(): void {
    this.tensors.clear();
    this.runs = [];
    this.name = 'Untitled session';
    this.path = null;
    this.dirty = false;
    run.clear();
    notices.dismiss();
  }

  /** Replaces the session on screen with a saved one. */
  async open(path: string): Promise<boolean> {
    try {
      const opened = await api.call('openSession', { path });
      this.tensors.clear();
      this.runs = opened.runs;
      this.name = opened.name;
      this.path = opened.path;
      this.dirty = false;
      notices.dismiss();
      const target = opened.current ?? (opened.runs.length > 0 ? { runId: opened.runs[opened.runs.length - 1]!.runId, step: -1 } : null);
      if (target === null) {
        run.clear();
      } else {
        run.show(await this.tensorsOf(target.runId));
        if (target.step >= 0) run.timeline.go(target.step);
      }
      void this.loadRecent();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }
}

export const session = new Session();
