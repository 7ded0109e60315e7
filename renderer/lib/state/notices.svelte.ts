/**
 * What the studio tells the user outside the controls: one error at a time
 * (the banner), never a stack trace; and short confirmations that go away by
 * themselves ("Saved to …", "Undone: delete branch").
 */
import { ApiError, type ClientErrorCode } from '../api';

export interface Notice {
  code: ClientErrorCode;
  message: string;
}

export interface Toast {
  id: number;
  message: string;
  /** A link to offer with it (a browser-mode download). */
  link?: { href: string; label: string; download?: string };
}

const TOAST_MS = 4000;

class Notices {
  error = $state<Notice | null>(null);
  toasts = $state.raw<Toast[]>([]);
  private nextId = 1;

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

  /** A confirmation that fades after a few seconds (longer when it carries a link). */
  say(message: string, link?: Toast['link']): void {
    const toast: Toast = { id: this.nextId++, message, ...(link ? { link } : {}) };
    this.toasts = [...this.toasts.slice(-2), toast];
    setTimeout(() => this.close(toast.id), link ? 3 * TOAST_MS : TOAST_MS);
  }

  close(id: number): void {
    this.toasts = this.toasts.filter((toast) => toast.id !== id);
  }
}

export const notices = new Notices();
