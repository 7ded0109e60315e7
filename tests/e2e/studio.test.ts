import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

describe('studio in a real browser (painter serve + Chromium)', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await Studio.open();
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('lists models, generates a run, shows a non-blank image, and scrubs', async () => {
    const items = studio.modelItems();
    await items.first().waitFor({ timeout: 30_000 });
    const ids = await items.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-model-id')));
    expect(ids).toContain('fashion-mnist-gaussian');

    await studio.selectModel('fashion-mnist-gaussian');
    await studio.generate();
    const finalX0 = await studio.canvasStats('x0-canvas');
    expect(finalX0.spread).toBeGreaterThan(10);
    const finalLabel = await studio.page.getByTestId('step-label').textContent();

    // Scrub to the first step: the label and x̂0 change (the first x̂0 is the blurry mean-like outline).
    const slider = studio.page.getByTestId('step-slider');
    await slider.focus();
    await studio.page.keyboard.press('Home');
    await expect.poll(() => studio.page.getByTestId('step-label').textContent()).not.toBe(finalLabel);
    const firstX0 = await studio.canvasStats('x0-canvas');
    expect(firstX0.pixels).not.toEqual(finalX0.pixels);
    const xt = await studio.canvasStats('xt-canvas');
    expect(xt.spread).toBeGreaterThan(10);
  });

  it('shows a readable error for a bad model folder and keeps working', async () => {
    const page = studio.page;
    await page.getByText('Add a model folder').click();
    await page.locator('#model-folder').fill('/definitely/not/a/model');
    await page.locator('#model-folder').press('Enter');
    const banner = page.getByTestId('error-banner');
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.textContent()).toMatch(/not a folder/);
    await studio.selectModel('fashion-mnist-gmm');
    await studio.generate();
    expect((await studio.canvasStats('x0-canvas')).spread).toBeGreaterThan(10);
  });
});
