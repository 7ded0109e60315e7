/**
 * The session: every run the user made or opened (roots and their branches),
 * which one is on screen, where the session is saved, and whether it changed
 * since. Tensors are fetched once per run and kept. Making, deleting and
 * renaming are undoable; opening a session or dropped files brings their
 * saved results (variation grids, 3-D views, charts) to the views that show
 * them.
 */
import type { DroppedFile, RecentSession, RunSummary, RunThumbnail, RunTensors, SessionResults, SessionSummary, StudioPaths } from '../../../electron/api/contract';
import { api } from '../api';
import { subtreeIds, treeRows, type TreeRow } from '../branch-tree';
import { decodedStates } from './decoded.svelte';
import { history } from './history.svelte';
import { notices } from './notices.svelte';
import { run } from './run.svelte';

export const SESSION_EXTENSION = '.painter';
export const UNTITLED = 'Untitled session';

/** A file name for a session name: "Shirts and flags" → "shirts-and-flags". */
export function sessionFileName(name: string): string {
  const slug = name
    .trim()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${slug || 'session'}${SESSION_EXTENSION}`;
}

type ResultsListener = (results: SessionResults) => void;

class Session {
  runs = $state.raw<RunSummary[]>([]);
  name = $state(UNTITLED);
  /** Where it was last saved or opened from. */
  path = $state<string | null>(null);
  /** Changed since the last save. */
  dirty = $state(false);
  recent = $state.raw<RecentSession[]>([]);
  paths = $state.raw<StudioPaths | null>(null);
  thumbnails = $state.raw<Record<string, RunThumbnail>>({});
  /** The run most recently added (scrolled into view in the list). */
  newest = $state<string | null>(null);
  private readonly tensors = new Map<string, RunTensors>();
  private readonly resultListeners = new Set<ResultsListener>();
  private thumbnailsWanted = new Set<string>();
  private thumbnailTimer: ReturnType<typeof setTimeout> | null = null;

  readonly rows = $derived<TreeRow[]>(treeRows(this.runs));
  readonly currentId = $derived(run.summary?.runId ?? null);
  /** Work that closing or reloading would lose. */
  readonly hasUnsavedChanges = $derived(this.dirty && this.runs.length > 0);

  find(runId: string): RunSummary | null {
    return this.runs.find((candidate) => candidate.runId === runId) ?? null;
  }

  /** Views that keep results per run subscribe here to receive those of an opened session. */
  onResults(listener: ResultsListener): () => void {
    this.resultListeners.add(listener);
    return () => this.resultListeners.delete(listener);
  }

  async tensorsOf(runId: string): Promise<RunTensors> {
    const cached = this.tensors.get(runId);
    if (cached !== undefined) return cached;
    const tensors = await api.call('getRun', { runId });
    this.tensors.set(runId, tensors);
    return tensors;
  }

  /** Asks for the thumbnails of runs not yet drawn (batched: one call for a burst of rows). */
  wantThumbnail(runId: string): void {
    if (this.thumbnails[runId] !== undefined) return;
    this.thumbnailsWanted.add(runId);
    this.thumbnailTimer ??= setTimeout(() => void this.loadThumbnails(), 30);
  }

  private async loadThumbnails(): Promise<void> {
    this.thumbnailTimer = null;
    const runIds = [...this.thumbnailsWanted].filter((id) => this.find(id) !== null);
    this.thumbnailsWanted.clear();
    if (runIds.length === 0) return;
    try {
      const found = await api.call('runThumbnails', { runIds });
      this.thumbnails = { ...this.thumbnails, ...Object.fromEntries(found.map((thumbnail) => [thumbnail.runId, thumbnail])) };
    } catch {
      // A list without thumbnails still works; the next change asks again.
    }
  }

  private append(summaries: readonly RunSummary[]): void {
    const ids = new Set(summaries.map((summary) => summary.runId));
    this.runs = [...this.runs.filter((other) => !ids.has(other.runId)), ...summaries];
  }

  /** A run the engine just made: fetch it, keep it, show it. Undo deletes it (redo brings it back). */
  async add(summary: RunSummary, keepStep = false): Promise<void> {
    const tensors = await this.tensorsOf(summary.runId);
    this.append([summary]);
    this.dirty = true;
    this.newest = summary.runId;
    const previous = run.summary?.runId ?? null;
    run.show(tensors, keepStep);
    const kind = summary.branch === null ? 'run' : 'branch';
    history.record({
      label: summary.branch === null ? `new run (seed ${summary.settings.seed})` : `new branch at step ${summary.branch.step}`,
      undo: async () => {
        await this.forget([summary.runId], previous);
      },
      redo: async () => {
        await this.restore([summary], summary.runId, `Cannot redo the new ${kind}`);
      },
    });
  }

  async select(runId: string, keepStep = true): Promise<void> {
    try {
      run.show(await this.tensorsOf(runId), keepStep);
    } catch (error) {
      notices.report(error);
    }
  }

  /** Removes runs from the engine (kept there for undo) and from the list; shows `fallback` if the one on screen went. */
  private async forget(doomed: readonly string[], fallback: string | null): Promise<void> {
    await api.call('deleteRuns', { runIds: [...doomed] });
    const wasShown = this.currentId !== null && doomed.includes(this.currentId);
    this.runs = this.runs.filter((other) => !doomed.includes(other.runId));
    for (const id of doomed) this.tensors.delete(id);
    run.forget(doomed);
    decodedStates.forget(doomed);
    this.dirty = true;
    if (!wasShown) return;
    const next = (fallback !== null && this.find(fallback)) || this.runs[this.runs.length - 1];
    if (next) await this.select(next.runId);
    else run.clear();
  }

  /** Brings deleted runs back (undo), in their old place in the tree, and shows `show`. */
  private async restore(summaries: readonly RunSummary[], show: string | null, failure: string): Promise<void> {
    try {
      await api.call('restoreRuns', { runIds: summaries.map((summary) => summary.runId) });
    } catch (error) {
      throw new Error(`${failure}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.append(summaries);
    this.dirty = true;
    if (show !== null) await this.select(show, true);
  }

  /** Deletes a run and every branch made from it (the caller has asked the user); undoable. */
  async remove(runId: string): Promise<void> {
    const doomed = subtreeIds(this.runs, runId);
    if (doomed.length === 0) return;
    const removed = this.find(runId);
    const summaries = doomed.map((id) => this.find(id)!);
    const shown = this.currentId;
    try {
      await this.forget(doomed, removed?.branch?.parentRunId ?? null);
    } catch (error) {
      notices.report(error);
      return;
    }
    const what = removed?.branch ? 'branch' : 'run';
    const label = `delete ${what}${doomed.length > 1 ? ` and ${doomed.length - 1} branch${doomed.length > 2 ? 'es' : ''}` : ''}`;
    history.record({
      label,
      undo: async () => {
        await this.restore(summaries, shown !== null && doomed.includes(shown) ? shown : null, `Cannot undo "${label}"`);
      },
      redo: async () => {
        await this.forget(doomed, removed?.branch?.parentRunId ?? null);
      },
    });
  }

  /** Renames the session; undoable. */
  rename(name: string): void {
    const before = this.name;
    const after = name.trim() || UNTITLED;
    if (before === after) return;
    const apply = (value: string): void => {
      this.name = value;
      this.dirty = true;
    };
    apply(after);
    history.record({ label: `rename to "${after}"`, coalesce: 'session-name', undo: () => apply(before), redo: () => apply(after) });
  }

  /** Starts an empty, unsaved session (the engine keeps the old runs and their autosaves). */
  reset(): void {
    this.tensors.clear();
    this.runs = [];
    this.name = UNTITLED;
    this.path = null;
    this.dirty = false;
    run.clear();
    notices.dismiss();
  }

  /**
   * Starts an empty session (the caller has asked about unsaved work), as one
   * undoable step: the engine still holds the runs, so Undo shows them again.
   */
  clear(): void {
    const summaries = this.runs;
    const before = { name: this.name, path: this.path, dirty: this.dirty, shown: this.currentId, step: run.step };
    this.reset();
    if (summaries.length === 0) return;
    history.record({
      label: 'new session',
      undo: async () => {
        this.append(summaries);
        this.name = before.name;
        this.path = before.path;
        this.dirty = before.dirty;
        if (before.shown !== null) {
          await this.select(before.shown);
          run.timeline.go(before.step);
        }
      },
      redo: () => this.reset(),
    });
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

  /** Where a save goes by default: the sessions folder, named after the session. */
  async suggestedPath(name: string): Promise<string> {
    const paths = await this.loadPaths();
    const folder = this.path !== null ? this.path.replace(/[\\/][^\\/]*$/, '') : (paths?.sessionsDir ?? '');
    if (folder === '') return '';
    const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
    return `${folder}${folder.endsWith(separator) ? '' : separator}${sessionFileName(name)}`;
  }

  async save(path: string, name: string): Promise<boolean> {
    if (this.runs.length === 0) return false;
    try {
      const current = run.summary !== null ? { runId: run.summary.runId, step: run.step } : null;
      const finalName = name.trim() || UNTITLED;
      const saved = await api.call('saveSession', { path, name: finalName, runIds: this.runs.map((r) => r.runId), current });
      this.path = saved.path;
      this.name = finalName;
      this.dirty = false;
      notices.dismiss();
      notices.say(`Saved “${finalName}” to ${saved.path}`);
      void this.loadRecent();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  /** Replaces the session on screen with a saved one (a path on the engine's machine). */
  async open(path: string): Promise<boolean> {
    try {
      await this.adopt(await api.call('openSession', { path }));
      void this.loadRecent();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  /** Opens a session file dropped on the studio, with the run files dropped beside it. */
  async importSession(file: DroppedFile, runs: DroppedFile[]): Promise<boolean> {
    try {
      await this.adopt(await api.call('importSession', { session: file, runs }));
      this.path = null; // it came from the user's machine: Save asks where to put it
      this.dirty = true;
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  /** Opens a dropped run file into this session (undoable like a new run). */
  async importRun(file: DroppedFile): Promise<boolean> {
    try {
      const summary = await api.call('importRun', { file });
      await this.add(summary);
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  private async adopt(opened: SessionSummary): Promise<void> {
    this.tensors.clear();
    this.runs = opened.runs;
    this.thumbnails = {};
    this.name = opened.name;
    this.path = opened.path;
    this.dirty = false;
    history.clear();
    notices.dismiss();
    if (opened.results !== undefined) for (const listener of this.resultListeners) listener(opened.results);
    const target = opened.current ?? (opened.runs.length > 0 ? { runId: opened.runs[opened.runs.length - 1]!.runId, step: -1 } : null);
    if (target === null) {
      run.clear();
    } else {
      run.show(await this.tensorsOf(target.runId));
      if (target.step >= 0) run.timeline.go(target.step);
    }
    notices.say(`Opened “${opened.name}”: ${opened.runs.length} run${opened.runs.length === 1 ? '' : 's'}`);
  }
}

export const session = new Session();
