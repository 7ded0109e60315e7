/**
 * What the studio tells the user outside the controls: one error at a time
 * (the banner), never a stack trace.
 */
import { ApiError, type ClientErrorCode } from '../api';

export interface Notice {
  code: ClientErrorCode;
  message: string;
}

class Notices {
  error = $state<Notice | null>(null);

  /** Shows a failure; anything that is not an {@link ApiError} is reduced to its message. */
  report(error: unknown): void {
    if (error instanceof ApiError) {
      this.error = { code: error.code, message: error.message };
    } else {
      const message = error instanceof Error ? error.message : String(error);
      this.error = { code: 'INTERNAL', message: `Something went wrong in the studio: ${message}` };
    }
  }

  /** Clears the banner, or only a banner of the given code. */
  dismiss(code?: ClientErrorCode): void {
    if (code === undefined || this.error?.code === code) this.error = null;
  }
}

export const notices = new Notices();
