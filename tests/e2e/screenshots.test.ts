/**
 * Screenshots of every main screen at 1280×720, dark and light, for the
 * README (docs/screenshots/). Opt-in, since it writes into the repository:
 *   npm run build && PAINTER_SCREENSHOTS=1 npx vitest run --project e2e tests/e2e/screenshots.test.ts
 * PAINTER_SCREENSHOT_MODEL picks the model (default: the bundled Fashion-MNIST
 * network; fashion-mnist-gmm makes recognisable garments without one).
 * PAINTER_SCREENSHOTS=diffusers takes only the diffusers pipeline's studio
 * screen (studio-diffusers-dark.png, the tiny-sd test fixture with a prompt).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Studio } from './studio-page';

const OUT = join(__dirname, '..', '..', 'docs', 'screenshots');
const enabled = process.env['PAINTER_SCREENSHOTS'] === '1';
/** PAINTER_SCREENSHOTS=emoji takes only the colour network's studio screen (studio-emoji-dark.png). */
const emojiEnabled = enabled || process.env['PAINTER_SCREENSHOTS'] === 'emoji';
const diffusersEnabled = enabled || process.env['PAINTER_SCREENSHOTS'] === 'diffusers';
const DIFFUSERS_FIXTURES = join(__dirname, '..', 'fixtures', 'diffusers');
const MODEL = process.env['PAINTER_SCREENSHOT_MODEL'] ?? 'fashion-mnist';

/** The page as it stands, without hover effects, once transitions have settled. */
async function capture(page: Studio['page'], file: string): Promise<void> {
  await page.mouse.move(1279, 719);
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(OUT, file) });
}

describe.skipIf(!enabled)('screenshots of the main screens', () => {
  let studio: Studio;
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    studio = await Studio.open();
  });
  afterAll(async () => {
    await studio?.close();
  });

  async function shoot(name: string): Promise<void> {
    const page = studio.page;
    // Late data first: the theory image and every run's thumbnail.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="ghost-missing"]') === null &&
        document.querySelectorAll('[data-testid="tree-row"] canvas').length === document.querySelectorAll('[data-testid="tree-row"]').length,
      undefined,
      { timeout: 120_000 },
    );
    for (const theme of ['dark', 'light'] as const) {
      await page.evaluate((t) => {
        if (document.documentElement.dataset['theme'] !== t) (document.querySelector('[aria-label^="Switch to the"]') as HTMLButtonElement).click();
      }, theme);
      await capture(page, `${name}-${theme}.png`);
    }
    await page.evaluate(() => {
      if (document.documentElement.dataset['theme'] !== 'dark') (document.querySelector('[aria-label^="Switch to the"]') as HTMLButtonElement).click();
    });
  }

  it('studio, branches, variations, theory', async () => {
    const page = studio.page;
    await studio.modelItems().first().waitFor({ timeout: 30_000 });
    await shoot('empty');

    // A generation in progress: its x̂0 live in the main area, with the step, the time left and Cancel.
    await studio.selectModel('fashion-mnist-delta');
    await studio.setField('#seed', '7');
    await studio.setField('#steps', '1000');
    await page.getByTestId('generate').click();
    await page.waitForFunction(() => Number(/Step (\d+)/.exec(document.querySelector('[data-testid="live-step"]')?.textContent ?? '')?.[1] ?? 0) > 380, undefined, {
      timeout: 300_000,
      polling: 100,
    });
    await shoot('live');
    await page.getByTestId('cancel').click();
    await studio.waitForJob();

    await studio.selectModel(MODEL);
    if ((await page.locator('#class').count()) > 0) await page.locator('#class').selectOption({ label: 'Ankle boot' });
    await studio.setField('#seed', '2026');
    await studio.setField('#steps', '50');
    await studio.generate();
    // A late stroke (detail), then from the parent an early one (outline), which stays on screen.
    await studio.showStep(40);
    await studio.paint('xt-canvas', [0.35, 0.4], [0.65, 0.6]);
    await studio.treeRows().first().getByRole('button').first().click();
    await studio.showStep(10);
    await studio.paint('xt-canvas', [0.3, 0.35], [0.6, 0.65]);
    await studio.showStep(22);
    await shoot('studio');

    // The branch beside its parent, large, with their difference; then the glossary.
    await page.getByTestId('compare-large').click();
    await page.getByTestId('zoom-parent').waitFor();
    await shoot('compare');
    await page.getByTestId('zoom-close').click();
    await page.keyboard.press('F1');
    await page.getByTestId('glossary-dialog').waitFor({ state: 'visible' });
    await shoot('glossary');
    await page.keyboard.press('Escape');

    await page.getByTestId('tab-variations').click();
    await page.getByTestId('find-variations').click();
    await page.getByTestId('variation-grid').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    await shoot('variations');

    // Local variations: a region painted on x̂0 (the shaft of the boot), its directions and their grid.
    await page.getByTestId('family-local').check();
    await studio.drag('region-canvas', [0.3, 0.15], [0.55, 0.45]);
    await page.getByTestId('find-variations').click();
    await page.getByTestId('variation-grid').waitFor({ timeout: 300_000 });
    await studio.waitForJob(300_000);
    await shoot('variations-local');
    await page.getByTestId('family-jacobian').check();

    await page.getByTestId('tab-theory').click();
    await page.getByTestId('compute-trajectories').click();
    await page.getByTestId('trajectory-canvas').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    await shoot('theory-3d');

    for (const chart of ['emergence', 'perturbation', 'agreement', 'teleport'] as const) {
      await page.getByTestId(`chart-${chart}`).click();
      await page.getByTestId('run-analysis').click();
      await studio.page.waitForTimeout(300);
      await studio.waitForJob(600_000);
      await shoot(`theory-${chart}`);
    }

    await page.getByTestId('tab-studio').click();
    await page.getByTestId('session-name').click();
    await page.getByTestId('session-name-input').fill('Ankle boots');
    await page.getByTestId('session-name-input').press('Enter');
    await page.getByTestId('save-session').click();
    await page.waitForTimeout(300);
    await shoot('save-dialog');
  }, 1_200_000);
});

