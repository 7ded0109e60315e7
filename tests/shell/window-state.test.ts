/** The window's size and position across restarts, and never off-screen. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWindowState, restorableBounds, WINDOW_STATE_FILE, writeWindowState } from '../../electron/shell/window-state';

const laptop = { x: 0, y: 0, width: 1440, height: 875 };
const monitorRight = { x: 1440, y: 0, width: 2560, height: 1415 };

describe('window state', () => {
  it('round-trips through the data folder; a missing or foreign file reads as none', () => {
    const folder = mkdtempSync(join(tmpdir(), 'painter-window-'));
    expect(readWindowState(folder)).toBeNull();
    const state = { bounds: { x: 100, y: 80, width: 1300, height: 820 }, maximized: true, fullScreen: false };
    writeWindowState(folder, state);
    expect(readWindowState(folder)).toEqual(state);
    writeFileSync(join(folder, WINDOW_STATE_FILE), '{"bounds": "huge"}');
    expect(readWindowState(folder)).toBeNull();
    writeFileSync(join(folder, WINDOW_STATE_FILE), 'not json');
    expect(readWindowState(folder)).toBeNull();
  });

  it('restores bounds whose title bar is on a display, on any monitor', () => {
    expect(restorableBounds({ x: 100, y: 80, width: 1300, height: 820 }, [laptop])).toEqual({ x: 100, y: 80, width: 1300, height: 820 });
    expect(restorableBounds({ x: 2000, y: 100, width: 1600, height: 1000 }, [laptop, monitorRight])).toEqual({ x: 2000, y: 100, width: 1600, height: 1000 });
  });

  it('drops bounds left on an unplugged monitor, or with the title bar above every screen', () => {
    expect(restorableBounds({ x: 2000, y: 100, width: 1600, height: 1000 }, [laptop])).toBeNull();
    expect(restorableBounds({ x: 100, y: -400, width: 1300, height: 820 }, [laptop])).toBeNull();
    // 99 px of title bar on screen is not enough to grab: the threshold is 100 × 50 px.
    expect(restorableBounds({ x: 1341, y: 0, width: 1300, height: 820 }, [laptop])).toBeNull();
    expect(restorableBounds({ x: 1340, y: 0, width: 1300, height: 820 }, [laptop])).not.toBeNull();
    expect(restorableBounds(null, [laptop])).toBeNull();
  });

  it('never restores below the minimum size, and rounds fractional bounds', () => {
    expect(restorableBounds({ x: 10.4, y: 20.6, width: 300, height: 200 }, [laptop])).toEqual({ x: 10, y: 21, width: 960, height: 600 });
  });
});
