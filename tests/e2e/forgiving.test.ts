/**
 * A forgiving studio (issue 12), in a real browser: a click or a
 * double-click on an image never paints (a double-click enlarges), Esc
 * cancels a stroke, undo and redo bring branches back and take them away,
 * deleting asks first, the settings are the user's across model switches, and
 * leaving with unsaved work asks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

describe('forgiving', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await Studio.open();
    await studio.modelItems().first().waitFor({ timeout: 30_000 });
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '30');
    await studio.generate();
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('a click, a double-click or an Esc-cancelled drag creates no branch; a double-click enlarges the image', async () => {
    const page = studio.page;
    await studio.showStep(10);
    const rows = await studio.treeRows().count();
    const box = (await page.getByTestId('xt-canvas').boundingBox())!;
    const middle: [number, number] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.click(...middle);
    await page.mouse.move(middle[0] + 2, middle[1] + 1); // a wobble under the drag threshold
    await page.mouse.click(middle[0] + 2, middle[1] + 1);
    await page.mouse.dblclick(...middle);
    await page.getByTestId('zoom-dialog').waitFor({ state: 'visible' });
    expect((await page.getByTestId('zoom-canvas').boundingBox())!.width).toBeGreaterThan(box.width * 1.5);
    await page.getByTestId('zoom-close').click();
    await page.getByTestId('zoom-dialog').waitFor({ state: 'hidden' });

    // A real drag, cancelled with Esc before release.
    await page.mouse.move(...middle);
    await page.mouse.down();
    await page.mouse.move(middle[0] + 30, middle[1] + 20, { steps: 6 });
    await page.keyboard.press('Escape');
    await page.mouse.up();
    await page.waitForTimeout(300);
    expect(await page.getByTestId('cancel').count()).toBe(0);
    expect(await studio.treeRows().count()).toBe(rows);
  });

  it('undo removes a new branch and shows its parent again; redo brings the same branch back', async () => {
    const page = studio.page;
    const rows = await studio.treeRows().count();
    await studio.paint('xt-canvas', [0.3, 0.3], [0.7, 0.6]);
    await expect.poll(() => studio.treeRows().count()).toBe(rows + 1);
    const branchId = await studio.treeRows().last().getAttribute('data-run-id');
    expect(await page.getByTestId('content-change').count()).toBe(1);

    await page.keyboard.press('Control+z');
    await expect.poll(() => studio.treeRows().count()).toBe(rows);
    expect(await page.getByTestId('content-change').count()).toBe(0); // the parent is on screen
    await expect.poll(() => page.getByTestId('toast').last().textContent()).toMatch(/Undone: new branch at step 10/);

    await page.getByTestId('redo').click();
    await expect.poll(() => studio.treeRows().count()).toBe(rows + 1);
    expect(await studio.treeRows().last().getAttribute('data-run-id')).toBe(branchId);
    await page.keyboard.press('Control+Shift+z'); // nothing left to redo: no change
    expect(await studio.treeRows().count()).toBe(rows + 1);
  });

  it('deleting asks first; Cancel keeps the run, Delete removes it with its branches, and undo brings them all back', async () => {
    const page = studio.page;
    const rows = await studio.treeRows().count();
    const root = studio.treeRows().first();
    await studio.deleteRow(root, false);
    expect(await studio.treeRows().count()).toBe(rows);
    await root.getByRole('button', { name: /^Delete this run/ }).click();
    expect(await page.getByTestId('confirm-dialog').textContent()).toMatch(/and the 1 branch grown from it/);
    await studio.confirm(true);
    await expect.poll(() => studio.treeRows().count()).toBe(rows - 2);
    await page.getByTestId('undo').click();
    await expect.poll(() => studio.treeRows().count()).toBe(rows);
  });

  it('Next run settings are kept across model switches and undoable; a new seed is drawn for each run unless turned off', async () => {
    const page = studio.page;
    await studio.setField('#steps', '37');
    await page.locator('#steps').press('Tab');
    await studio.selectModel('fashion-mnist-gmm');
    expect(await page.locator('#steps').inputValue()).toBe('37');
    await page.keyboard.press('Control+z'); // back to the previous model
    await page.keyboard.press('Control+z'); // and the previous steps
    await expect.poll(() => page.locator('#steps').inputValue()).toBe('30');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => page.locator('#steps').inputValue()).toBe('37');

    await studio.setField('#seed', '4294967295');
    await studio.generate();
    expect(await page.locator('#seed').inputValue()).toBe('4294967295'); // ten digits, whole, and used
    expect(await page.getByTestId('step-label').count()).toBe(1);
    await studio.generate();
    const second = await page.locator('#seed').inputValue();
    expect(second).not.toBe('4294967295'); // a fresh one for the next run
    await page.getByTestId('new-seed').uncheck();
    await studio.generate();
    expect(await page.locator('#seed').inputValue()).toBe(second);

    // "Use these settings" takes the run's back.
    await studio.treeRows().first().getByRole('button').first().click();
    await page.getByTestId('use-settings').click();
    expect(await page.locator('#steps').inputValue()).toBe('30');
    await page.getByTestId('new-seed').check();
  });

  it('leaving with unsaved runs asks first (the browser\'s leave-page prompt); a shell can ask and send commands', async () => {
    const page = studio.page;
    // What the desktop shell's close prompt and menus use.
    type Shell = { painterStudio?: { hasUnsavedChanges(): boolean; runCommand(name: string): Promise<void> } };
    expect(await page.evaluate(() => (window as unknown as Shell).painterStudio?.hasUnsavedChanges())).toBe(true);
    await page.evaluate(() => (window as unknown as Shell).painterStudio?.runCommand('shortcuts'));
    await page.getByTestId('shortcuts-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts-dialog').waitFor({ state: 'hidden' });
    let asked = '';
    page.on('dialog', (dialog) => {
      asked = dialog.type();
      void dialog.dismiss();
    });
    // A reload, as the user pressing F5 (headless Chromium runs no beforeunload on page.close).
    await page.evaluate(() => location.reload()).catch(() => {});
    await expect.poll(() => asked).toBe('beforeunload');
    // Staying: the runs are still there.
    expect(await studio.treeRows().count()).toBeGreaterThan(0);
  });
});
