/**
 * What the studio shows around the work: the view (tab), the open dialog, a
 * confirmation waiting for an answer, and the enlarged image or comparison.
 * Commands (lib/commands.ts) and components open them through here.
 */
import type { ImageSpec } from '../../../electron/engine/manifest';

export type Tab = 'studio' | 'variations' | 'theory';
export type Dialog = 'save' | 'open' | 'export' | 'shortcuts' | 'glossary' | 'add-model' | 'drop-image';

/** An image to show large, or a branch beside its parent. */
export type ZoomView =
  | { kind: 'image'; title: string; stack: Float32Array; index: number; image: ImageSpec; gain: number; shownAs?: ImageSpec | undefined; decodeOf?: { runId: string; which: 'xt' | 'x0Hat' } | undefined }
  | { kind: 'compare'; branchId: string };

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  /** A destructive action is drawn in the danger colour. */
  danger: boolean;
  answer: (ok: boolean) => void;
}

class Ui {
  tab = $state<Tab>('studio');
  dialog = $state<Dialog | null>(null);
  /** Save asks for a name and a file even when the session has one (Save as…). */
  saveAs = $state(false);
  confirmation = $state.raw<ConfirmRequest | null>(null);
  zoom = $state.raw<ZoomView | null>(null);

  open(dialog: Dialog): void {
    this.dialog = dialog;
  }

  close(): void {
    this.dialog = null;
  }

  /** Asks the user; resolves true when they confirm. */
  confirm(title: string, message: string, confirmLabel = 'OK', danger = false): Promise<boolean> {
    this.confirmation?.answer(false);
    return new Promise((resolve) => {
      this.confirmation = {
        title,
        message,
        confirmLabel,
        danger,
        answer: (ok) => {
          this.confirmation = null;
          resolve(ok);
        },
      };
    });
  }
}

export const ui = new Ui();
