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
import { startServer, type RunningServer } from '../../electron/serve/server';

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
    /** The server's workspace: browser mode reads and writes files only here. */
    readonly workspace: string,
  ) {}

  static async open(
    nativeModelsDir = join(ROOT, 'native-models'),
    userDataDir = mkdtempSync(join(tmpdir(), 'painter-e2e-')),
    workspace = join(userDataDir, 'workspace'),
    viewport: { width: number; height: number } = { width: 1280, height: 720 },
    /** Folders browser mode may read besides the workspace (model folders named on `painter serve`'s command line). */
    readOnly: string[] = [],
  ): Promise<Studio> {
    const server = await startServer({
      confine: { workspace, readOnly },
      port: 0,
      rendererDir: join(ROOT, 'out', 'renderer'),
      workerPath: join(ROOT, 'out', 'cli', 'engine-worker.cjs'),
      nativeModelsDir,
      userDataDir,
    });
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport });
    await page.goto(server.url);
    return new Studio(server, browser, page, workspace);
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
    await this.waitForJob();
  }

  /** Waits until no job runs (the Cancel button is gone). */
  async waitForJob(timeout = 120_000): Promise<void> {
    await this.page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'), undefined, { timeout });
  }

  async setField(selector: string, value: string): Promise<void> {
    await this.page.locator(selector).fill(value);
  }

  stepLabel(): Promise<string | null> {
    return this.page.getByTestId('step-label').textContent();
  }

  /** Adds a model folder as a browser-mode user does: "+ Add…", its path typed, Add; resolves to the id of the model it selected. */
  async addModelFolder(folder: string): Promise<string> {
    await this.page.getByRole('button', { name: '+ Add…' }).click();
    await this.page.locator('#model-folder').fill(folder);
    await this.page.getByTestId('add-model-confirm').click();
    const item = this.page.locator('[data-testid="model-item"][aria-pressed="true"]');
    await this.page.locator('#model-folder').waitFor({ state: 'hidden' });
    const id = await item.getAttribute('data-model-id');
    if (id === null) throw new Error(`Adding ${folder} selected no model`);
    return id;
  }

  /** What a canvas shows: 'state' (a pixel run), 'preview' or 'decoded' (a latent run), and which state. */
  async shown(testId: string): Promise<{ shown: string | null; index: string | null }> {
    const canvas = this.page.getByTestId(testId);
    return { shown: await canvas.getAttribute('data-shown'), index: await canvas.getAttribute('data-index') };
  }

  /** Clicks the filmstrip thumbnail of a step, as a user jumping there. */
  async showStep(step: number): Promise<void> {
    await this.page.getByRole('button', { name: new RegExp(`^Step ${step}( |$)`) }).click();
    await this.page.waitForFunction((s) => document.querySelector('[data-testid="x0-canvas"]')?.getAttribute('data-index') === String(s), step);
  }

  /**
   * Drags a stroke across a canvas, from and to points given as fractions of
   * its width and height, then waits for the branch job to finish.
   */
  async paint(testId: string, from: [number, number], to: [number, number]): Promise<void> {
    const box = await this.page.getByTestId(testId).boundingBox();
    if (box === null) throw new Error(`${testId} is not on screen`);
    const at = ([fx, fy]: [number, number]): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    await this.page.mouse.move(...at(from));
    await this.page.mouse.down();
    for (let i = 1; i <= 8; i++) {
      const t = i / 8;
      await this.page.mouse.move(...at([from[0] + t * (to[0] - from[0]), from[1] + t * (to[1] - from[1])]));
    }
    await this.page.mouse.up();
    await this.page.getByTestId('cancel').waitFor({ state: 'attached', timeout: 5_000 }).catch(() => {});
    await this.waitForJob();
  }

  /** Drags across a canvas (fractions of its width and height) without waiting for a job: e.g. painting a region. */
  async drag(testId: string, from: [number, number], to: [number, number]): Promise<void> {
    const box = await this.page.getByTestId(testId).boundingBox();
    if (box === null) throw new Error(`${testId} is not on screen`);
    const at = ([fx, fy]: [number, number]): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    await this.page.mouse.move(...at(from));
    await this.page.mouse.down();
    for (let i = 1; i <= 8; i++) {
      const t = i / 8;
      await this.page.mouse.move(...at([from[0] + t * (to[0] - from[0]), from[1] + t * (to[1] - from[1])]));
    }
    await this.page.mouse.up();
  }

  /** The content change the branch comparison shows, as a fraction. */
  async contentChange(): Promise<number> {
    const value = await this.page.getByTestId('content-change').getAttribute('data-value');
    return Number(value);
  }

  treeRows() {
    return this.page.getByTestId('tree-row');
  }

  /** Answers the studio's confirmation dialog (delete, discard). */
  async confirm(ok: boolean): Promise<void> {
    const dialog = this.page.getByTestId('confirm-dialog');
    await dialog.waitFor({ state: 'visible' });
    await this.page.getByTestId(ok ? 'confirm-ok' : 'confirm-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
  }

  /** Deletes a row of the runs list, answering the confirmation. */
  async deleteRow(row: ReturnType<Studio['treeRows']>, ok = true): Promise<void> {
    await row.getByRole('button', { name: /^Delete this/ }).click();
    await this.confirm(ok);
  }

  /**
   * Drops files on the studio as a user dragging them from the desktop: a
   * DataTransfer with real File objects, through dragenter, dragover and drop.
   */
  async dropFiles(files: Array<{ name: string; bytes: Uint8Array; type?: string }>): Promise<void> {
    const encoded = files.map((file) => ({ name: file.name, type: file.type ?? '', base64: Buffer.from(file.bytes).toString('base64') }));
    await this.page.evaluate((list) => {
      const transfer = new DataTransfer();
      for (const file of list) {
        const binary = atob(file.base64);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        transfer.items.add(new File([bytes], file.name, { type: file.type }));
      }
      const target = document.querySelector('main') ?? document.body;
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, encoded);
  }

  /** Pixels of a WebGL (or any) canvas, read back through a 2-D canvas. */
  async webglCanvasStats(testId: string): Promise<{ spread: number; distinctColours: number }> {
    return this.page.getByTestId(testId).evaluate((canvas) => {
      const source = canvas as HTMLCanvasElement;
      const copy = document.createElement('canvas');
      copy.width = source.width;
      copy.height = source.height;
      const context = copy.getContext('2d')!;
      context.drawImage(source, 0, 0);
      const { data } = context.getImageData(0, 0, copy.width, copy.height);
      const colours = new Set<number>();
      let sum = 0;
      let squares = 0;
      for (let i = 0; i < data.length; i += 4) {
        const grey = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
        sum += grey;
        squares += grey * grey;
        colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      }
      const n = data.length / 4;
      return { spread: Math.sqrt(Math.max(0, squares / n - (sum / n) ** 2)), distinctColours: colours.size };
    });
  }

  /** A hash of a (WebGL or 2-D) canvas's pixels: equal hashes, the same picture. */
  async canvasHash(testId: string): Promise<number> {
    return this.page.getByTestId(testId).evaluate((canvas) => {
      const source = canvas as HTMLCanvasElement;
      const copy = document.createElement('canvas');
      copy.width = source.width;
      copy.height = source.height;
      const context = copy.getContext('2d')!;
      context.drawImage(source, 0, 0);
      const { data } = context.getImageData(0, 0, copy.width, copy.height);
      let hash = 2166136261;
      for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i]!, 16777619) >>> 0;
      return hash;
    });
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
