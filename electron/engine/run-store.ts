/**
 * The open runs, within a memory budget and a disk budget (issue 9, item 6).
 *
 * Memory: when the tensors of the open runs exceed the budget, the least
 * recently used run is moved out of memory — to its autosave file, written
 * first if it has none — and read back the next time anyone asks for it, so
 * callers never notice (they call {@link RunStore.get}).
 *
 * Disk: autosaves (PAINTER_HOME/runs) beyond the disk budget are removed,
 * oldest first — only those of runs that no engine has open. Every engine
 * lists its open runs in `runs/.open-<pid>-<id>.json`, so a CLI run beside the
 * studio never removes the studio's runs; lists of dead processes are ignored.
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RunSummary } from '../api/contract';
import { PainterError, quoteText } from './errors';
import { processAlive, readJsonFile, temporaryPath } from './files';
import { readRun, writeRun, type RunRecord } from './runs';

export interface StorageBudgets {
  /** Tensors of open runs kept in memory, bytes. */
  memoryBytes: number;
  /** Autosaved run files kept on disk, bytes. */
  diskBytes: number;
}

/** Where an open run lives on disk, for a restarted engine to open it again. */
export interface OpenRunFile {
  runId: string;
  file: string;
}

interface StoredRun {
  summary: RunSummary;
  /** The tensors, or null while the run is out of memory. */
  record: RunRecord | null;
  bytes: number;
  lastUsed: number;
  /** A file holding exactly this run: its autosave, or the file it was opened from. */
  file: string | null;
  /** Whether `file` is the engine's own autosave (a file it may read back and prune). */
  ownFile: boolean;
}

const RUN_FILE = /^([A-Za-z0-9-]{1,128})\.safetensors$/;
const OPEN_LIST = /^\.open-(\d{1,10})-[0-9a-f]{8}\.json$/;

function tensorBytes(run: RunRecord): number {
  return run.xt.byteLength + run.x0Hat.byteLength;
}

export class RunStore {
  private readonly runs = new Map<string, StoredRun>();
  private clock = 0;
  /** runs/.open-<pid>-<id>.json: this engine's list of open runs (one process may host several engines). */
  private readonly openList: string;
  /** Evictions and reloads so far (for tests and the storage report). */
  evictions = 0;
  reloads = 0;

  constructor(
    /** The autosave folder, PAINTER_HOME/runs. */
    readonly folder: string,
    public budgets: StorageBudgets,
    private readonly onNotice: (message: string) => void = () => {},
  ) {
    this.openList = join(folder, `.open-${process.pid}-${randomBytes(4).toString('hex')}.json`);
  }

  /** The autosave file of a run. */
  autosavePath(runId: string): string {
    return join(this.folder, `${runId}.safetensors`);
  }

