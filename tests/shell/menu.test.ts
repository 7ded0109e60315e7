/** The application menu's template: what each platform gets, and what each item does. */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { StudioCommand } from '../../electron/api/contract';
import { menuTemplate, type MenuContext } from '../../electron/shell/menu';

function context(overrides: Partial<MenuContext> = {}): MenuContext & { sent: StudioCommand[] } {
  const sent: StudioCommand[] = [];
  return {
    platform: 'linux',
    appName: 'Painter',
    packaged: true,
    recent: [],
    send: (command) => sent.push(command),
    openFile: vi.fn(),
    openRecent: vi.fn(),
    openDataFolder: vi.fn(),
    showAbout: vi.fn(),
    sent,
    ...overrides,
  };
}

const items = (menu: MenuItemConstructorOptions): MenuItemConstructorOptions[] => menu.submenu as MenuItemConstructorOptions[];
const labels = (menu: MenuItemConstructorOptions): string[] => items(menu).filter((item) => item.type !== 'separator').map((item) => item.label ?? `role:${item.role}`);
const find = (menu: MenuItemConstructorOptions, label: string): MenuItemConstructorOptions => items(menu).find((item) => item.label === label)!;
const click = (item: MenuItemConstructorOptions): void => (item.click as () => void)();

describe('application menu', () => {
  it('Windows and Linux: File, Edit, View, Help with every item the studio needs', () => {
    const [file, edit, view, help] = menuTemplate(context());
    expect(labels(file!)).toEqual(['New Session', 'Open…', 'Open Recent', 'Save', 'Save As…', 'Add Model Folder…', 'Export…', 'role:quit']);
    expect(labels(edit!)).toEqual(['Undo', 'Redo', 'role:cut', 'role:copy', 'role:paste', 'role:selectAll']);
    expect(labels(view!)).toEqual(['role:zoomIn', 'role:zoomOut', 'role:resetZoom', 'Toggle Light/Dark Theme', 'role:togglefullscreen']);
    expect(labels(help!)).toEqual(['Keyboard Shortcuts', 'Open Data Folder', 'About Painter']);
  });

  it('macOS: the app menu holds About and Quit, and a Window menu is added', () => {
    const template = menuTemplate(context({ platform: 'darwin' }));
    expect(template.map((menu) => menu.label ?? `role:${menu.role}`)).toEqual(['Painter', '&File', '&Edit', '&View', 'role:windowMenu', '&Help']);
    expect(labels(template[0]!)).toEqual(['About Painter', 'role:services', 'role:hide', 'role:hideOthers', 'role:unhide', 'role:quit']);
    expect(labels(template[1]!)).not.toContain('role:quit');
    expect(labels(template[5]!)).not.toContain('About Painter');
  });

  it('DevTools and reload only in development', () => {
    expect(labels(menuTemplate(context({ packaged: true }))[2]!)).not.toContain('role:toggleDevTools');
    expect(labels(menuTemplate(context({ packaged: false }))[2]!)).toEqual(expect.arrayContaining(['role:toggleDevTools', 'role:reload']));
  });

  it('items that need the studio send it commands', () => {
    const ctx = context();
    const [file, edit, view, help] = menuTemplate(ctx);
    for (const [menu, label] of [
      [file, 'New Session'],
      [file, 'Save'],
      [file, 'Save As…'],
      [file, 'Export…'],
      [file, 'Add Model Folder…'],
      [edit, 'Undo'],
      [edit, 'Redo'],
      [view, 'Toggle Light/Dark Theme'],
      [help, 'Keyboard Shortcuts'],
    ] as const) {
      click(find(menu!, label));
    }
    expect(ctx.sent).toEqual(['new-session', 'save', 'save-as', 'export', 'add-model-folder', 'undo', 'redo', 'toggle-theme', 'shortcuts']);
  });

  it('items that need a native dialog or the OS call back into the shell (Add Model Folder uses the studio\'s own native picker)', () => {
    const ctx = context();
    const [file, , , help] = menuTemplate(ctx);
    click(find(file!, 'Open…'));
    click(find(help!, 'Open Data Folder'));
    click(find(help!, 'About Painter'));
    expect([ctx.openFile, ctx.openDataFolder, ctx.showAbout].map((fn) => (fn as ReturnType<typeof vi.fn>).mock.calls.length)).toEqual([1, 1, 1]);
    expect(ctx.sent).toEqual([]);
  });

  it('Open Recent lists the recent sessions (or says there are none) and opens the one clicked', () => {
    expect(items(find(menuTemplate(context())[0]!, 'Open Recent'))).toEqual([{ label: 'No recent sessions', enabled: false }]);
    const ctx = context({
      recent: [
        { path: '/home/a/walk.painter', name: 'Walk', savedAt: '2026-01-01T00:00:00Z', runCount: 3 },
        { path: '/home/a/shoes.painter', name: 'Shoes', savedAt: '2026-01-02T00:00:00Z', runCount: 1 },
      ],
    });
    const recent = items(find(menuTemplate(ctx)[0]!, 'Open Recent'));
    expect(recent.map((item) => [item.label, item.sublabel])).toEqual([
      ['Walk', '/home/a/walk.painter'],
      ['Shoes', '/home/a/shoes.painter'],
    ]);
    click(recent[1]!);
    expect(ctx.openRecent).toHaveBeenCalledWith('/home/a/shoes.painter');
  });

  it('every accelerator is used once, and the usual ones are where users expect them', () => {
    const accelerators = menuTemplate(context({ platform: 'darwin' }))
      .flatMap((menu) => items(menu) ?? [])
      .map((item) => item.accelerator)
      .filter((a): a is string => typeof a === 'string');
    expect(new Set(accelerators).size).toBe(accelerators.length);
    const [file, edit] = menuTemplate(context());
    expect([find(file!, 'New Session'), find(file!, 'Open…'), find(file!, 'Save'), find(file!, 'Save As…')].map((item) => item.accelerator)).toEqual([
      'CmdOrCtrl+N',
      'CmdOrCtrl+O',
      'CmdOrCtrl+S',
      'CmdOrCtrl+Shift+S',
    ]);
    expect([find(edit!, 'Undo').accelerator, find(edit!, 'Redo').accelerator]).toEqual(['CmdOrCtrl+Z', 'CmdOrCtrl+Y']);
    expect(find(menuTemplate(context({ platform: 'darwin' }))[2]!, 'Redo').accelerator).toBe('Shift+CmdOrCtrl+Z');
  });
});
