import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

/** The bundled GAN generator in the studio: one step, no timeline; latent directions in the Variations tab. */
describe('studio: a GAN generator', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await Studio.open();
  }, 60_000);
  afterAll(async () => studio?.close());

  it('generates one image without a timeline, finds latent directions and keeps a cell as a new run', async () => {
    const page = studio.page;
    await studio.selectModel('fashion-mnist-gan');
    await expect(page.getByTestId('one-step').textContent()).resolves.toMatch(/one step/);
    expect(await page.locator('#steps').count()).toBe(0);
    await page.locator('#seed').fill('5');
    await page.locator('#class').selectOption('9');
    await page.getByTestId('generate').click();
    await page.getByTestId('gan-run').waitFor({ state: 'visible', timeout: 60_000 });
    await studio.waitForJob();
    expect(await page.getByTestId('step-slider').count()).toBe(0);
    const image = await studio.canvasStats('gan-image');
    expect(image.spread).toBeGreaterThan(5);
    if (process.env['PAINTER_SCREENSHOTS']) await page.screenshot({ path: `${process.env['PAINTER_SCREENSHOTS']}/gan-run.png` });

    await page.getByTestId('tab-variations').click();
    await page.getByTestId('find-gan-variations').click();
    await page.getByTestId('gan-variation-grid').waitFor({ state: 'visible', timeout: 60_000 });
    await studio.waitForJob();
    await expect(page.getByTestId('gan-variation-caption').textContent()).resolves.toMatch(/6 latent directions/);
    // The amplitude-0 column is the run itself; the ±kicks differ from it.
    const origin = await studio.canvasStats('gan-variation-0-2');
    const kicked = await studio.canvasStats('gan-variation-0-4');
    expect(origin.pixels).toEqual(image.pixels);
    expect(kicked.pixels).not.toEqual(origin.pixels);
    if (process.env['PAINTER_SCREENSHOTS']) await page.screenshot({ path: `${process.env['PAINTER_SCREENSHOTS']}/gan-variations.png`, fullPage: true });

    await page.getByLabel('Keep +2 along G1 as a new run').click();
    await page.getByTestId('gan-run').waitFor({ state: 'visible', timeout: 60_000 });
    await studio.waitForJob();
    await expect(page.getByTestId('gan-seed').textContent()).resolves.toMatch(/latent moved/);
    const kept = await studio.canvasStats('gan-image');
    expect(kept.pixels).toEqual(kicked.pixels);
    if (process.env['PAINTER_SCREENSHOTS']) await page.screenshot({ path: `${process.env['PAINTER_SCREENSHOTS']}/gan-kept.png` });

    await page.getByTestId('tab-theory').click();
    await expect(page.locator('#view').textContent()).resolves.toMatch(/a GAN run has one step/);
  }, 180_000);

  it('the Theory tab charts the GAN analogy for a diffusion run', async () => {
    const page = studio.page;
    await page.getByTestId('tab-studio').click();
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '20');
    await studio.generate();
    await page.getByTestId('tab-theory').click();
    await page.getByTestId('chart-gan-analogy').click();
    await page.getByTestId('run-analysis').click();
    await page.getByTestId('gan-analogy-table').waitFor({ state: 'visible', timeout: 120_000 });
    await studio.waitForJob();
    const rows = await page.getByTestId('gan-analogy-table').locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/GAN generator z → x\s*[\d.]+ \/ 32/);
    expect(rows[1]).toMatch(/diffusion generator map/);
    if (process.env['PAINTER_SCREENSHOTS']) await page.screenshot({ path: `${process.env['PAINTER_SCREENSHOTS']}/gan-analogy-chart.png`, fullPage: true });
  }, 240_000);
});
