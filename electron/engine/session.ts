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
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { DroppedFile, RecentSession, RunSummary, SessionResults, SessionRun } from '../api/contract';
import { PainterError } from './errors';
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
  return new PainterError('BAD_FILE', `${path} is not a Painter session: ${reason}.`, { path });
}

function readSessionFile(path: string): SessionFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf-8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PainterError('BAD_FILE', code === 'ENOENT' ? `No such session file: ${path}.` : `Cannot read ${path} (${code ?? 'error'}).`, { path });
  }
  return parseSessionText(text, path);
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
  if (!Array.isArray(file.runs) || file.runs.some((run) => typeof run?.runId !== 'string' || typeof run?.file !== 'string')) {
    throw notASession(path, 'its list of runs is malformed');
  }
  const current = file.current;
  const validCurrent = current !== null && typeof current === 'object' && typeof current.runId === 'string' && Number.isInteger(current.step);
  if (file.results !== undefined && (typeof file.results !== 'string' || file.results.length === 0 || file.results.length > 4096)) {
    throw notASession(path, 'its results entry is malformed');
  }
  return {
    format: SESSION_FORMAT,
    name: typeof file.name === 'string' ? file.name : basename(path, SESSION_EXTENSION),
    savedAt: typeof file.savedAt === 'string' ? file.savedAt : '',
    runs: file.runs,
    current: validCurrent ? current : null,
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
 * Writes `runs` and the session file at `path` (absolute). Refuses to replace
 * a file that exists and is not a Painter session.
 */
export function saveSession(
  path: string,
  name: string,
  runs: readonly RunRecord[],
  current: SessionFile['current'],
  results: SessionResults = emptyResults(),
): SavedSession {
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
  const entries: SessionRun[] = runs.map((run) => {
    const file = `${run.summary.runId}.safetensors`;
    if (!RUN_FILE.test(file)) throw new PainterError('BAD_ARGUMENT', `Run id "${run.summary.runId}" cannot name a file.`);
    const target = join(folder, file);
    if (existsSync(target) && runIdOfFile(target) !== run.summary.runId) {
      throw new PainterError('BAD_FILE', `${target} exists and is not this session's run ${run.summary.runId}; refusing to overwrite it.`, { path: target });
    }
    writeRun(target, run);
    return { runId: run.summary.runId, file: relative(dirname(path), join(folder, file)).split(sep).join('/') };
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
  current: SessionFile['current'];
  results: SessionResults;
}

function dimsOf(runs: readonly RunRecord[]): Map<string, number> {
  return new Map(runs.map((run) => [run.summary.runId, run.image.channels * run.image.height * run.image.width]));
}

/** Reads a session file and every run it lists (each must be where the file says and carry its id). */
export function openSession(path: string): OpenedSession {
  checkSessionPath(path);
  const file = readSessionFile(path);
  const base = dirname(path);
  const runs = file.runs.map((entry) => {
    const runPath = resolve(base, entry.file);
    const inside = relative(base, runPath);
    if (inside === '' || inside.startsWith('..') || resolve(base, inside) !== runPath) throw notASession(path, `run file ${entry.file} lies outside the session's folder`);
    const run = readRun(runPath);
    if (run.summary.runId !== entry.runId) throw notASession(path, `${entry.file} holds run ${run.summary.runId}, not ${entry.runId}`);
    return run;
  });
  const ids = new Set(runs.map((run) => run.summary.runId));
  const current = file.current !== null && ids.has(file.current.runId) ? file.current : null;
  let results = emptyResults();
  if (file.results !== undefined) {
    const resultsPath = resolve(base, file.results);
    const inside = relative(base, resultsPath);
    if (inside === '' || inside.startsWith('..')) throw notASession(path, `results file ${file.results} lies outside the session's folder`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(resultsPath);
    } catch (error) {
      throw new PainterError('BAD_FILE', `${path} lists results in ${resultsPath}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, { path: resultsPath });
    }
    results = parseResults(bytes, resultsPath, dimsOf(runs));
  }
  return { path, name: file.name, savedAt: file.savedAt, runCount: runs.length, runs, current, results };
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
        `${name} needs its run file ${entry.file}: drop the session file together with its folder ${basename(name, SESSION_EXTENSION)}-runs (or the run files in it).`,
        { path: entry.file },
      );
    }
    const run = parseRun(dropped.bytes, dropped.name);
    if (run.summary.runId !== entry.runId) throw notASession(name, `${entry.file} holds run ${run.summary.runId}, not ${entry.runId}`);
    return run;
  });
  const ids = new Set(runs.map((run) => run.summary.runId));
  const current = file.current !== null && ids.has(file.current.runId) ? file.current : null;
  const resultsFile = file.results !== undefined ? byName.get(basename(file.results)) : undefined;
  const results = resultsFile !== undefined ? parseResults(resultsFile.bytes, resultsFile.name, dimsOf(runs)) : emptyResults();
  return { path: name, name: file.name, savedAt: file.savedAt, runCount: runs.length, runs, current, results };
}

export function summaries(runs: readonly RunRecord[]): RunSummary[] {
  return runs.map((run) => run.summary);
}

/** Recently saved or opened sessions, newest first, only those whose file still exists. */
export function listRecentSessions(userDataDir: string): RecentSession[] {
  const path = join(userDataDir, RECENT_FILE);
  if (!existsSync(path)) return [];
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf-8'));
    if (!Array.isArray(value)) return [];
    return value
      .filter(
        (entry): entry is RecentSession =>
          entry !== null &&
          typeof entry === 'object' &&
          typeof entry.path === 'string' &&
          typeof entry.name === 'string' &&
          typeof entry.savedAt === 'string' &&
          typeof entry.runCount === 'number',
      )
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
