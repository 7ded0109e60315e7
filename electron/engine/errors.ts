import type { ErrorCode, ErrorPayload } from '../api/contract';

/**
 * Text from outside (a file's bytes, a path, a name) made safe to put in a
 * one-line message: control characters (C0, DEL, C1) and bidirectional
 * overrides become "?", so a file cannot move a terminal's cursor, recolour
 * it or reorder what a user reads; long text is cut.
 */
export function quoteText(text: string, maxLength = 240): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean;
}

/**
 * The engine's one error type: a stable code, a sentence a user can act on,
 * and the offending values in `details` (shape, name, path).
 */
export class PainterError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    // Messages quote paths and file contents; none may carry a terminal escape (issue 9, item 7).
    super(quoteText(message, 2000));
    this.name = 'PainterError';
    this.code = code;
    this.details = details;
  }

  toPayload(): ErrorPayload {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * An operating-system error as a typed error with a sentence a user can act
 * on. `action` says what was being done ("read", "write", "create").
 */
export function fileError(path: string, error: unknown, action = 'read'): PainterError {
  if (error instanceof PainterError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const shown = quoteText(path);
  const details = { path, code: code ?? 'unknown' };
  switch (code) {
    case 'ENOENT':
      return new PainterError('BAD_FILE', `No such file or folder: ${shown}.`, details);
    case 'EISDIR':
      return new PainterError('BAD_FILE', `${shown} is a folder, not a file.`, details);
    case 'ENOTDIR':
      return new PainterError('BAD_FILE', `${shown}: a part of this path is a file, not a folder.`, details);
    case 'ENAMETOOLONG':
      return new PainterError('BAD_ARGUMENT', `The path ${quoteText(path, 80)} is too long for this file system; choose a shorter name.`, details);
    case 'EEXIST':
      return new PainterError('IO_ERROR', `${shown} already exists; choose another name.`, details);
    case 'EACCES':
    case 'EPERM':
      return new PainterError('IO_ERROR', `Permission denied: cannot ${action} ${shown}.`, details);
    case 'ELOOP':
      return new PainterError('BAD_FILE', `${shown} is a link that leads in a circle (or a link where none may be).`, details);
    case 'ENOSPC':
      return new PainterError('IO_ERROR', `The disk is full: cannot ${action} ${shown}.`, details);
    case 'EROFS':
      return new PainterError('IO_ERROR', `${shown} is on a read-only file system.`, details);
    case 'EMFILE':
    case 'ENFILE':
      return new PainterError('IO_ERROR', `Too many open files: cannot ${action} ${shown}; close something and try again.`, details);
    case 'EIO':
      return new PainterError('IO_ERROR', `The disk reported an error while trying to ${action} ${shown}.`, details);
    default:
      return new PainterError('IO_ERROR', `Cannot ${action} ${shown} (${code ?? quoteText((error as Error)?.message ?? String(error), 120)}).`, details);
  }
}

const SYSCALL_ACTIONS: Record<string, string> = { open: 'open', read: 'read', write: 'write', mkdir: 'create', rename: 'write', unlink: 'remove', rmdir: 'remove', scandir: 'list', stat: 'read', lstat: 'read', realpath: 'read', copyfile: 'write' };

/** Turns anything thrown into a payload fit for a user; unknown errors become INTERNAL. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof PainterError) return error.toPayload();
  // A raw system error (EISDIR, ENAMETOOLONG, EEXIST …) that escaped a loader still names its file and says what to do.
  const system = error as NodeJS.ErrnoException | null;
  if (system instanceof Error && typeof system.code === 'string' && /^E[A-Z0-9]+$/.test(system.code) && typeof system.syscall === 'string') {
    return fileError(typeof system.path === 'string' ? system.path : '(a file)', system, SYSCALL_ACTIONS[system.syscall] ?? 'use').toPayload();
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return { code: 'CANCELLED', message: 'The job was cancelled.' };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Internal error: ${quoteText(message, 2000)}` };
}

export function cancelledError(): PainterError {
  return new PainterError('CANCELLED', 'The job was cancelled.');
}

/** Throws CANCELLED if the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
