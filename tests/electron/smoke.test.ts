/**
 * The desktop app, for real: Electron opens the studio window, the model list
 * shows, a 10-step network run completes, a brush branches it, the session is
 * saved, and the app quits. Two ways to run it:
 *
 * - development build (`npm run build`, then `electron .`), driven by
 *   Playwright's `_electron` — needs the Electron binary in node_modules
 *   (a normal `npm install`, not ELECTRON_SKIP_BINARY_DOWNLOAD);
 * - packaged app: PAINTER_ELECTRON_APP=<its executable>. The fuses turn off
 *   Node's inspector flags that `_electron` relies on, so the app is started
 *   with Chromium's --remote-debugging-port and driven over CDP.
 *
 * Where neither exists (these machines: no Electron binary can be had) the
 * test is skipped and says why. The GitHub workflow runs both ways on Linux,
 * Windows and macOS (.github/workflows/desktop.yml).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, chromium, type Browser, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const packaged = process.env['PAINTER_ELECTRON_APP'];

/** The Electron binary of node_modules/electron, or why there is none. */
function electronBinary(): { path: string } | { reason: string } {
  try {
    const path = createRequire(join(ROOT, 'package.json'))('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { reason: `the electron package names ${String(path)}, which does not exist` };
  } catch (error) {
    return { reason: `require('electron') fails: ${(error as Error).message.split('\n')[0]}` };
  }
}

const binary = packaged === undefined ? electronBinary() : { path: packaged };
const skipReason =
  'reason' in binary
    ? `no Electron binary here (${binary.reason}); install with the binary (npm install without ELECTRON_SKIP_BINARY_DOWNLOAD) or set PAINTER_ELECTRON_APP to a packaged Painter`
    : packaged !== undefined && !existsSync(packaged)
      ? `PAINTER_ELECTRON_APP=${packaged} does not exist`
      : !existsSync(join(ROOT, 'out', 'main', 'main.js')) && packaged === undefined
        ? 'out/main/main.js is missing: run `npm run build` first'
        : null;
if (skipReason !== null) console.log(`tests/electron/smoke.test.ts skipped: ${skipReason}.`);

describe.runIf(skipReason === null)(`desktop app smoke test (${packaged === undefined ? 'electron .' : packaged})`, () => {
  const home = mkdtempSync(join(tmpdir(), 'painter-electron-'));
  let app: ElectronApplication | null = null;
  let child: ChildProcess | null = null;
  let browser: Browser | null = null;
  let page: Page;

  beforeAll(async () => {
    const env = { ...process.env, PAINTER_HOME: home, ELECTRON_ENABLE_LOGGING: '1' } as Record<string, string>;
    delete env['ELECTRON_RUN_AS_NODE'];
    if (packaged === undefined) {
      // PAINTER_HOME gives the run its own data folder (and single-instance lock).
      app = await _electron.launch({ executablePath: (binary as { path: string }).path, args: [ROOT], env, timeout: 60_000 });
      page = await app.firstWindow({ timeout: 60_000 });
    } else {
      const port = 9300 + Math.floor(Math.random() * 500);
      child = spawn(packaged, [`--remote-debugging-port=${port}`], { env, stdio: 'inherit' });
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      const context = browser.contexts()[0]!;
      page = context.pages().find((candidate) => candidate.url().startsWith('app://')) ?? (await context.waitForEvent('page', { timeout: 60_000 }));
    }
    await page.waitForLoadState('domcontentloaded');
  }, 180_000);

  afterAll(async () => {
    await app?.close().catch(() => {});
    await browser?.close().catch(() => {});
    child?.kill();
  });

  it('opens the studio window from app://painter', async () => {
    expect(page.url()).toBe('app://painter/index.html');
    await expect.poll(() => page.title(), { timeout: 30_000 }).toMatch(/Painter/);
    // The page is the sandboxed studio: the preload's bridge, and no Node.
    expect(await page.evaluate(() => typeof (window as unknown as { painter?: unknown }).painter)).toBe('object');
    expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
  });

  it('lists the bundled models', async () => {
    await page.getByTestId('model-item').first().waitFor({ timeout: 60_000 });
    const ids = await page.getByTestId('model-item').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-model-id')));
    expect(ids).toEqual(expect.arrayContaining(['fashion-mnist', 'fashion-mnist-gaussian']));
  });

  it('runs the Fashion-MNIST network for 10 steps, and says which provider ran it', async () => {
    await page.locator('[data-testid="model-item"][data-model-id="fashion-mnist"]').click();
    await page.locator('#steps').fill('10');
    await page.getByTestId('generate').click();
    await page.getByTestId('step-slider').waitFor({ state: 'visible', timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'), undefined, { timeout: 120_000 });
    await expect.poll(() => page.getByTestId('step-label').textContent()).toMatch(/Step 10 \/ 10 .*final image/);
    const detail = await page.locator('[data-model-id="fashion-mnist"] [data-testid="model-detail"]').textContent();
    expect(detail).toMatch(/on (cpu|webgpu|cuda|dml|coreml)/);
  });

  it('a brush stroke at step 3 branches the run', async () => {
    const rows = await page.getByTestId('tree-row').count();
    await page.getByRole('button', { name: /^Step 3( |$)/ }).click();
    const box = (await page.getByTestId('xt-canvas').boundingBox())!;
    await page.mouse.move(box.x + 0.4 * box.width, box.y + 0.45 * box.height);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + (0.4 + 0.025 * i) * box.width, box.y + (0.45 + 0.0125 * i) * box.height);
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('tree-row').count(), { timeout: 120_000 }).toBe(rows + 1);
  });

  it('saves the session and quits', async () => {
    await page.getByTestId('save-session').click();
    await page.locator('#session-path').fill(join(home, 'smoke.painter'));
    await page.getByTestId('save-confirm').click();
    await expect.poll(() => existsSync(join(home, 'smoke.painter')), { timeout: 30_000 }).toBe(true);
    if (app !== null) {
      const exited = new Promise<void>((resolve) => app!.process().once('exit', () => resolve()));
      await app.evaluate(({ app: electronApp }) => electronApp.quit());
      await exited;
      app = null;
    } else {
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      await page.evaluate(() => window.close()).catch(() => {}); // the page goes away with its window
      if (process.platform === 'darwin') child!.kill(); // macOS apps outlive their last window
      expect([0, null]).toContain(await exited);
      child = null;
    }
  });
});
