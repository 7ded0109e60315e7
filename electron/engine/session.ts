/**
 * Sessions (DESIGN.md §1.6): a session file `name.painter` (JSON) that lists
 * its runs, each a Painter run file (safetensors, runs.ts) in the folder
 * `name-runs/` beside it, so Python users can load every run directly.
 *
 * Saving writes every run atomically first and the session file last, so a
 * crash leaves the previous session file pointing at complete run files.
 * Run files that the previous save listed and the new one does not are removed
 * afterwards, and only when their header proves them Painter's run files;
 * nothing else in the folder is ever touched.
 * The studio also keeps a list of recently saved or opened sessions.
 */
import { existsSync, lstatSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { DroppedFile, RecentSession, RunSummary, SessionResults, SessionRun } from '../api/contract';
import { PainterError } from './errors';
import { cleanStaleTemporaries, quoteText, readJsonFile, readRegularFile, readTextFile } from './files';
import { emptyResults, isResultsFile, parseResults, resultCount, RESULTS_FILE, serializeResults } from './results';
import { parseRun, readRun, runIdOfFile, writeRun, type RunRecord } from './runs';
import { writeFileAtomic } from './safetensors';

export const SESSION_FORMAT = 'painter.session/1';
export const SESSION_EXTENSION = '.painter';
const RECENT_FILE = 'recent-sessions.json';
const MAX_RECENT = 12;
const RUN_FILE = /^[A-Za-z0-9-]{1,128}\.safetensors$/;

interface SessionFile {
  format: string;
  name: string;
  savedAt: string;
  runs: SessionRun[];
  current: { runId: string; step: number } | null;
  /** The results file (variation grids, 3-D views, charts), relative to the session's folder; absent when there are none. */
  results?: string;
}

/** The folder of a session's runs: `dir/name-runs/` for `dir/name.painter`. */
export function sessionRunsFolder(path: string): string {
  return join(dirname(path), `${basename(path, SESSION_EXTENSION)}-runs`);
}

function checkSessionPath(path: string): void {
  if (!path.endsWith(SESSION_EXTENSION) || basename(path) === SESSION_EXTENSION) {
    throw new PainterError('BAD_ARGUMENT', `A session file's name must end in ${SESSION_EXTENSION}; got ${path}.`, { path });
  }
}

function notASession(path: string, reason: string): PainterError {
  return new PainterError('BAD_FILE', `${quoteText(path)} is not a Painter session: ${reason}.`, { path });
}

/** More runs than this in one session is not a session the studio made (and would not fit in memory). */
export const MAX_SESSION_RUNS = 10_000;

function readSessionFile(path: string): SessionFile {
  return parseSessionText(readTextFile(path, 'session'), path);
}

function parseSessionText(text: string, path: string): SessionFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw notASession(path, 'it is not JSON');
  }
  if (json === null || typeof json !== 'object' || (json as { format?: unknown }).format !== SESSION_FORMAT) {
    throw notASession(path, `it is not in format ${SESSION_FORMAT}`);
  }
  const file = json as Partial<SessionFile>;
  if (!Array.isArray(file.runs) || file.runs.some((run) => typeof run?.runId !== 'string' || typeof run?.file !== 'string' || run.file.length > 4096)) {
    throw notASession(path, 'its list of runs is malformed');
  }
  if (file.runs.length > MAX_SESSION_RUNS) throw notASession(path, `it lists ${file.runs.length} runs; a session holds at most ${MAX_SESSION_RUNS}`);
  // A run listed twice would be read twice (a small file could ask for any amount of memory).
  const ids = new Set<string>();
  const files = new Set<string>();
  for (const run of file.runs) {
    if (ids.has(run.runId)) throw notASession(path, `it lists run ${quoteText(run.runId, 64)} more than once`);
    if (files.has(run.file)) throw notASession(path, `it lists the file ${quoteText(run.file, 120)} more than once`);
    ids.add(run.runId);
    files.add(run.file);
  }
  const current = file.current;
  const validCurrent = current !== null && typeof current === 'object' && typeof current.runId === 'string' && Number.isInteger(current.step);
  if (file.results !== undefined && (typeof file.results !== 'string' || file.results.length === 0 || file.results.length > 4096)) {
    throw notASession(path, 'its results entry is malformed');
  }
  return {
    format: SESSION_FORMAT,
    name: typeof file.name === 'string' ? file.name.slice(0, 200) : basename(path, SESSION_EXTENSION),
    savedAt: typeof file.savedAt === 'string' ? file.savedAt.slice(0, 64) : '',
    runs: file.runs.map((run) => ({ runId: run.runId, file: run.file })),
    current: validCurrent ? { runId: current.runId, step: current.step } : null,
    ...(file.results !== undefined ? { results: file.results } : {}),
  };
}

export interface SavedSession {
  path: string;
  name: string;
  savedAt: string;
  runCount: number;
}

