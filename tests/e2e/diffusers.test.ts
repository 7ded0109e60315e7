import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../electron/engine/png';
import { Studio } from './studio-page';

/**
 * A diffusers pipeline in the studio (issue 10), on the tiny Stable Diffusion
 * fixture (tests/fixtures/diffusers/tiny-sd: a 4×8×8 latent decoded to 64×64,
 * text encoder, UNet with cross-attention, VAE): added as a user adds a
 * folder, generated from a prompt, scrubbed (preview at once, then the VAE
 * decode), brushed into a branch, varied, exported, removed and restored.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'diffusers');
const TINY_SD = join(FIXTURES, 'tiny-sd');

describe('a diffusers pipeline in the studio (painter serve + Chromium)', () => {
  let studio: Studio;
  let modelId: string;

  beforeAll(async () => {
    studio = await Studio.open(undefined, undefined, undefined, undefined, [FIXTURES]);
    await studio.modelItems().first().waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('adds the fixture folder: listed with its decoded size and its need for a prompt; the form asks for a prompt, not a class', async () => {
    modelId = await studio.addModelFolder(TINY_SD);
    const item = studio.page.locator(`[data-testid="model-item"][data-model-id="${modelId}"]`);
    expect(await item.getByTestId('model-detail').textContent()).toBe('64×64 · prompt');
    expect(await item.getAttribute('title')).toMatch(/colour 64×64 from a 4×8×8 latent/);
    await expect.poll(() => studio.page.getByTestId('prompt').count()).toBe(1);
    expect(await studio.page.locator('#class').count()).toBe(0);
    expect(await studio.page.locator('#width').inputValue()).toBe('64');
    expect(Number(await studio.page.locator('#guidance').inputValue())).toBeGreaterThan(1);
  });

  it('refuses a size off the latent grid with a message, then generates from a prompt', async () => {
    await studio.page.getByTestId('prompt').fill('a watercolor fox');
    await studio.page.getByTestId('negative-prompt').fill('blurry');
    await studio.setField('#seed', '1');
    await studio.setField('#steps', '8');
    await studio.setField('#width', '70');
    await studio.page.getByTestId('generate').click();
    await expect.poll(() => studio.page.getByTestId('size-error').textContent()).toMatch(/^Width must be a multiple of \d+/);
    expect(await studio.page.getByTestId('live-preview').count()).toBe(0);

    await studio.setField('#width', '64');
    // Ctrl+Enter from the prompt generates.
    await studio.page.getByTestId('prompt').focus();
    await studio.page.keyboard.press('Control+Enter');
    await studio.page.getByTestId('step-slider').waitFor({ state: 'visible', timeout: 120_000 });
    await studio.waitForJob();
    expect(await studio.page.getByTestId('size-error').count()).toBe(0);
    expect(await studio.page.getByTestId('run-prompt').textContent()).toBe('“a watercolor fox” — not “blurry”');
    expect(await studio.page.getByTestId('run-prompt').getAttribute('title')).toBe('Prompt: a watercolor fox\nNegative prompt: blurry');
    expect(await studio.page.getByTestId('run-title').textContent()).toMatch(/64×64 · seed 1 · 8 steps · euler · guidance/);
    expect(await studio.stepLabel()).toMatch(/^Step 8 \/ 8 .*final image/);
    // No latent statistics yet: no Gaussian ghost, so the label claims no "decided" share (the ghost pane says how to make them).
    await expect.poll(() => studio.page.getByTestId('step-label').textContent()).toMatch(/^Step 8 \/ 8 · σ = [^·]+ · \d+ network evaluations · final image$/);
    // The final image is decoded at 64×64 and is a picture, not a flat field.
    await expect.poll(() => studio.shown('x0-canvas')).toEqual({ shown: 'decoded', index: '8' });
    const final = await studio.canvasStats('x0-canvas');
    expect(final.width).toBe(64);
    expect(final.spread).toBeGreaterThan(1);
  });

  it('scrubbing shows the preview at once, then the decode of the step on screen; a step seen before comes back decoded', async () => {
    // Record every drawing of x̂0 in order: (state, what was shown).
    await studio.page.evaluate(() => {
      const canvas = document.querySelector('[data-testid="x0-canvas"]')!;
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => seen.push(`${canvas.getAttribute('data-index')}:${canvas.getAttribute('data-shown')}`)).observe(canvas, { attributes: true });
    });
    const slider = studio.page.getByTestId('step-slider');
    await slider.focus();
    await studio.page.keyboard.press('Home');
    await expect.poll(() => studio.stepLabel()).toMatch(/^Step 0 \/ 8/);
    await expect.poll(() => studio.shown('x0-canvas')).toEqual({ shown: 'decoded', index: '0' });
    const seen = await studio.page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.indexOf('0:preview')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('0:decoded')).toBeGreaterThan(seen.indexOf('0:preview'));
    // xₜ is decoded too, and differs from x̂0 at the start (noise).
    await expect.poll(() => studio.shown('xt-canvas')).toEqual({ shown: 'decoded', index: '0' });
    expect((await studio.canvasStats('xt-canvas')).pixels).not.toEqual((await studio.canvasStats('x0-canvas')).pixels);

    await studio.showStep(4);
    await expect.poll(() => studio.shown('x0-canvas')).toEqual({ shown: 'decoded', index: '4' });
    const atFour = (await studio.canvasStats('x0-canvas')).pixels;
    await studio.showStep(0);
    // Cached: decoded at once, no preview in between.
    expect(await studio.shown('x0-canvas')).toEqual({ shown: 'decoded', index: '0' });
    await studio.showStep(4);
    expect((await studio.canvasStats('x0-canvas')).pixels).toEqual(atFour);
    // The filmstrip shows every step's preview.
    expect(await studio.page.getByTestId('filmstrip').locator('canvas').count()).toBe(9);
  });

  it('a brush stroke in image coordinates branches the run; the branch and its parent are compared decoded', async () => {
    const rows = await studio.treeRows().count();
    await studio.showStep(2);
    await studio.paint('x0-canvas', [0.3, 0.3], [0.7, 0.7]);
    await expect.poll(() => studio.treeRows().count()).toBe(rows + 1);
    expect(await studio.contentChange()).toBeGreaterThan(0);
    await expect.poll(() => studio.shown('branch-final')).toMatchObject({ shown: 'decoded' });
    await expect.poll(() => studio.shown('parent-final')).toMatchObject({ shown: 'decoded' });
    expect((await studio.canvasStats('branch-final')).pixels).not.toEqual((await studio.canvasStats('parent-final')).pixels);
    expect((await studio.canvasStats('branch-difference')).width).toBe(64);
  });

  it('the variation grid varies the latents and shows its cells decoded', async () => {
    await studio.showStep(3);
    await studio.page.getByTestId('tab-variations').click();
    await studio.page.getByTestId('find-variations').click();
    await studio.page.getByTestId('variation-grid').waitFor({ timeout: 170_000 });
    await studio.waitForJob();
    const cells = await Promise.all([0, 1].map((a) => studio.canvasStats(`variation-0-${a}`)));
    expect(cells[0]!.width).toBe(64);
    expect(cells[0]!.spread).toBeGreaterThan(1);
    expect(cells[0]!.pixels).not.toEqual(cells[1]!.pixels);
    // Each latent direction is drawn as the colour change it makes (through the run's preview map).
    expect(await studio.page.getByTestId('direction-0').evaluate((element) => element.tagName)).toBe('CANVAS');
    expect((await studio.canvasStats('direction-0')).spread).toBeGreaterThan(1);

    // Local variations: the region is painted on the preview's latent grid (sizes in cells).
    await studio.page.getByTestId('family-local').check();
    expect(await studio.page.getByLabel('Region brush radius (latent cells)').locator('option').first().textContent()).toBe('1 cell');
    await studio.drag('region-canvas', [0.2, 0.2], [0.5, 0.5]);
    await studio.page.getByTestId('find-variations').click();
    await expect.poll(() => studio.page.getByTestId('search-caption').textContent(), { timeout: 170_000 }).toMatch(/Rest kept fixed/);
    await studio.waitForJob();
    expect((await studio.canvasStats('variation-0-0')).width).toBe(64);
    await studio.page.getByTestId('family-jacobian').check();
    await studio.page.getByTestId('tab-studio').click();
  });

  it('exports the latent run: a decoded filmstrip PNG, a timeline GIF and the raw latent trajectories', async () => {
    const files: Record<string, string> = {};
    for (const [kind, name] of [
      ['Filmstrip PNG', 'strip.png'],
      ['Animation GIF', 'timeline.gif'],
      ['Trajectories (safetensors)', 'runs.safetensors'],
    ] as const) {
      // Browser mode writes only inside its workspace.
      const file = join(studio.workspace, name);
      files[name] = file;
      await studio.page.getByTestId('export').click();
      await studio.page.getByLabel(kind).check();
      await studio.page.locator('#export-path').fill(file);
      await studio.page.getByTestId('export-confirm').click();
      await expect.poll(() => studio.page.getByTestId('export-result').textContent(), { timeout: 60_000 }).toContain(file);
      await studio.page.getByRole('button', { name: 'Close' }).click();
    }
    const png = readFileSync(files['strip.png']!);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    // PNG IHDR: the strip's frames are decoded images, at least 64 pixels high.
    expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(64);
    const gif = readFileSync(files['timeline.gif']!);
    expect(gif.subarray(0, 6).toString('ascii')).toBe('GIF89a');
    // GIF logical screen: the frames are images at least as large as the decoded 64×64.
    expect(gif.readUInt16LE(6)).toBeGreaterThanOrEqual(64);
    const raw = readFileSync(files['runs.safetensors']!);
    const header = JSON.parse(raw.toString('utf-8', 8, 8 + Number(raw.readBigUInt64LE(0)))) as Record<string, { shape: number[] }>;
    // The latents themselves: 9 states of 4×8×8.
    expect(header['run0.x_t']?.shape).toEqual([9, 4, 8, 8]);
  });

  it('a dropped image starts a latent run: given at the decoded size, encoded by the VAE in the engine', async () => {
    const rows = await studio.treeRows().count();
    const width = 48;
    const height = 40;
    const pixels = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.set(x > 12 && x < 36 && y > 8 && y < 32 ? [250, 230, 60] : [10, 20, 90], (y * width + x) * 3);
    await studio.dropFiles([{ name: 'fox.png', bytes: encodePng({ width, height, channels: 3, pixels }), type: 'image/png' }]);
    await studio.page.getByTestId('image-start-dialog').waitFor({ state: 'visible' });
    const seen = await studio.canvasStats('image-start-preview');
    expect(seen.width).toBe(64); // the decoded size of the next run, not the 8×8 latent grid
    expect(seen.spread).toBeGreaterThan(10);
    await studio.page.getByTestId('image-start-confirm').click();
    await expect.poll(() => studio.treeRows().count(), { timeout: 60_000 }).toBe(rows + 1);
    await studio.waitForJob();
    expect(await studio.page.getByTestId('origin-badge').textContent()).toMatch(/from fox\.png at step \d+/);
    await expect.poll(() => studio.shown('x0-canvas')).toMatchObject({ shown: 'decoded' });
  });

  it('removes the model from the list (the folder stays) and undo brings it back', async () => {
    const item = studio.page.locator(`[data-testid="model-item"][data-model-id="${modelId}"]`);
    await item.hover();
    await studio.page.getByRole('button', { name: /^Remove .* from the list$/ }).click();
    await expect.poll(() => item.count()).toBe(0);
    expect(readFileSync(join(TINY_SD, 'model_index.json'), 'utf-8')).toContain('StableDiffusionPipeline');
    await studio.page.locator('body').click({ position: { x: 5, y: 5 } });
    await studio.page.keyboard.press('Control+z');
    await expect.poll(() => item.count()).toBe(1);
  });
});

describe('the theory on a latent run, with the latent statistics of painter stats', () => {
  let studio: Studio;
  const home = mkdtempSync(join(tmpdir(), 'painter-e2e-latent-stats-'));

  beforeAll(async () => {
    // What a user does first: `painter stats --model PATH --from-samples N` (saved in Painter's data folder, never in the model's).
    const stats = spawnSync(
      process.execPath,
      [join(__dirname, '..', '..', 'bin', 'painter.cjs'), 'stats', '--model', TINY_SD, '--from-samples', '12', '--steps', '4', '--prompt', 'a watercolor fox', '--rank', '6', '--provider', 'cpu'],
      { env: { ...process.env, PAINTER_HOME: home }, encoding: 'utf-8', timeout: 120_000 },
    );
    expect(stats.status, stats.stderr).toBe(0);
    studio = await Studio.open(undefined, home, undefined, undefined, [FIXTURES]);
    await studio.modelItems().first().waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await studio?.close();
  });

  it("draws the Gaussian ghost of a latent run through the run's own preview map, beside x̂0 and xₜ", async () => {
    await studio.addModelFolder(TINY_SD);
    await studio.page.getByTestId('prompt').fill('a watercolor fox');
    await studio.setField('#steps', '6');
    await studio.generate();
    await studio.page.getByTestId('ghost-canvas').waitFor({ timeout: 60_000 });
    await studio.showStep(2);
    const ghost = await studio.canvasStats('ghost-canvas');
    expect(ghost.width).toBe(64); // drawn at the decoded size, like the run
    expect(ghost.spread).toBeGreaterThan(1);
    expect(await studio.shown('ghost-canvas')).toEqual({ shown: 'state', index: '2' });
  });
});
