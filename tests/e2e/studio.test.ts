import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

/** The bundled trained network when it is installed (the brushes' claim must hold on it), else the analytic Gaussian. */
const BRUSH_MODEL = existsSync(join(__dirname, '..', '..', 'native-models', 'fashion-mnist', 'manifest.json')) ? 'fashion-mnist' : 'fashion-mnist-gaussian';

describe('studio in a real browser (painter serve + Chromium)', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await Studio.open();
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('generate → scrub: the shown step and x̂0 change, with the Gaussian ghost beside them', async () => {
    const items = studio.modelItems();
    await items.first().waitFor({ timeout: 30_000 });
    const ids = await items.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-model-id')));
    expect(ids).toContain('fashion-mnist-gaussian');

    await studio.selectModel('fashion-mnist-gaussian');
    await studio.generate();
    const finalX0 = await studio.canvasStats('x0-canvas');
    expect(finalX0.spread).toBeGreaterThan(10);
    const finalLabel = await studio.stepLabel();
    expect(finalLabel).toMatch(/Step 50 \/ 50 .*final image/);

    // Keyboard: Home on the slider goes to the first step; x̂0 there is the blurry mean-like outline.
    const slider = studio.page.getByTestId('step-slider');
    await slider.focus();
    await studio.page.keyboard.press('Home');
    await expect.poll(() => studio.stepLabel()).toMatch(/^Step 0 \/ 50/);
    const firstX0 = await studio.canvasStats('x0-canvas');
    expect(firstX0.pixels).not.toEqual(finalX0.pixels);
    expect((await studio.canvasStats('xt-canvas')).spread).toBeGreaterThan(10);

    // Arrow keys step by one; the filmstrip jumps; the label shows σ and the decided fraction.
    await studio.page.keyboard.press('ArrowRight');
    await expect.poll(() => studio.stepLabel()).toMatch(/^Step 1 \/ 50 · σ = /);
    await studio.showStep(25);
    await expect.poll(() => studio.stepLabel()).toMatch(/^Step 25 \/ 50 · σ = [\d.]+ · \d+% decided/);
    const midX0 = await studio.canvasStats('x0-canvas');
    expect(midX0.pixels).not.toEqual(firstX0.pixels);
    expect((await studio.canvasStats('ghost-canvas')).spread).toBeGreaterThan(10);

    // Play runs to the final image.
    await studio.page.getByTestId('play').click();
    await expect.poll(() => studio.stepLabel(), { timeout: 10_000 }).toMatch(/final image/);
  });

  it('a brush early changes the final image more than the same brush late, and both are branches in the tree', async () => {
    await studio.selectModel(BRUSH_MODEL);
    await studio.setField('#seed', '1');
    await studio.setField('#steps', '50');
    await studio.generate();
    const rowsBefore = await studio.treeRows().count();
    // A brightness push: a smooth blob, mostly along the data's high-variance directions, which
    // early steps amplify and late steps pass about 1:1 (DESIGN.md §2).
    await studio.page.getByTestId('brush-intensity').click();
    await studio.page.locator('#brush-color').selectOption({ label: 'Brighten' });

    await studio.showStep(8);
    await studio.paint('xt-canvas', [0.4, 0.45], [0.6, 0.55]);
    await expect.poll(() => studio.treeRows().count()).toBe(rowsBefore + 1);
    const early = await studio.contentChange();
    expect(await studio.stepLabel()).toMatch(/^Step 8 \/ 50/); // the branch is shown at the step it left its parent
    expect((await studio.canvasStats('branch-final')).spread).toBeGreaterThan(10);

    // Back to the parent (the root of this tree), then the same stroke late.
    const parentRow = studio.treeRows().filter({ has: studio.page.locator('[aria-current="true"]') });
    expect(await parentRow.getAttribute('data-depth')).toBe('1');
    await studio.treeRows().nth(rowsBefore - 1).getByRole('button').first().click();
    await studio.showStep(42);
    await studio.paint('xt-canvas', [0.4, 0.45], [0.6, 0.55]);
    await expect.poll(() => studio.treeRows().count()).toBe(rowsBefore + 2);
    const late = await studio.contentChange();

    expect(early).toBeGreaterThan(0);
    expect(late).toBeGreaterThan(0);
    expect(early).toBeGreaterThan(late);
    const depths = await studio.treeRows().evaluateAll((rows) => rows.map((row) => row.getAttribute('data-depth')));
    expect(depths.slice(-3)).toEqual(['0', '1', '1']);

    // Deleting the late branch (after the studio asks) removes it from the tree and shows its parent.
    await studio.deleteRow(studio.treeRows().last());
    await expect.poll(() => studio.treeRows().count()).toBe(rowsBefore + 1);
    expect(await studio.page.getByTestId('content-change').count()).toBe(0);
  });

  it('the variation grid renders distinct images, and a cell can be kept as a branch', async () => {
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '40');
    await studio.generate();
    await studio.showStep(20);
    const rowsBefore = await studio.treeRows().count();
    await studio.page.getByTestId('tab-variations').click();
    await studio.page.locator('#variation-directions').selectOption('4');
    await studio.page.getByTestId('find-variations').click();
    await studio.page.getByTestId('variation-grid').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    expect(await studio.page.getByTestId('variation-caption').textContent()).toMatch(/Denoiser Jacobian at step 20/);

    // Every cell is an image; along the first direction the two extremes and the run itself all differ.
    const cells = await Promise.all([0, 1, 2, 3, 4].map((a) => studio.canvasStats(`variation-0-${a}`)));
    for (const cell of cells) expect(cell.spread).toBeGreaterThan(10);
    expect(cells[0]!.pixels).not.toEqual(cells[2]!.pixels);
    expect(cells[4]!.pixels).not.toEqual(cells[2]!.pixels);
    expect(cells[0]!.pixels).not.toEqual(cells[4]!.pixels);
    // …and different directions give different images.
    expect((await studio.canvasStats('variation-1-4')).pixels).not.toEqual(cells[4]!.pixels);

    await studio.page.getByTestId('variation-grid').getByRole('button', { name: 'Keep +8 along J1 as a branch' }).click();
    await studio.waitForJob();
    await expect.poll(() => studio.treeRows().count()).toBe(rowsBefore + 1);
    expect(await studio.page.getByText(/along \+J1 \(Denoiser Jacobian\), whole image/).count()).toBeGreaterThan(0);
    expect(await studio.contentChange()).toBeGreaterThan(0);
  });

  it('local variations: paint a region, find its directions, keep a cell as a branch, apply the kept direction to a second run', async () => {
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '20');
    await studio.setField('#seed', '3');
    await studio.generate();
    await studio.showStep(10);
    const rowsBefore = await studio.treeRows().count();
    await studio.page.getByTestId('tab-variations').click();
    await studio.page.getByTestId('family-local').check();
    await studio.page.locator('#variation-directions').selectOption('2');
    // Nothing painted: nothing to find.
    expect(await studio.page.getByTestId('find-variations').isDisabled()).toBe(true);
    await studio.drag('region-canvas', [0.3, 0.2], [0.7, 0.35]);
    await expect.poll(() => studio.page.getByTestId('region-coverage').textContent()).toMatch(/Region: \d+ % of the image/);
    expect((await studio.canvasStats('region-mask')).spread).toBeGreaterThan(1);
    await studio.page.getByTestId('find-variations').click();
    await studio.page.getByTestId('variation-grid').waitFor({ timeout: 170_000 });
    await studio.waitForJob(170_000);
    expect(await studio.page.getByTestId('variation-caption').textContent()).toMatch(/Local \(region\) at step 10/);
    expect(await studio.page.getByTestId('search-caption').textContent()).toMatch(/directions on the region's own \d+ values, exact there, in \d+ forward passes.*Rest kept fixed by removing the outside's top \d+ direction.*threshold 99\.5 %/s);
    expect(await studio.page.getByTestId('direction-note-0').textContent()).toMatch(/^strength [\d.e+-]+ · exact · \d+ % of the change inside$/);
    const plain = await studio.canvasStats('variation-0-2');
    const kicked = await studio.canvasStats('variation-0-4');
    expect(kicked.pixels).not.toEqual(plain.pixels);

    await studio.page.getByTestId('variation-grid').getByRole('button', { name: /^Keep \+8 along L1 as a branch/ }).click();
    await studio.waitForJob();
    await expect.poll(() => studio.treeRows().count()).toBe(rowsBefore + 1);
    expect(await studio.page.getByText(/along \+L1 \(Local \(region\)\), whole image/).count()).toBeGreaterThan(0);

    // A second run of the same model: the kept direction, applied at the same step.
    await studio.setField('#seed', '4');
    await studio.generate();
    await studio.page.getByTestId('tab-variations').click();
    await studio.page.getByTestId('kept-directions').waitFor();
    await studio.page.getByTestId('apply-kept').first().click();
    await studio.page.getByTestId('variation-grid').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    expect(await studio.page.getByTestId('variation-caption').textContent()).toMatch(/1 kept direction applied to this run at step 10/);
    expect(await studio.page.getByTestId('direction-note-0').textContent()).toMatch(/% of the change inside/);
    const there = await Promise.all([0, 2, 4].map((a) => studio.canvasStats(`variation-0-${a}`)));
    expect(there[0]!.pixels).not.toEqual(there[1]!.pixels);
    expect(there[2]!.pixels).not.toEqual(there[1]!.pixels);
    expect(there[1]!.pixels).not.toEqual(plain.pixels); // another seed, another image
    await studio.page.getByTestId('tab-studio').click();
  });

  it('the 3-D view draws trajectories on a non-blank canvas, each in its own rotation plane or in PCA space', async () => {
    await studio.page.getByTestId('tab-theory').click();
    await studio.page.locator('select[aria-label="Number of trajectories"]').selectOption('4');
    await studio.page.getByTestId('compute-trajectories').click();
    await studio.page.getByTestId('trajectory-canvas').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    const stats = await studio.webglCanvasStats('trajectory-canvas');
    expect(stats.distinctColours).toBeGreaterThan(20);
    expect(stats.spread).toBeGreaterThan(1);
    expect(await studio.page.getByTestId('explained').textContent()).toMatch(/along the final image [\d.]+%, along the start noise [\d.]+%/);
    // Reset view brings back the fitted camera after an orbit.
    const before = await studio.canvasHash('trajectory-canvas');
    const box = (await studio.page.getByTestId('trajectory-canvas').boundingBox())!;
    await studio.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await studio.page.mouse.down();
    await studio.page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 40, { steps: 5 });
    await studio.page.mouse.up();
    expect(await studio.canvasHash('trajectory-canvas')).not.toBe(before);
    await studio.page.getByTestId('reset-view').click();
    expect(await studio.canvasHash('trajectory-canvas')).toBe(before);
    await studio.page.getByTestId('trajectory-basis').selectOption('run');
    await studio.page.getByTestId('compute-trajectories').click();
    await studio.waitForJob();
    await expect.poll(() => studio.page.getByTestId('explained').textContent()).toMatch(/PC1 · PC2 · PC3 explain \d/);
    await expect.poll(() => studio.page.getByTestId('decided-chart').locator('svg path').count()).toBeGreaterThan(0);
    await studio.page.getByTestId('tab-studio').click();
  });

  it('cancel stops a long job and leaves the studio as it was', async () => {
    const rowsBefore = await studio.treeRows().count();
    await studio.selectModel('fashion-mnist-delta');
    await studio.setField('#steps', '1000');
    await studio.page.getByTestId('generate').click();
    const cancel = studio.page.getByTestId('cancel');
    await cancel.waitFor({ timeout: 30_000 });
    await studio.page.waitForFunction(() => Number(document.querySelector('[data-testid="progress"]')?.getAttribute('value') ?? 0) > 0, undefined, {
      timeout: 60_000,
    });
    await cancel.click();
    await studio.waitForJob(30_000);
    await expect.poll(() => studio.page.getByText('Run cancelled').count()).toBe(1);
    expect(await studio.treeRows().count()).toBe(rowsBefore);
    expect(await studio.page.getByTestId('error-banner').count()).toBe(0);
    await studio.setField('#steps', '20');
    await studio.generate();
    expect(await studio.treeRows().count()).toBe(rowsBefore + 1);
  });

  it('a class model asks for guidance only with a class chosen, and keeps the value typed', async () => {
    await studio.selectModel('fashion-mnist');
    const page = studio.page;
    await page.locator('#class').selectOption({ label: 'None (unconditional)' });
    await expect.poll(() => page.locator('#guidance').count()).toBe(0);
    await page.locator('#class').selectOption({ label: 'Sneaker' });
    await page.locator('#guidance').fill('3.5');
    await page.locator('#guidance').blur();
    await page.locator('#class').selectOption({ label: 'Bag' });
    expect(await page.locator('#guidance').inputValue()).toBe('3.5');
  });

  it('shows a readable error for a bad model folder and keeps working', async () => {
    const page = studio.page;
    await page.getByRole('button', { name: '+ Add…' }).click();
    await page.locator('#model-folder').fill(join(studio.workspace, 'not', 'a', 'model'));
    await page.locator('#model-folder').press('Enter');
    const error = page.getByTestId('add-model-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.textContent()).toMatch(/not a folder/);
    // Browser mode reads nothing outside its workspace and the model folders named on its command line.
    await page.locator('#model-folder').fill('/etc');
    await page.locator('#model-folder').press('Enter');
    await expect.poll(() => page.getByTestId('error-banner').getAttribute('data-code'), { timeout: 15_000 }).toBe('OUTSIDE_WORKSPACE');
    expect(await page.getByTestId('add-model-error').textContent()).toMatch(/Browser mode reads only inside its workspace .*\/etc is outside/);
    await page.keyboard.press('Escape');
    await studio.selectModel('fashion-mnist-gmm');
    await studio.generate();
    expect((await studio.canvasStats('x0-canvas')).spread).toBeGreaterThan(10);
  });
});

