/**
 * Keep and share (issue 12), in a real browser: the session's name is its
 * file's name and a save says so; variation grids (and the other results)
 * survive save → reopen without recomputing; dropped run files, sessions and
 * images open; in browser mode an export is offered as a download.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

/** A real PNG file (8-bit RGB, no filter), made here: a light shirt-like block on white. */
function pngBytes(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer): number => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const check = Buffer.alloc(4);
    check.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, check]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set(pixel(x, y), y * (1 + width * 3) + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describe('keep and share', () => {
  it('the session name is the file name, a save says where, and variations survive save → reopen', async () => {
    const first = await Studio.open();
    const folder = join(first.workspace, 'sessions');
    let cell: number[] = [];
    try {
      const page = first.page;
      await first.modelItems().first().waitFor({ timeout: 30_000 });
      await first.selectModel('fashion-mnist-gaussian');
      await first.setField('#steps', '20');
      await first.generate();
      await first.showStep(8);
      await page.getByTestId('tab-variations').click();
      await page.locator('#variation-directions').selectOption('2');
      await page.getByTestId('find-variations').click();
      await page.getByTestId('variation-grid').waitFor({ timeout: 120_000 });
      await first.waitForJob();
      cell = (await first.canvasStats('variation-1-4')).pixels;

      // Rename in the header: the save dialog then names the file after it.
      await page.getByTestId('session-name').click();
      await page.getByTestId('session-name-input').fill('Shirts and flags');
      await page.getByTestId('session-name-input').press('Enter');
      await page.keyboard.press('Control+s');
      await expect.poll(() => page.locator('#session-path').inputValue()).toMatch(/\/shirts-and-flags\.painter$/);
      await page.locator('#session-path').fill(join(folder, 'shirts-and-flags.painter'));
      await page.getByTestId('save-confirm').click();
      await expect.poll(() => page.getByTestId('toast').last().textContent()).toMatch(/Saved “Shirts and flags” to .*shirts-and-flags\.painter/);
      expect(existsSync(join(folder, 'shirts-and-flags.painter'))).toBe(true);
      expect(readdirSync(join(folder, 'shirts-and-flags-runs'))).toContain('_results.safetensors');
      // Saved: the name has no unsaved mark, and Ctrl+S again saves in place without asking.
      expect(await page.getByTestId('session-name').textContent()).toBe('Shirts and flags');
    } finally {
      await first.close();
    }

    // Another studio (its own settings) on the same workspace.
    const second = await Studio.open(undefined, mkdtempSync(join(tmpdir(), 'painter-e2e-keep-2-')), first.workspace);
    try {
      const page = second.page;
      await second.modelItems().first().waitFor({ timeout: 30_000 });
      await page.getByTestId('open-session').click();
      await page.locator('#open-path').fill(join(folder, 'shirts-and-flags.painter'));
      await page.getByTestId('open-confirm').click();
      await expect.poll(() => second.treeRows().count()).toBe(1);
      await page.getByTestId('tab-variations').click();
      // The grid is there at once, no job run for it.
      await page.getByTestId('variation-grid').waitFor({ timeout: 5_000 });
      expect(await page.getByTestId('cancel').count()).toBe(0);
      expect((await second.canvasStats('variation-1-4')).pixels).toEqual(cell);
      expect(await page.getByTestId('variation-caption').textContent()).toMatch(/at step 8/);
    } finally {
      await second.close();
    }
  });

  it('dropped files open: a run file, a session with its runs folder, and an image as the start of a run', async () => {
    const maker = await Studio.open();
    const folder = join(maker.workspace, 'sessions');
    let runFile = '';
    try {
      await maker.modelItems().first().waitFor({ timeout: 30_000 });
      await maker.selectModel('fashion-mnist-gaussian');
      await maker.setField('#steps', '12');
      await maker.generate();
      await maker.page.keyboard.press('Control+Shift+s');
      await maker.page.locator('#session-name-field').fill('Dropped');
      await maker.page.locator('#session-path').fill(join(folder, 'dropped.painter'));
      await maker.page.getByTestId('save-confirm').click();
      await expect.poll(() => maker.page.getByTestId('toast').last().textContent(), { timeout: 30_000 }).toMatch(/Saved “Dropped” to .*dropped\.painter/);
      expect(existsSync(join(folder, 'dropped.painter'))).toBe(true);
      runFile = readdirSync(join(folder, 'dropped-runs')).find((name) => name.endsWith('.safetensors') && !name.startsWith('_'))!;
    } finally {
      await maker.close();
    }

    const studio = await Studio.open(undefined, mkdtempSync(join(tmpdir(), 'painter-e2e-drop-2-')));
    try {
      const page = studio.page;
      await studio.modelItems().first().waitFor({ timeout: 30_000 });
      const run = { name: runFile, bytes: readFileSync(join(folder, 'dropped-runs', runFile)) };
      await studio.dropFiles([run]);
      await expect.poll(() => studio.treeRows().count()).toBe(1);
      await page.getByTestId('step-slider').waitFor();

      // A session with its run files: it replaces the session (nothing unsaved to lose? the dropped run is: asks first).
      await studio.dropFiles([{ name: 'dropped.painter', bytes: readFileSync(join(folder, 'dropped.painter')) }, run]);
      await studio.confirm(true);
      await expect.poll(() => page.getByTestId('session-name').textContent()).toMatch(/^Dropped/);
      expect(await studio.treeRows().count()).toBe(1);

      // An image: a light block on white, which the studio offers inverted for Fashion-MNIST's light-on-black data.
      await studio.selectModel('fashion-mnist-gaussian');
      const image = pngBytes(40, 40, (x, y) => (x > 10 && x < 30 && y > 6 && y < 36 ? [60, 60, 60] : [250, 250, 250]));
      await studio.dropFiles([{ name: 'shirt.png', bytes: image, type: 'image/png' }]);
      await page.getByTestId('image-start-dialog').waitFor({ state: 'visible' });
      expect((await studio.canvasStats('image-start-preview')).spread).toBeGreaterThan(20);
      await page.getByTestId('image-start-confirm').click();
      await expect.poll(() => studio.treeRows().count(), { timeout: 60_000 }).toBe(2);
      await studio.waitForJob();
      expect(await page.getByTestId('step-label').textContent()).toMatch(/final image/);
      expect(await page.getByTestId('origin-badge').textContent()).toMatch(/from shirt\.png at step \d+/);

      // Something that is none of these says so.
      await studio.dropFiles([{ name: 'notes.txt', bytes: new TextEncoder().encode('hello') }]);
      await expect.poll(() => page.getByTestId('error-banner').textContent()).toMatch(/notes\.txt is none of these/);
    } finally {
      await studio.close();
    }
  });

  it('in browser mode an export is also offered as a download', async () => {
    const studio = await Studio.open();
    try {
      const page = studio.page;
      await studio.modelItems().first().waitFor({ timeout: 30_000 });
      await studio.selectModel('fashion-mnist-gaussian');
      await studio.setField('#steps', '10');
      await studio.generate();
      await page.getByTestId('export').click();
      await page.locator('#export-path').fill(join(studio.workspace, 'strip.png'));
      await page.getByTestId('export-confirm').click();
      const link = page.getByTestId('export-download');
      await link.waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('strip.png');
      const saved = await download.path();
      expect(readFileSync(saved).subarray(1, 4).toString('ascii')).toBe('PNG');
    } finally {
      await studio.close();
    }
  });
});
