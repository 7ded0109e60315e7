/**
 * The one way the engine reads a file (issue 9): regular files only, each
 * kind of file with a size cap, and every failure a typed, one-line error
 * that names the file and never quotes its bytes.
 *
 * A FIFO, a socket, a device such as /dev/zero, or a folder is refused before
 * a byte is read and without blocking: the file is opened with O_NONBLOCK
 * (a FIFO with no writer then opens at once) and checked with fstat on the
 * same descriptor, so nothing can be swapped in between the check and the read.
 * Where O_NONBLOCK does not exist (Windows) the path is stat'ed first.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileError, PainterError, quoteText } from './errors';

export { quoteText };

/** What a file is, which sets its size cap and how errors describe it. */
export type FileKind =
  | 'manifest'
  | 'session'
  | 'settings'
  | 'judge'
  | 'run'
  | 'safetensors'
  | 'onnx'
  | 'json'
  | 'image'
  | 'output';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Largest file of each kind, and the header cap of a safetensors file. Chosen
 * to be far above any real file (the bundled manifests are ~2 KB, a 1,000-step
 * session ~100 KB, the largest bundled statistics 31 MB) and far below what
 * would exhaust a desktop's memory.
 */
export const FILE_CAPS: Readonly<Record<FileKind, { bytes: number; what: string }>> = {
  manifest: { bytes: 1 * MiB, what: 'a model manifest' },
  session: { bytes: 16 * MiB, what: 'a session file' },
  settings: { bytes: 1 * MiB, what: 'a settings file' },
  judge: { bytes: 1 * MiB, what: 'a judge description' },
  json: { bytes: 16 * MiB, what: 'a JSON file' },
  run: { bytes: 2 * GiB, what: 'a run file' },
  safetensors: { bytes: 2 * GiB, what: 'a safetensors file' },
  onnx: { bytes: 16 * GiB, what: 'an ONNX model' },
  image: { bytes: 256 * MiB, what: 'an image' },
  output: { bytes: 256 * MiB, what: 'an output file' },
};

/** A safetensors header (JSON) is at most this long. */
export const MAX_SAFETENSORS_HEADER = 100 * MiB;
/** A run's header is small (settings and a branch description); 16 MB is generous. */
export const MAX_RUN_HEADER = 16 * MiB;

function megabytes(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GB` : bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

export { fileError };

function checkStats(path: string, stats: Stats, kind: FileKind): void {
  const { bytes, what } = FILE_CAPS[kind];
  if (stats.isDirectory()) throw new PainterError('BAD_FILE', `${quoteText(path)} is a folder; expected ${what}.`, { path, kind });
  if (!stats.isFile()) {
    const type = stats.isFIFO() ? 'a pipe (FIFO)' : stats.isSocket() ? 'a socket' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a regular file';
    throw new PainterError('BAD_FILE', `${quoteText(path)} is ${type}; Painter reads only regular files (expected ${what}).`, { path, kind });
  }
  if (stats.size > bytes) {
    throw new PainterError('BAD_FILE', `${quoteText(path)} is ${megabytes(stats.size)}; ${what} can be at most ${megabytes(bytes)}.`, { path, kind, size: stats.size, cap: bytes });
  }
}

const NONBLOCK = (constants as { O_NONBLOCK?: number }).O_NONBLOCK;
const NOFOLLOW = (constants as { O_NOFOLLOW?: number }).O_NOFOLLOW;

/** An open regular file, checked for its kind; read it with {@link readAt}, then close it. */
export class CheckedFile {
  private constructor(
    readonly path: string,
    readonly fd: number,
    readonly size: number,
    readonly kind: FileKind,
  ) {}

  /**
   * Opens `path` for reading if it is a regular file within the cap of its
   * kind. `followLinks: false` refuses a symlink itself (ELOOP).
   */
  static open(path: string, kind: FileKind, options: { followLinks?: boolean } = {}): CheckedFile {
    const followLinks = options.followLinks ?? true;
    let fd: number;
    try {
      if (NONBLOCK === undefined) checkStats(path, statSync(path), kind); // no O_NONBLOCK: look before opening
      const flags = constants.O_RDONLY | (NONBLOCK ?? 0) | (!followLinks && NOFOLLOW !== undefined ? NOFOLLOW : 0);
      fd = openSync(path, flags);
    } catch (error) {
      throw fileError(path, error);
    }
    try {
      const stats = fstatSync(fd);
      checkStats(path, stats, kind);
      return new CheckedFile(path, fd, stats.size, kind);
    } catch (error) {
      closeSync(fd);
      throw fileError(path, error);
    }
  }

  /** Fills `target` from `position`; a short read means the file changed under us. */
  readInto(target: Uint8Array, position: number): void {
    let done = 0;
    try {
      while (done < target.length) {
        const n = readSync(this.fd, target, done, target.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (error) {
      throw fileError(this.path, error);
    }
    if (done !== target.length) {
      throw new PainterError('BAD_FILE', `${quoteText(this.path)} became shorter while it was read; was it being written?`, { path: this.path });
    }
  }

  read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    this.readInto(buffer, position);
    return buffer;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/** The whole of a regular file of `kind` (refused beyond its cap before anything is allocated). */
export function readRegularFile(path: string, kind: FileKind, options: { followLinks?: boolean } = {}): Buffer {
  const file = CheckedFile.open(path, kind, options);
  try {
    return file.read(0, file.size);
  } finally {
    file.close();
  }
}

/** A regular file of `kind` as UTF-8 text. */
export function readTextFile(path: string, kind: FileKind, options: { followLinks?: boolean } = {}): string {
  const bytes = readRegularFile(path, kind, options);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PainterError('BAD_FILE', `${quoteText(path)} is not UTF-8 text; expected ${FILE_CAPS[kind].what}.`, { path, kind });
  }
}

/**
 * A regular file of `kind` parsed as JSON. A syntax error is reported by
 * position only: JSON.parse's own message quotes the file's bytes.
 */
export function readJsonFile(path: string, kind: FileKind, options: { followLinks?: boolean } = {}): unknown {
  const text = readTextFile(path, kind, options);
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new PainterError('BAD_FILE', `${quoteText(path)} is not valid JSON${position !== undefined ? ` (at byte ${position})` : ''}; expected ${FILE_CAPS[kind].what}.`, { path, kind });
  }
}

/**
 * Checks, without reading it, that `path` is a regular file within the cap of
 * its kind (for files another library opens by path, e.g. ONNX models).
 */
export function checkRegularFile(path: string, kind: FileKind): number {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw fileError(path, error);
  }
  checkStats(path, stats, kind);
  return stats.size;
}

/**
 * Atomic writes go through `<target>.tmp-<pid>-<8 hex>` in the target's folder
 * (writeFileAtomic). A killed process leaves such a file behind; these
 * helpers name it and clean it up.
 */
const TEMPORARY = /^(.+)\.tmp-(\d{1,10})-([0-9a-f]{8})$/;

export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Whether a process with this id is running (ours always is). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/**
 * Removes the temporary files that killed writers left in `folder`: only
 * regular files whose name is Painter's temporary pattern, whose writer
 * process is gone (or that are older than a day, should its pid have been
 * reused), and — when `targets` is given — that would have become one of
 * those names. Never follows links, never touches anything else. Returns the
 * names removed.
 */
export function cleanStaleTemporaries(folder: string, targets?: (name: string) => boolean): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return removed;
  }
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (match === null || (targets !== undefined && !targets(match[1]!))) continue;
    const path = join(folder, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isFile()) continue;
      if (processAlive(Number(match[2])) && stats.mtimeMs > dayAgo) continue;
      unlinkSync(path);
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