/**
 * Writes the runs and the session file at `path` (absolute). Refuses to replace
 * a file that exists and is not a Painter session. `runs` is an array, or run
 * ids with a loader that is called once per run as it is written, so a session
 * of many runs never needs them all in memory at once (issue 9, item 6).
 */
export function saveSession(
  path: string,
  name: string,
  runs: readonly RunRecord[] | { runIds: readonly string[]; load: (runId: string) => RunRecord },
  current: SessionFile['current'],
  results: SessionResults = emptyResults(),
): SavedSession {
  const runIds = Array.isArray(runs) ? runs.map((run) => run.summary.runId) : (runs as { runIds: readonly string[] }).runIds;
  const load = Array.isArray(runs) ? (_runId: string, i: number): RunRecord => runs[i]! : (runId: string): RunRecord => (runs as { load: (runId: string) => RunRecord }).load(runId);
  checkSessionPath(path);
  // Throws BAD_FILE for someone else's file: never overwrite it.
  const previous = existsSync(path) ? readSessionFile(path) : null;
  const folder = sessionRunsFolder(path);
  if (existsSync(folder) && !lstatSync(folder).isDirectory()) {
    throw new PainterError('BAD_FILE', `${folder} is not a plain folder (a file or a link); Painter keeps a session's runs there, so it will not write through it.`, { path: folder });
  }
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new PainterError('IO_ERROR', `Cannot create ${folder} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, { path: folder });
  }
  // Temporary files of a save that was killed half-way (its run files or the session file) go first.
  cleanStaleTemporaries(folder, (name) => RUN_FILE.test(name) || name === RESULTS_FILE);
  const entries: SessionRun[] = runIds.map((runId, i) => {
    const file = `${runId}.safetensors`;
    if (!RUN_FILE.test(file)) throw new PainterError('BAD_ARGUMENT', `Run id "${quoteText(runId, 64)}" cannot name a file.`);
    const target = join(folder, file);
    if (existsSync(target) && runIdOfFile(target) !== runId) {
      throw new PainterError('BAD_FILE', `${target} exists and is not this session's run ${runId}; refusing to overwrite it.`, { path: target });
    }
    writeRun(target, load(runId, i));
    return { runId, file: relative(dirname(path), join(folder, file)).split(sep).join('/') };
  });
  // Results go beside the runs, before the session file that points at them (same crash argument).
  const resultsPath = join(folder, RESULTS_FILE);
  const hasResults = resultCount(results) > 0;
  if (existsSync(resultsPath) && !isResultsFile(resultsPath)) {
    if (hasResults) throw new PainterError('BAD_FILE', `${resultsPath} exists and is not a Painter results file; refusing to overwrite it.`, { path: resultsPath });
  } else if (hasResults) {
    writeFileAtomic(resultsPath, serializeResults(results));
  }
  const session: SessionFile = { format: SESSION_FORMAT, name, savedAt: new Date().toISOString(), runs: entries, current };
  if (hasResults) session.results = relative(dirname(path), resultsPath).split(sep).join('/');
  writeFileAtomic(path, Buffer.from(JSON.stringify(session, null, 2) + '\n', 'utf-8'));
  // No results this time: the previous save's results file (proved ours by its header) goes.
  if (!hasResults && previous?.results !== undefined && resolve(dirname(path), previous.results) === resultsPath && isResultsFile(resultsPath)) {
    rmSync(resultsPath, { force: true });
  }

  // Only now, with the new session file in place, drop the run files that the previous version of
  // this session listed and this one does not — and only those that prove to be Painter's own run
  // files for that run (a regular file whose header names it). Anything else in the folder is the
  // user's and stays, byte for byte.
  const kept = new Set(entries.map((entry) => entry.runId));
  for (const entry of previous?.runs ?? []) {
    if (kept.has(entry.runId)) continue;
    const file = join(folder, `${entry.runId}.safetensors`);
    if (!RUN_FILE.test(basename(file)) || resolve(dirname(path), entry.file) !== file) continue;
    if (runIdOfFile(file) === entry.runId) rmSync(file, { force: true });
  }
  return { path, name, savedAt: session.savedAt, runCount: entries.length };
}

export interface OpenedSession extends SavedSession {
  runs: RunRecord[];
  /** The file each run was read from (same order as `runs`). */
  files: string[];
  current: SessionFile['current'];
  results: SessionResults;
}

function dimsOf(runs: readonly RunRecord[]): Map<string, number> {
  return new Map(runs.map((run) => [run.summary.runId, run.image.channels * run.image.height * run.image.width]));
}

