/**
 * Undo/redo for the studio: a stack of reversible actions (creating and
 * deleting runs and branches, renames, settings). Plain TypeScript, so its
 * logic is tested without a browser (tests/renderer/undo.test.ts).
 *
 * - A new action clears what could be redone.
 * - Changes to one setting in quick succession (typing a number, dragging a
 *   slider) merge into one step: same `coalesce` key within `coalesceMs`.
 * - Actions run while undoing or redoing are not recorded again.
 * - If an undo or redo fails (say, a run can no longer be brought back), the
 *   entry is dropped and the error passes to the caller to show; the rest of
 *   the history stays usable.
 */

export interface UndoAction {
  /** What the user did, for the menu and the status line: "Delete branch", "Steps 50 → 200". */
  label: string;
  undo: () => void | Promise<void>;
  redo: () => void | Promise<void>;
  /** Actions with the same key, pushed close together, merge (the first undo, the last redo). */
  coalesce?: string;
}

interface Entry extends UndoAction {
  at: number;
}

export class UndoStack {
  private done: Entry[] = [];
  private undone: Entry[] = [];
  private applying = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly limit = 200,
    private readonly coalesceMs = 1500,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get canUndo(): boolean {
    return this.done.length > 0 && !this.applying;
  }

  get canRedo(): boolean {
    return this.undone.length > 0 && !this.applying;
  }

  /** Label of what Undo would undo, or null. */
  get undoLabel(): string | null {
    return this.done.at(-1)?.label ?? null;
  }

  get redoLabel(): string | null {
    return this.undone.at(-1)?.label ?? null;
  }

  /** True while an undo or redo runs (its own side effects are not recorded). */
  get isApplying(): boolean {
    return this.applying;
  }

  /** Records an action the user just did (already applied). */
  push(action: UndoAction): void {
    if (this.applying) return;
    const time = this.now();
    const top = this.done.at(-1);
    if (top !== undefined && action.coalesce !== undefined && top.coalesce === action.coalesce && time - top.at <= this.coalesceMs) {
      this.done[this.done.length - 1] = { ...top, label: action.label, redo: action.redo, at: time };
    } else {
      this.done.push({ ...action, at: time });
      if (this.done.length > this.limit) this.done.shift();
    }
    this.undone = [];
    this.changed();
  }

  /** Undoes the last action; resolves to its label, or null when there was nothing to undo. */
  async undo(): Promise<string | null> {
    return this.apply(this.done, this.undone, 'undo');
  }

  async redo(): Promise<string | null> {
    return this.apply(this.undone, this.done, 'redo');
  }

  clear(): void {
    this.done = [];
    this.undone = [];
    this.changed();
  }

  /** Calls `listener` after every change of the stacks; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async apply(from: Entry[], to: Entry[], direction: 'undo' | 'redo'): Promise<string | null> {
    if (this.applying) return null;
    const entry = from.pop();
    if (entry === undefined) return null;
    this.applying = true;
    this.changed();
    try {
      await entry[direction]();
      // Once undone, an entry must not merge with the next action of the same setting.
      to.push({ ...entry, at: -Infinity });
      return entry.label;
    } finally {
      this.applying = false;
      this.changed();
    }
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
