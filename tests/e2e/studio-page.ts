/// <reference lib="dom" />
/**
 * Page object for the studio in browser mode: starts `painter serve` in-process
 * on a free port, drives Debian's Chromium with playwright-core, and reads what
 * a user would see (canvas pixels, labels, banners).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../electron/server';

const ROOT = join(__dirname, '..', '..');

export function chromiumPath(): string {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(
    (p): p is string => p !== undefined,
  );
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`No Chromium found (tried ${candidates.join(', ')}); install Debian's chromium or set CHROMIUM_PATH.`);
  return found;
}

export class Studio {
  private constructor(
    readonly server: RunningServer,
    readonly browser: Browser,
    readonly page: Page,
  ) {}

  static async open(nativeModelsDir = join(ROOT, 'native-models')): Promise<Studio> {
    const server = await startServer({
      port: 0,
      rendererDir: join(ROOT, 'out', 'renderer'),
      workerPath: join(ROOT, 'out', 'cli', 'engine-worker.cjs'),
      nativeModelsDir,
      userDataDir: mkdtempSync(join(tmpdir(), 'painter-e2e-')),
    });
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(server.url);
    return new Studio(server, browser, page);
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.server.close();
  }

  modelItems() {
    return this.page.getByTestId('model-item');
  }

  async selectModel(id: string): Promise<void> {
    await this.page.locator(`[data-testid="model-item"][data-model-id="${id}"]`).click();
  }

  async generate(): Promise<void> {
    await this.page.getByTestId('generate').click();
    await this.page.getByTestId('step-slider').waitFor({ state: 'visible', timeout: 120_000 });
    await this.page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'), undefined, { timeout: 120_000 });
  }

  /** Standard deviation and mean of a canvas's grey levels: 0 spread means a blank image. */
  async canvasStats(testId: string): Promise<{ mean: number; spread: number; width: number; pixels: number[] }> {
    return this.page.getByTestId(testId).evaluate((canvas) => {
      const element = canvas as HTMLCanvasElement;
      const context = element.getContext('2d')!;
      const { data } = context.getImageData(0, 0, element.width, element.height);
      const grey: number[] = [];
      for (let i = 0; i < data.length; i += 4) grey.push((data[i]! + data[i + 1]! + data[i + 2]!) / 3);
      const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
      const spread = Math.sqrt(grey.reduce((a, b) => a + (b - mean) ** 2, 0) / grey.length);
      return { mean, spread, width: element.width, pixels: grey.filter((_, i) => i % 97 === 0) };
    });
  }
}