  /**
   * Adds (or replaces) an open run. `file` is where it already lies on disk:
   * its autosave (`ownFile`) or the file it was opened from.
   */
  add(run: RunRecord, file: string | null, ownFile: boolean): void {
    const isNew = !this.runs.has(run.summary.runId);
    this.runs.set(run.summary.runId, { summary: run.summary, record: run, bytes: tensorBytes(run), lastUsed: ++this.clock, file, ownFile });
    if (isNew) this.writeOpenList();
    this.enforceMemory(run.summary.runId);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** The run, read back from disk if it was moved out of memory. */
  get(runId: string): RunRecord {
    const stored = this.runs.get(runId);
    if (stored === undefined) throw new PainterError('RUN_NOT_FOUND', `No run "${quoteText(runId, 64)}" is open.`, { runId });
    stored.lastUsed = ++this.clock;
    if (stored.record === null) {
      const file = stored.file!;
      let record: RunRecord;
      try {
        record = readRun(file);
      } catch (error) {
        throw new PainterError('RUN_NOT_FOUND', `Run ${runId} was moved out of memory to ${quoteText(file)}, and that file can no longer be read (${(error as Error).message}).`, { runId, path: file });
      }
      if (record.summary.runId !== runId) throw new PainterError('RUN_NOT_FOUND', `Run ${runId} was moved out of memory to ${quoteText(file)}, but that file now holds another run.`, { runId, path: file });
      // The summary is the engine's (it may carry changes since the file was written); the tensors come from disk.
      stored.record = { ...record, summary: stored.summary };
      this.reloads++;
      this.enforceMemory(runId);
    }
    return stored.record;
  }

  summaries(): RunSummary[] {
    return [...this.runs.values()].map((stored) => stored.summary);
  }

  delete(runId: string): boolean {
    const deleted = this.runs.delete(runId);
    if (deleted) this.writeOpenList();
    return deleted;
  }

  /** Open runs and the files that hold them (runs never written anywhere are left out). */
  openFiles(): OpenRunFile[] {
    return [...this.runs.entries()].filter(([, stored]) => stored.file !== null).map(([runId, stored]) => ({ runId, file: stored.file! }));
  }

  get residentBytes(): number {
    let total = 0;
    for (const stored of this.runs.values()) if (stored.record !== null) total += stored.bytes;
    return total;
  }

  get residentCount(): number {
    let count = 0;
    for (const stored of this.runs.values()) if (stored.record !== null) count++;
    return count;
  }

  get openCount(): number {
    return this.runs.size;
  }

  /** Moves least recently used runs out of memory until the open runs fit the budget (`keep` stays). */
  enforceMemory(keep?: string): void {
    let resident = this.residentBytes;
    if (resident <= this.budgets.memoryBytes) return;
    const candidates = [...this.runs.entries()].filter(([runId, stored]) => stored.record !== null && runId !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [runId, stored] of candidates) {
      if (resident <= this.budgets.memoryBytes) break;
      if (!stored.ownFile) {
        // Only the engine's own file may be read back later (the user may change theirs): write it first.
        try {
          writeRun(this.autosavePath(runId), stored.record!);
        } catch (error) {
          this.onNotice(`Run ${runId} stays in memory: it could not be written out (${(error as Error).message}).`);
          continue;
        }
        stored.file = this.autosavePath(runId);
        stored.ownFile = true;
      }
      stored.record = null;
      resident -= stored.bytes;
      this.evictions++;
    }
  }

  /** Size of the autosave folder's run files, bytes. */
  autosaveBytes(): number {
    return this.autosaveFiles().reduce((sum, file) => sum + file.size, 0);
  }

  private autosaveFiles(): Array<{ runId: string; path: string; size: number; mtimeMs: number }> {
    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch {
      return [];
    }
    const files: Array<{ runId: string; path: string; size: number; mtimeMs: number }> = [];
    for (const name of names) {
      const match = RUN_FILE.exec(name);
      if (match === null) continue;
      const path = join(this.folder, name);
      const stats = lstatSync(path, { throwIfNoEntry: false });
      if (stats?.isFile() === true) files.push({ runId: match[1]!, path, size: stats.size, mtimeMs: stats.mtimeMs });
    }
    return files;
  }

  /** Run ids any live engine (this one included) has open. */
  private openEverywhere(): Set<string> {
    const open = new Set(this.runs.keys());
    let names: string[] = [];
    try {
      names = readdirSync(this.folder);
    } catch {
      return open;
    }
    for (const name of names) {
      const match = OPEN_LIST.exec(name);
      const path = join(this.folder, name);
      if (match === null || path === this.openList) continue;
      if (!processAlive(Number(match[1]))) {
        rmSync(path, { force: true });
        continue;
      }
      try {
        const ids = readJsonFile(path, 'settings');
        if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') open.add(id);
      } catch {
        // unreadable list of a live engine: keep everything to be safe
        for (const file of this.autosaveFiles()) open.add(file.runId);
      }
    }
    return open;
  }

  /**
   * Removes autosaves of runs no engine has open, oldest first, until the
   * folder fits the disk budget. Returns the number of files removed.
   */
  pruneAutosaves(): number {
    const files = this.autosaveFiles();
    let total = files.reduce((sum, file) => sum + file.size, 0);
    if (total <= this.budgets.diskBytes) return 0;
    const open = this.openEverywhere();
    let removed = 0;
    for (const file of files.filter((f) => !open.has(f.runId)).sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= this.budgets.diskBytes) break;
      rmSync(file.path, { force: true });
      total -= file.size;
      removed++;
    }
    if (total > this.budgets.diskBytes) {
      this.onNotice(`Autosaved runs take ${Math.round(total / 2 ** 20)} MB, over the ${Math.round(this.budgets.diskBytes / 2 ** 20)} MB budget, but all belong to open runs; close some runs to free space.`);
    }
    return removed;
  }

  /** Keeps runs/.open-<pid>.json (the runs this engine has open) current. */
  private writeOpenList(): void {
    const path = this.openList;
    try {
      if (this.runs.size === 0) {
        rmSync(path, { force: true });
        return;
      }
      // Rename over the old list, but without fsync: it only matters while this process lives.
      mkdirSync(this.folder, { recursive: true });
      const temporary = temporaryPath(path);
      writeFileSync(temporary, JSON.stringify([...this.runs.keys()]));
      renameSync(temporary, path);
    } catch {
      // best effort: without the list, another engine's pruning could remove this one's autosaves, never its memory
    }
  }

  dispose(): void {
    rmSync(this.openList, { force: true });
  }
}
