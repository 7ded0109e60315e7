/**
 * The studio's undo history (lib/undo.ts) made reactive, with its outcomes
 * told to the user: "Undone: delete branch", or why it could not be.
 */
import { UndoStack, type UndoAction } from '../undo';
import { notices } from './notices.svelte';

class History {
  private readonly stack = new UndoStack();
  /** Bumped on every change of the stack, so the getters below are reactive. */
  private version = $state(0);

  constructor() {
    this.stack.subscribe(() => this.version++);
  }

  get canUndo(): boolean {
    void this.version;
    return this.stack.canUndo;
  }

  get canRedo(): boolean {
    void this.version;
    return this.stack.canRedo;
  }

  get undoLabel(): string | null {
    void this.version;
    return this.stack.undoLabel;
  }

  get redoLabel(): string | null {
    void this.version;
    return this.stack.redoLabel;
  }

  /** True while an undo or redo is being applied: changes it makes are not recorded. */
  get applying(): boolean {
    return this.stack.isApplying;
  }

  record(action: UndoAction): void {
    this.stack.push(action);
  }

  async undo(): Promise<void> {
    try {
      const label = await this.stack.undo();
      if (label !== null) notices.say(`Undone: ${label}`);
    } catch (error) {
      notices.report(error);
    }
  }

  async redo(): Promise<void> {
    try {
      const label = await this.stack.redo();
      if (label !== null) notices.say(`Redone: ${label}`);
    } catch (error) {
      notices.report(error);
    }
  }

  clear(): void {
    this.stack.clear();
  }
}

export const history = new History();
