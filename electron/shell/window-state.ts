/**
 * The studio window's size and position, restored at the next start
 * (userData/window-state.json). Bounds that would put the window off every
 * display (a monitor unplugged since) are dropped, so it never opens out of
 * sight. No Electron import: main.ts passes the displays' work areas in.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../engine/safetensors';

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Rectangle;
  maximized: boolean;
  fullScreen: boolean;
}

export const WINDOW_STATE_FILE = 'window-state.json';
export const DEFAULT_SIZE = { width: 1280, height: 800 } as const;
export const MIN_SIZE = { width: 960, height: 600 } as const;

function isRectangle(value: unknown): value is Rectangle {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  return ['x', 'y', 'width', 'height'].every((key) => typeof r[key] === 'number' && Number.isFinite(r[key] as number));
}

export function readWindowState(userDataDir: string): WindowState | null {
  const path = join(userDataDir, WINDOW_STATE_FILE);
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(readFileSync(path, 'utf-8')) as Record<string, unknown>;
    if (!isRectangle(value['bounds'])) return null;
    return { bounds: value['bounds'], maximized: value['maximized'] === true, fullScreen: value['fullScreen'] === true };
  } catch {
    return null;
  }
}

export function writeWindowState(userDataDir: string, state: WindowState): void {
  mkdirSync(userDataDir, { recursive: true });
  writeFileAtomic(join(userDataDir, WINDOW_STATE_FILE), new TextEncoder().encode(`${JSON.stringify(state)}\n`));
}

function overlap(a: Rectangle, b: Rectangle): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

/**
 * The bounds to open with: the saved ones, clamped to the minimum size, when
 * at least a 100×50 px patch of their top edge (where the title bar is) lies
 * on some display's work area; otherwise null (the default size, centred).
 */
export function restorableBounds(saved: Rectangle | null, workAreas: readonly Rectangle[]): Rectangle | null {
  if (saved === null) return null;
  const bounds = {
    x: Math.round(saved.x),
    y: Math.round(saved.y),
    width: Math.max(MIN_SIZE.width, Math.round(saved.width)),
    height: Math.max(MIN_SIZE.height, Math.round(saved.height)),
  };
  const titleBar = { x: bounds.x, y: bounds.y, width: bounds.width, height: 50 };
  const visible = workAreas.some((area) => overlap(titleBar, area) >= 100 * 50);
  return visible ? bounds : null;
}