describe.skipIf(!emojiEnabled)('screenshot of the colour network', () => {
  it('studio on emoji32: a run scrubbed to the step where layout is set and detail is not', async () => {
    mkdirSync(OUT, { recursive: true });
    const studio = await Studio.open();
    try {
      const page = studio.page;
      await studio.modelItems().first().waitFor({ timeout: 30_000 });
      await studio.selectModel('emoji32');
      await studio.setField('#seed', '8');
      await studio.setField('#steps', '50');
      await studio.generate();
      await studio.showStep(18);
      await page.getByTestId('ghost-canvas').waitFor();
      await capture(page, 'studio-emoji-dark.png');
    } finally {
      await studio.close();
    }
  });
});

describe.skipIf(!diffusersEnabled)('screenshot of a diffusers pipeline', () => {
  it('studio on the tiny-sd fixture: a prompt, a branch painted early, the step on screen decoded', async () => {
    mkdirSync(OUT, { recursive: true });
    const studio = await Studio.open(undefined, undefined, undefined, undefined, [DIFFUSERS_FIXTURES]);
    try {
      const page = studio.page;
      await studio.modelItems().first().waitFor({ timeout: 30_000 });
      await studio.addModelFolder(join(DIFFUSERS_FIXTURES, 'tiny-sd'));
      await page.getByTestId('prompt').fill('a watercolor fox in the snow');
      await page.getByTestId('negative-prompt').fill('blurry');
      await studio.setField('#seed', '2026');
      await studio.setField('#steps', '30');
      await studio.generate();
      await studio.showStep(8);
      await studio.paint('x0-canvas', [0.3, 0.35], [0.65, 0.6]);
      await studio.showStep(14);
      await page.waitForFunction(() =>
        ['x0-canvas', 'xt-canvas', 'branch-final', 'parent-final'].every((id) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-shown') === 'decoded'),
      );
      for (const dismiss of await page.getByTestId('toast').getByRole('button', { name: 'Dismiss' }).all()) await dismiss.click();
      // The list filtered to the pipeline, so the whole Next run form is in the picture.
      await page.getByLabel('Filter the models').fill('sd');
      await page.getByLabel('Filter the models').blur();
      await capture(page, 'studio-diffusers-dark.png');
    } finally {
      await studio.close();
    }
  });
});