describe('sessions in a real browser', () => {
  it('save → reopen in a fresh studio restores the same runs bit for bit', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'painter-e2e-session-'));
    const path = join(folder, 'my session.painter');
    // Both studios serve the same workspace (browser mode may only read and write there).
    const first = await Studio.open(undefined, undefined, folder);
    let checksum: string | null;
    let x0AtTen: number[];
    let xtAtTen: number[];
    let rows: number;
    try {
      await first.modelItems().first().waitFor({ timeout: 30_000 });
      await first.selectModel('fashion-mnist-gaussian');
      await first.setField('#steps', '20');
      await first.generate();
      await first.showStep(5);
      await first.paint('xt-canvas', [0.5, 0.5], [0.55, 0.55]);
      await first.showStep(10);
      await first.page.getByText('Run details').click();
      await expect.poll(() => first.page.getByTestId('run-checksum').textContent()).toMatch(/^[0-9a-f]{64}$/);
      checksum = await first.page.getByTestId('run-checksum').textContent();
      x0AtTen = (await first.canvasStats('x0-canvas')).pixels;
      xtAtTen = (await first.canvasStats('xt-canvas')).pixels;
      rows = await first.treeRows().count();

      // Export the run on screen: filmstrip PNG, timeline GIF, raw trajectories.
      for (const [kind, file] of [
        ['Filmstrip PNG', 'strip.png'],
        ['Animation GIF', 'timeline.gif'],
        ['Trajectories (safetensors)', 'runs.safetensors'],
      ] as const) {
        await first.page.getByTestId('export').click();
        await first.page.getByLabel(kind).check();
        await first.page.locator('#export-path').fill(join(folder, file));
        await first.page.getByTestId('export-confirm').click();
        await expect.poll(() => first.page.getByTestId('export-result').textContent()).toContain(join(folder, file));
        await first.page.getByRole('button', { name: 'Close' }).click();
      }
      const png = readFileSync(join(folder, 'strip.png'));
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
      expect(readFileSync(join(folder, 'timeline.gif')).subarray(0, 6).toString('ascii')).toBe('GIF89a');
      const raw = readFileSync(join(folder, 'runs.safetensors'));
      const header = JSON.parse(raw.toString('utf-8', 8, 8 + Number(raw.readBigUInt64LE(0)))) as Record<string, unknown>;
      expect(Object.keys(header)).toEqual(expect.arrayContaining(['run0.x_t', 'run0.x0_hat', 'run0.sigma', 'run0.gaussian_x_t']));

      await first.page.getByTestId('save-session').click();
      await first.page.locator('#session-name-field').fill('My session');
      await first.page.locator('#session-path').fill(path);
      await first.page.getByTestId('save-confirm').click();
      await expect.poll(() => first.page.getByTestId('session-name').textContent()).toBe('My session');
    } finally {
      await first.close();
    }

    const second = await Studio.open(undefined, mkdtempSync(join(tmpdir(), 'painter-e2e-other-')), folder);
    try {
      await second.modelItems().first().waitFor({ timeout: 30_000 });
      await second.page.getByTestId('open-session').click();
      await second.page.locator('#open-path').fill(path);
      await second.page.getByTestId('open-confirm').click();
      await expect.poll(() => second.treeRows().count()).toBe(rows);
      // The branch on screen when saved is on screen again, at the same step.
      expect(await second.stepLabel()).toMatch(/^Step 10 \/ 20/);
      expect(await second.page.getByTestId('content-change').count()).toBe(1);
      await second.page.getByText('Run details').click();
      await expect.poll(() => second.page.getByTestId('run-checksum').textContent()).toBe(checksum);
      expect((await second.canvasStats('x0-canvas')).pixels).toEqual(x0AtTen);
      expect((await second.canvasStats('xt-canvas')).pixels).toEqual(xtAtTen);
      // …and it is listed among the recent sessions.
      await second.page.getByTestId('open-session').click();
      expect(await second.page.getByTestId('recent-sessions').textContent()).toContain('My session');
    } finally {
      await second.close();
    }
  });
});
