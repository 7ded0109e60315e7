import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

describe('the studio warns about unconverged runs and paints the local ghost (Chromium)', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await Studio.open();
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('Heun with 4 steps carries a warning; the local patch model paints from the same noise beside it', async () => {
    const page = studio.page;
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '4');
    await page.locator('#sampler').selectOption('heun');
    await studio.generate();
    await expect.poll(() => page.getByTestId('run-warning').textContent()).toMatch(/^Heun with 4 steps is far from converged .* Use at least \d+ steps/);

    await studio.setField('#steps', '30');
    await page.locator('#sampler').selectOption('euler');
    await studio.generate();
    expect(await page.getByTestId('run-warning').count()).toBe(0);
    await page.getByTestId('local-ghost-compute').click();
    await page.getByTestId('local-ghost-canvas').waitFor({ state: 'visible', timeout: 120_000 });
    await studio.waitForJob();
    const ghost = await studio.canvasStats('local-ghost-canvas');
    expect(ghost.spread).toBeGreaterThan(10);
    // Scrubbing moves the local ghost with the run: its x̂0 at the first step differs from the final one.
    const slider = page.getByTestId('step-slider');
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(async () => (await studio.canvasStats('local-ghost-canvas')).pixels).not.toEqual(ghost.pixels);
  });
});