/** The real path of `path` (links followed), or null when it does not exist. */
function realPathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function isInside(folder: string, path: string): boolean {
  const inside = relative(folder, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

/**
 * Reads a session file and every run it lists. Each run must be where the
 * file says, inside the session's folder (also after following links), and
 * carry its id.
 */
export function openSession(path: string): OpenedSession {
  checkSessionPath(path);
  const file = readSessionFile(path);
  const base = dirname(path);
  const realBase = realPathOrNull(base) ?? base;
  const files: string[] = [];
  const runs = file.runs.map((entry) => {
    const runPath = resolve(base, entry.file);
    files.push(runPath);
    if (!isInside(base, runPath)) throw notASession(path, `run file ${quoteText(entry.file, 120)} lies outside the session's folder`);
    const real = realPathOrNull(runPath);
    if (real !== null && !isInside(realBase, real)) throw notASession(path, `run file ${quoteText(entry.file, 120)} is a link that leads outside the session's folder`);
    const run = readRun(runPath);
    if (run.summary.runId !== entry.runId) throw notASession(path, `${quoteText(entry.file, 120)} holds run ${run.summary.runId}, not ${quoteText(entry.runId, 64)}`);
    return run;
  });
  const ids = new Set(runs.map((run) => run.summary.runId));
  const current = file.current !== null && ids.has(file.current.runId) ? file.current : null;
  let results = emptyResults();
  if (file.results !== undefined) {
    const resultsPath = resolve(base, file.results);
    if (!isInside(base, resultsPath)) throw notASession(path, `results file ${quoteText(file.results, 120)} lies outside the session's folder`);
    const real = realPathOrNull(resultsPath);
    if (real !== null && !isInside(realBase, real)) throw notASession(path, `results file ${quoteText(file.results, 120)} is a link that leads outside the session's folder`);
    results = parseResults(readRegularFile(resultsPath, 'safetensors'), resultsPath, dimsOf(runs));
  }
  return { path, name: file.name, savedAt: file.savedAt, runCount: runs.length, runs, files, current, results };
}

/**
 * A session the user dropped on the studio: the session file's bytes and the
 * run files (and results file) dropped with it, matched by file name. Nothing
 * is read from disk. The path reported is the dropped file's name.
 */
export function importSession(session: DroppedFile, files: readonly DroppedFile[]): OpenedSession {
  const name = session.name;
  if (!name.endsWith(SESSION_EXTENSION)) throw new PainterError('BAD_ARGUMENT', `A session file's name ends in ${SESSION_EXTENSION}; got ${name}.`, { name });
  const file = parseSessionText(new TextDecoder('utf-8').decode(session.bytes), name);
  const byName = new Map(files.map((entry) => [basename(entry.name), entry]));
  const runs = file.runs.map((entry) => {
    const dropped = byName.get(basename(entry.file));
    if (dropped === undefined) {
      throw new PainterError(
        'BAD_FILE',
        `${quoteText(name, 120)} needs its run file ${quoteText(entry.file, 120)}: drop the session file together with its folder ${basename(name, SESSION_EXTENSION)}-runs (or the run files in it).`,
        { path: entry.file },
      );
    }
    const run = parseRun(dropped.bytes, dropped.name);
    if (run.summary.runId !== entry.runId) throw notASession(name, `${quoteText(entry.file, 120)} holds run ${run.summary.runId}, not ${quoteText(entry.runId, 64)}`);
    return run;
  });
  const ids = new Set(runs.map((run) => run.summary.runId));
  const current = file.current !== null && ids.has(file.current.runId) ? file.current : null;
  const resultsFile = file.results !== undefined ? byName.get(basename(file.results)) : undefined;
  const results = resultsFile !== undefined ? parseResults(resultsFile.bytes, resultsFile.name, dimsOf(runs)) : emptyResults();
  return { path: name, name: file.name, savedAt: file.savedAt, runCount: runs.length, runs, files: [], current, results };
}

export function summaries(runs: readonly RunRecord[]): RunSummary[] {
  return runs.map((run) => run.summary);
}

/** Recently saved or opened sessions, newest first, only those whose file still exists. */
export function listRecentSessions(userDataDir: string): RecentSession[] {
  const path = join(userDataDir, RECENT_FILE);
  if (!existsSync(path)) return [];
  try {
    const value = readJsonFile(path, 'settings');
    if (!Array.isArray(value)) return [];
    return value
      .slice(0, MAX_RECENT)
      .filter(
        (entry): entry is RecentSession =>
          entry !== null &&
          typeof entry === 'object' &&
          typeof entry.path === 'string' &&
          entry.path.length <= 4096 &&
          typeof entry.name === 'string' &&
          typeof entry.savedAt === 'string' &&
          typeof entry.runCount === 'number',
      )
      .map((entry) => ({ path: entry.path, name: entry.name.slice(0, 200), savedAt: entry.savedAt.slice(0, 64), runCount: entry.runCount }))
      .filter((entry) => existsSync(entry.path));
  } catch {
    return []; // a damaged list is only a convenience lost
  }
}

export function rememberSession(userDataDir: string, session: SavedSession): void {
  const entry: RecentSession = { path: session.path, name: session.name, savedAt: session.savedAt, runCount: session.runCount };
  const list = [entry, ...listRecentSessions(userDataDir).filter((other) => other.path !== session.path)].slice(0, MAX_RECENT);
  mkdirSync(userDataDir, { recursive: true });
  writeFileAtomic(join(userDataDir, RECENT_FILE), Buffer.from(JSON.stringify(list, null, 2) + '\n', 'utf-8'));
}
