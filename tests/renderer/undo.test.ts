import { describe, expect, it } from 'vitest';
import { UndoStack } from '../../renderer/lib/undo';

/** A value with a recorded setter, as the studio's settings are. */
function counter(stack: UndoStack, coalesce?: string) {
  const state = { value: 0 };
  const set = (next: number): void => {
    const before = state.value;
    state.value = next;
    stack.push({ label: `value ${before} → ${next}`, undo: () => void (state.value = before), redo: () => void (state.value = next), ...(coalesce ? { coalesce } : {}) });
  };
  return { state, set };
}

describe('undo stack', () => {
  it('undoes and redoes in order, and a new action clears what could be redone', async () => {
    const stack = new UndoStack();
    const { state, set } = counter(stack);
    set(1);
    set(2);
    set(3);
    expect(await stack.undo()).toBe('value 2 → 3');
    expect(await stack.undo()).toBe('value 1 → 2');
    expect(state.value).toBe(1);
    expect(stack.redoLabel).toBe('value 1 → 2');
    expect(await stack.redo()).toBe('value 1 → 2');
    expect(state.value).toBe(2);
    set(7);
    expect(stack.canRedo).toBe(false);
    expect(await stack.redo()).toBeNull();
    expect(await stack.undo()).toBe('value 2 → 7');
    expect(state.value).toBe(2);
  });

  it('merges quick changes of one setting into one step, but not after an undo or a pause', async () => {
    let now = 0;
    const stack = new UndoStack(100, 1000, () => now);
    const { state, set } = counter(stack, 'steps');
    for (const value of [1, 10, 100]) {
      now += 200;
      set(value);
    }
    expect(stack.undoLabel).toBe('value 10 → 100');
    await stack.undo();
    expect(state.value).toBe(0); // the whole burst at once
    await stack.redo();
    expect(state.value).toBe(100);
    now += 100;
    set(5); // right after a redo: a step of its own
    await stack.undo();
    expect(state.value).toBe(100);
    now += 5000;
    set(6);
    now += 5000;
    set(7); // after a pause: separate
    await stack.undo();
    expect(state.value).toBe(6);
  });

  it('does not record what undo and redo do themselves', async () => {
    const stack = new UndoStack();
    const { state, set } = counter(stack);
    const echo = { label: 'echo', undo: () => set(-1), redo: () => set(1) };
    stack.push(echo);
    await stack.undo();
    expect(state.value).toBe(-1);
    expect(stack.canUndo).toBe(false); // the set() inside undo was not pushed
    expect(stack.redoLabel).toBe('echo');
  });

  it('drops an entry whose undo fails, passes the error on, and keeps the rest', async () => {
    const stack = new UndoStack();
    const { state, set } = counter(stack);
    set(1);
    stack.push({ label: 'delete run', undo: () => Promise.reject(new Error('gone')), redo: () => {} });
    await expect(stack.undo()).rejects.toThrow('gone');
    expect(stack.undoLabel).toBe('value 0 → 1');
    expect(stack.canRedo).toBe(false);
    await stack.undo();
    expect(state.value).toBe(0);
  });

  it('keeps at most its limit of steps, and tells listeners about every change', async () => {
    const stack = new UndoStack(3);
    let changes = 0;
    stack.subscribe(() => changes++);
    const { set } = counter(stack);
    for (let i = 1; i <= 5; i++) set(i);
    expect(changes).toBe(5);
    let undone = 0;
    while ((await stack.undo()) !== null) undone++;
    expect(undone).toBe(3);
  });
});
