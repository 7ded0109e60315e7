/**
 * Files and folders handed to the app from outside — a double-clicked
 * `.painter`, a path on the command line or to a second instance, a drop on
 * the window, File → Open… — sorted into what the studio can open. No Electron
 * import, so it is tested under plain Node.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { OpenedFileKind } from '../api/contract';

export const SESSION_EXTENSION = '.painter';
export const RUN_EXTENSION = '.safetensors';

/**
 * What a path holds: a session file, a run file, or a model folder (a
 * manifest.json, or a diffusers/Optimum folder's model_index.json); null for
 * anything else or a path that does not exist.
 */
export function classifyPath(path: string): OpenedFileKind | null {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return null;
  }
  if (stats.isDirectory()) {
    return existsSync(join(path, 'manifest.json')) || existsSync(join(path, 'model_index.json')) ? 'model-folder' : null;
  }
  if (!stats.isFile()) return null;
  const extension = extname(path).toLowerCase();
  if (extension === SESSION_EXTENSION) return 'session';
  if (extension === RUN_EXTENSION) return 'run';
  return null;
}

/**
 * The paths a command line names for the studio to open: every argument that
 * is not a switch and names something {@link classifyPath} knows, resolved
 * against the launching shell's folder. The executable (and, unpackaged, the
 * app folder) come first in Electron's argv and are skipped by being neither.
 */
export function pathsFromArgv(argv: readonly string[], cwd: string): string[] {
  const paths: string[] = [];
  for (const arg of argv.slice(1)) {
    if (arg.startsWith('-') || arg.trim() === '') continue;
    const path = resolve(cwd, arg);
    if (classifyPath(path) !== null && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

/** The sentence shown for a path the studio cannot open. */
export function cannotOpenMessage(path: string): string {
  return `Painter cannot open ${path}: it is not a session (${SESSION_EXTENSION}), a run (${RUN_EXTENSION}) or a model folder (with a manifest.json or model_index.json).`;
}
