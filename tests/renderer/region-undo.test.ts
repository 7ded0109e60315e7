import { describe, expect, it } from 'vitest';
import { history } from '../../renderer/lib/state/history.svelte';
import { region } from '../../renderer/lib/state/region.svelte';

describe('the region painted for local variations is undoable', () => {
  it('a drag is one undo step; clear and invert are one each; redo brings them back', async () => {
    history.clear();
    region.fit(8, 8);
    region.radius = 1;
    const before = region.beginStroke();
    region.paint([{ x: 2, y: 2 }]);
    region.paint([{ x: 3, y: 2 }]);
    region.endStroke(before);
    const painted = region.painted;
    expect(region.empty).toBe(false);
    expect(history.undoLabel).toBe('Paint region');

    region.invert();
    expect(history.undoLabel).toBe('Invert region');
    region.clear();
    expect(region.empty).toBe(true);

    await history.undo(); // clear
    expect(region.empty).toBe(false);
    await history.undo(); // invert
    expect(region.painted).toBe(painted);
    await history.undo(); // the whole drag
    expect(region.empty).toBe(true);
    expect(history.canUndo).toBe(false);

    await history.redo();
    expect(region.painted).toBe(painted);
  });

  it('a drag that changes nothing is not recorded', () => {
    history.clear();
    region.fit(8, 8);
    region.clear();
    history.clear();
    region.erasing = true;
    const before = region.beginStroke();
    region.endStroke(before);
    expect(history.canUndo).toBe(false);
    region.erasing = false;
  });
});
