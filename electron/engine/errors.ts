import type { ErrorCode, ErrorPayload } from '../api/contract';

/**
 * The engine's one error type: a stable code, a sentence a user can act on,
 * and the offending values in `details` (shape, name, path).
 */
export class PainterError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
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

/** Turns anything thrown into a payload fit for a user; unknown errors become INTERNAL. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof PainterError) return error.toPayload();
  if (error instanceof Error && error.name === 'AbortError') {
    return { code: 'CANCELLED', message: 'The job was cancelled.' };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Internal error: ${message}` };
}

export function cancelledError(): PainterError {
  return new PainterError('CANCELLED', 'The job was cancelled.');
}

/** Throws CANCELLED if the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
