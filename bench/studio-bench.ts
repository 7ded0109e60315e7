/**
 * `npm run bench:studio`: the studio's performance targets (issue 5), measured
 * in one process and printed as a table and a JSON line. Never a CI gate.
 *
 * - Scrub: time from a ← / → key to x̂0, xₜ and the ghost showing the new step,
 *   for steps already drawn once (cached), in headless Chromium. Target < 16 ms.
 * - Branch: a re-run from the middle step of a 50-step run on the bundled
 *   Fashion-MNIST network (engine only, and end to end in the browser: stroke
 *   released → branch on screen). Target < 0.5 s on 2 CPU cores.
 * - 3-D: frames per second of the trajectory view with 16 trajectories while
 *   it turns, in headless Chromium's requestAnimationFrame timing. Target 60.
 * - Live preview (issue 12): Generate pressed → the first x̂0 preview frame on
 *   screen, the model already loaded. Target ≤ 200 ms.
 * - 3-D view of 16 seeds (press Compute → the view drawn), target ≤ 5 s; the
 *   perturbation chart with 4 seeds (press Run → the heat map drawn), target
 *   ≤ 30 s; both with the run's settings on the Fashion-MNIST network.
 *
 * - Latent runs (issue 10), on the tiny Stable Diffusion fixture
 *   (tests/fixtures/diffusers/tiny-sd, 30 steps, at its own 64×64 and at
 *   Stable Diffusion 1.5's 512×512 canvas): arriving at a step for the
 *   first time → its preview on screen (target ≤ 50 ms); a step whose preview
 *   is cached → on screen (target < 16 ms); the VAE decode of the step on
 *   screen arriving after it (engine decode + transport); a step whose decode
 *   is cached. `--latent` runs only this part.
 *
 * Uses the trained network (native-models/fashion-mnist) when it is installed;
 * otherwise says so and uses the analytic Gaussian.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Brush } from '../electron/api/contract';
import { Engine } from '../electron/engine/service';
import { startServer } from '../electron/serve/server';

const ROOT = resolve(__dirname, '..', '..');
const NATIVE = join(ROOT, 'native-models');
const NETWORK = existsSync(join(NATIVE, 'fashion-mnist', 'manifest.json'));
const MODEL = NETWORK ? 'fashion-mnist' : 'fashion-mnist-gaussian';
const TINY_SD = join(ROOT, 'tests', 'fixtures', 'diffusers', 'tiny-sd');
const LATENT_STEPS = 30;
const CHROMIUM = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && existsSync(p));

/** Headless Debian Chromium, as the e2e tests start it (no background networking: this machine has no network). */
function launchChromium(): ReturnType<typeof chromium.launch> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const BRUSH: Brush = { kind: 'noise', points: [{ x: 14, y: 14 }], radius: 5, strength: 8, seed: 1 };

async function engineBranch(): Promise<{ seconds: number[]; steps: number }> {
  const engine = new Engine({ nativeModelsDir: NATIVE, userDataDir: mkdtempSync(join(tmpdir(), 'painter-bench-')) });
  try {
    const info = await engine.registry.info(MODEL);
    const classLabel = info.classes !== null ? 0 : null;
    const parent = await engine.generate({ modelId: MODEL, seed: 1, steps: 50, sampler: 'euler', classLabel, guidance: 1 });
    await engine.call('branch', { jobId: 'warm', runId: parent.runId, step: 25, brush: BRUSH }); // warm-up
    const seconds: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      await engine.call('branch', { jobId: `b${i}`, runId: parent.runId, step: 25, brush: { ...BRUSH, seed: i + 2 } });
      seconds.push((performance.now() - started) / 1000);
    }
    return { seconds, steps: 25 };
  } finally {
    await engine.dispose();
  }
}

interface BrowserResults {
  scrubMs: number[];
  scrubFrameMs: number[];
  branchUiSeconds: number[];
  /** Per branch, in ms: the branch call (engine + transport), then fetching the run and showing it. */
  branchMarks: Array<{ call: number; fetchAndShow: number }>;
  fps: number;
  frames: number;
  trajectories: number;
  firstPreviewMs: number[];
  trajectorySeconds: number;
  perturbationSeconds: number;
}

async function browser(): Promise<BrowserResults> {
  if (CHROMIUM === undefined) throw new Error('No Chromium found; install Debian\'s chromium or set CHROMIUM_PATH.');
  const userDataDir = mkdtempSync(join(tmpdir(), 'painter-bench-ui-'));
  const server = await startServer({
    confine: { workspace: join(userDataDir, 'workspace'), readOnly: [] },
    port: 0,
    rendererDir: join(ROOT, 'out', 'renderer'),
    workerPath: join(ROOT, 'out', 'cli', 'engine-worker.cjs'),
    nativeModelsDir: NATIVE,
    userDataDir,
  });
  const browserProcess = await launchChromium();
  try {
    const page = await browserProcess.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(server.url);
    await page.locator(`[data-testid="model-item"][data-model-id="${MODEL}"]`).click();
    await page.locator('#steps').fill('50');
    await page.getByTestId('generate').click();
    await page.getByTestId('step-slider').waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'));
    await page.getByTestId('ghost-canvas').waitFor({ timeout: 60_000 });

    // First live-preview frame: Generate pressed (model loaded) → the preview canvas drawn, in the page's own clock.
    const firstPreviewMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      firstPreviewMs.push(
        await page.evaluate(async () => {
          const button = document.querySelector('[data-testid="generate"]') as HTMLButtonElement;
          const started = performance.now();
          button.click();
          for (;;) {
            await new Promise((r) => requestAnimationFrame(r));
            if (document.querySelector('[data-testid="live-canvas"]') !== null) return performance.now() - started;
            if (performance.now() - started > 30_000) return Number.NaN;
          }
        }),
      );
      await page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'), undefined, { timeout: 120_000 });
      await page.getByTestId('ghost-canvas').waitFor({ timeout: 60_000 });
    }

    // Scrub: two passes over every step (the first draws and caches), timing the second.
    const scrub = await page.evaluate(async () => {
      const canvases = ['x0-canvas', 'xt-canvas', 'ghost-canvas'].map((id) => document.querySelector(`[data-testid="${id}"]`) as HTMLCanvasElement);
      const shows = (step: number): boolean => canvases.every((canvas) => canvas.dataset['index'] === String(step));
      const press = async (key: string, step: number): Promise<number> => {
        const started = performance.now();
        window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
        // Svelte flushes its effects in a microtask; fall back to a task if one is ever needed.
        for (let i = 0; !shows(step); i++) await (i < 1000 ? Promise.resolve() : new Promise((r) => setTimeout(r, 0)));
        return performance.now() - started;
      };
      const frame = (): Promise<number> => new Promise((r) => requestAnimationFrame(r));
      const last = Number((document.querySelector('[data-testid="step-slider"]') as HTMLInputElement).max);
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Home', bubbles: true }));
      await frame();
      for (let step = 1; step <= last; step++) await press('ArrowRight', step);
      const update: number[] = [];
      const toFrame: number[] = [];
      for (let step = last - 1; step >= 0; step--) {
        const started = performance.now();
        update.push(await press('ArrowLeft', step));
        await frame(); // the frame that shows it
        toFrame.push(performance.now() - started);
      }
      return { update, toFrame };
    });

    // Branch end to end: stroke released on xₜ at the middle step → the branch's comparison on screen.
    const branchUiSeconds: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.getByTestId('tree-row').first().getByRole('button').first().click();
      await page.getByRole('button', { name: /^Step 25( |$)/ }).click();
      const box = (await page.getByTestId('xt-canvas').boundingBox())!;
      const rows = await page.getByTestId('tree-row').count();
      await page.mouse.move(box.x + box.width * (0.4 + 0.05 * i), box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 4 });
      const started = Date.now();
      await page.mouse.up();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="tree-row"]').length === n && !document.querySelector('[data-testid="cancel"]'), rows + 1, { polling: 'raf' });
      await page.getByTestId('content-change').waitFor();
      branchUiSeconds.push((Date.now() - started) / 1000);
    }
    const marks = await page.evaluate(() => {
      const at = (name: string): number[] => performance.getEntriesByName(name).map((entry) => entry.startTime);
      const start = at('branch:start');
      const computed = at('branch:computed');
      const shown = at('branch:shown');
      return start.map((s, i) => ({ call: computed[i]! - s, fetchAndShow: shown[i]! - computed[i]! }));
    });

    // 3-D: 16 trajectories (timed from the press to the view drawn), then turntable on, frames counted over 3 s.
    await page.getByTestId('tab-theory').click();
    await page.locator('select[aria-label="Number of trajectories"]').selectOption('16');
    const trajectoriesStarted = Date.now();
    await page.getByTestId('compute-trajectories').click();
    await page.getByTestId('trajectory-canvas').waitFor({ timeout: 300_000 });
    const trajectorySeconds = (Date.now() - trajectoriesStarted) / 1000;
    await page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'), undefined, { timeout: 300_000 });
    await page.getByTestId('auto-rotate').check();
    const fps = await page.evaluate(async () => {
      const canvas = document.querySelector('[data-testid="trajectory-canvas"]') as HTMLCanvasElement;
      await new Promise((r) => setTimeout(r, 500));
      const frames0 = Number(canvas.dataset['frames'] ?? 0);
      const started = performance.now();
      await new Promise((r) => setTimeout(r, 3000));
      const frames = Number(canvas.dataset['frames'] ?? 0) - frames0;
      return { frames, fps: frames / ((performance.now() - started) / 1000) };
    });
    await page.getByTestId('auto-rotate').uncheck();

    // Perturbation chart, 4 seeds: the press of Run → the heat map drawn.
    await page.getByTestId('chart-perturbation').click();
    await page.locator('select[aria-label="Seeds to average over"]').selectOption('4');
    const perturbationStarted = Date.now();
    await page.getByTestId('run-analysis').click();
    await page.getByTestId('perturbation-heatmap').waitFor({ timeout: 600_000 });
    const perturbationSeconds = (Date.now() - perturbationStarted) / 1000;

    return {
      scrubMs: scrub.update,
      scrubFrameMs: scrub.toFrame,
      branchUiSeconds,
      branchMarks: marks,
      fps: fps.fps,
      frames: fps.frames,
      trajectories: 16,
      firstPreviewMs,
      trajectorySeconds,
      perturbationSeconds,
    };
  } finally {
    await browserProcess.close();
    await server.close();
  }
}

interface LatentResults {
  /** First visit of each step, fast scrub: key → preview of x̂0 and xₜ on screen. */
  arriveMs: number[];
  /** Each step again (its preview frame cached, its decode not yet asked for): key → on screen. */
  cachedPreviewMs: number[];
  /** Then, standing on that step: key → the decodes of x̂0 and xₜ on screen. */
  decodeMs: number[];
  /** Each step once more, decodes cached: key → on screen, decoded. */
  cachedDecodeMs: number[];
  /** Of the cached-preview presses, how many already showed the decode (the step had been decoded in passing). */
  alreadyDecoded: number;
}

/** Decoded sizes measured: the fixture's own, and the canvas of a Stable Diffusion 1.5 run. */
const LATENT_SIZES = [64, 512];

async function latentBrowser(size: number): Promise<LatentResults> {
  if (CHROMIUM === undefined) throw new Error('No Chromium found; install Debian\'s chromium or set CHROMIUM_PATH.');
  const userDataDir = mkdtempSync(join(tmpdir(), 'painter-bench-latent-'));
  const server = await startServer({
    confine: { workspace: join(userDataDir, 'workspace'), readOnly: [TINY_SD] },
    port: 0,
    rendererDir: join(ROOT, 'out', 'renderer'),
    workerPath: join(ROOT, 'out', 'cli', 'engine-worker.cjs'),
    nativeModelsDir: NATIVE,
    userDataDir,
    modelFolders: [TINY_SD],
  });
  const browserProcess = await launchChromium();
  try {
    const page = await browserProcess.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(server.url);
    await page.locator('[data-testid="model-item"][data-model-id="tiny-sd"]').click();
    await page.getByTestId('prompt').fill('a watercolor fox');
    await page.locator('#steps').fill(String(LATENT_STEPS));
    await page.locator('#width').fill(String(size));
    await page.locator('#height').fill(String(size));
    await page.getByTestId('generate').click();
    await page.getByTestId('step-slider').waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid="cancel"]'));
    return await page.evaluate(async () => {
      const canvases = ['x0-canvas', 'xt-canvas'].map((id) => document.querySelector(`[data-testid="${id}"]`) as HTMLCanvasElement);
      const shows = (step: number, decoded: boolean): boolean =>
        canvases.every((canvas) => canvas.dataset['index'] === String(step) && (!decoded || canvas.dataset['shown'] === 'decoded'));
      const until = async (done: () => boolean): Promise<void> => {
        // Svelte flushes its effects in a microtask; a decode arrives in a later task.
        for (let i = 0; !done(); i++) await (i < 1000 ? Promise.resolve() : new Promise((r) => setTimeout(r, 0)));
      };
      const press = async (key: string, step: number, decoded = false): Promise<number> => {
        const started = performance.now();
        window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
        await until(() => shows(step, decoded));
        return performance.now() - started;
      };
      const last = Number((document.querySelector('[data-testid="step-slider"]') as HTMLInputElement).max);
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
      await until(() => shows(last, true));
      // First visits, fast: End → Home, then every step forward; the decodes of the steps passed are never waited for.
      const arriveMs = [await press('Home', 0)];
      for (let step = 1; step < last; step++) arriveMs.push(await press('ArrowRight', step));
      // Back, slowly: each step's preview is cached; then its decode is waited for.
      const cachedPreviewMs: number[] = [];
      const decodeMs: number[] = [];
      let alreadyDecoded = 0;
      for (let step = last - 2; step >= 0; step--) {
        // A user's next key comes a beat later (key repeat is 30 per second): let the last decode's arrival settle (its message decoded, its frame drawn).
        await new Promise((r) => setTimeout(r, 100));
        const started = performance.now();
        cachedPreviewMs.push(await press('ArrowLeft', step));
        if (shows(step, true)) alreadyDecoded++;
        await until(() => shows(step, true));
        decodeMs.push(performance.now() - started);
      }
      // Forward again over the steps decoded on the way back: every decode is cached.
      const cachedDecodeMs: number[] = [];
      for (let step = 1; step <= last - 2; step++) cachedDecodeMs.push(await press('ArrowRight', step, true));
      return { arriveMs, cachedPreviewMs, decodeMs, cachedDecodeMs, alreadyDecoded };
    });
  } finally {
    await browserProcess.close();
    await server.close();
  }
}

function printLatent(latent: LatentResults, size: number): void {
  const median = (values: number[]): number => quantile(values, 0.5);
  const line = (values: number[]): string => `median ${median(values).toFixed(2)} ms, p95 ${quantile(values, 0.95).toFixed(2)} ms, max ${Math.max(...values).toFixed(2)} ms`;
  console.log(`Latent run (tiny-sd fixture, 4×${size / 8}×${size / 8} latents decoded to ${size}×${size}, ${LATENT_STEPS} steps; x̂0 and xₜ panes)`);
  console.log(`  first arrival at a step → preview on screen: ${line(latent.arriveMs)} (target ≤ 50 ms; ratio to target ${(median(latent.arriveMs) / 50).toFixed(3)})`);
  console.log(`  step with its preview cached → on screen: ${line(latent.cachedPreviewMs)} (target < 16 ms; ratio ${(median(latent.cachedPreviewMs) / 16).toFixed(3)})`);
  console.log(`    (${latent.alreadyDecoded} of ${latent.cachedPreviewMs.length} of those steps were decoded in passing and showed the decode at once)`);
  console.log(`  standing on a step → both VAE decodes on screen: ${line(latent.decodeMs)}`);
  console.log(`  step with its decodes cached → on screen: ${line(latent.cachedDecodeMs)}`);
  console.log(
    JSON.stringify({
      latent: {
        size,
        arriveMs: { median: median(latent.arriveMs), p95: quantile(latent.arriveMs, 0.95) },
        cachedPreviewMs: { median: median(latent.cachedPreviewMs), p95: quantile(latent.cachedPreviewMs, 0.95) },
        decodeMs: { median: median(latent.decodeMs), p95: quantile(latent.decodeMs, 0.95) },
        cachedDecodeMs: { median: median(latent.cachedDecodeMs), p95: quantile(latent.cachedDecodeMs, 0.95) },
        loadAverage: loadavg()[0],
      },
    }),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--latent')) {
    for (const size of LATENT_SIZES) printLatent(await latentBrowser(size), size);
    return;
  }
  if (!NETWORK) console.log('native-models/fashion-mnist is not installed: branch timings use the analytic Gaussian instead.');
  const branch = await engineBranch();
  const ui = await browser();
  const median = (values: number[]): number => quantile(values, 0.5);
  console.log(`Studio benchmark (model ${MODEL}, ${branch.steps} of 50 steps re-run per branch)`);
  console.log(`  scrub, cached step: update median ${median(ui.scrubMs).toFixed(2)} ms, p95 ${quantile(ui.scrubMs, 0.95).toFixed(2)} ms, max ${Math.max(...ui.scrubMs).toFixed(2)} ms (target < 16 ms)`);
  console.log(`    key → next animation frame: median ${median(ui.scrubFrameMs).toFixed(1)} ms (one frame at 60 Hz is 16.7 ms)`);
  console.log(`  branch from step 25: engine median ${median(branch.seconds).toFixed(3)} s (min ${Math.min(...branch.seconds).toFixed(3)} s); stroke → branch on screen median ${median(ui.branchUiSeconds).toFixed(3)} s (target < 0.5 s)`);
  console.log(
    `    in the page: branch call median ${median(ui.branchMarks.map((m) => m.call)).toFixed(0)} ms, fetch + show median ${median(ui.branchMarks.map((m) => m.fetchAndShow)).toFixed(0)} ms`,
  );
  console.log(`  3-D view, ${ui.trajectories} trajectories turning: ${ui.fps.toFixed(1)} fps (${ui.frames} frames in 3 s; target 60)`);
  console.log(`  first live-preview frame after Generate: median ${median(ui.firstPreviewMs).toFixed(0)} ms of ${ui.firstPreviewMs.map((v) => v.toFixed(0)).join(', ')} (target ≤ 200 ms)`);
  console.log(`  3-D view of ${ui.trajectories} seeds, press → drawn: ${ui.trajectorySeconds.toFixed(2)} s (target ≤ 5 s)`);
  console.log(`  perturbation chart, 4 seeds, press → drawn: ${ui.perturbationSeconds.toFixed(2)} s (target ≤ 30 s)`);
  for (const size of LATENT_SIZES) printLatent(await latentBrowser(size), size);
  console.log(`  (machine load average now: ${loadavg().map((v) => v.toFixed(2)).join(', ')} on ${cpus().length} cores; the targets assume no other load)`);
  console.log(
    JSON.stringify({
      model: MODEL,
      scrubMs: { median: median(ui.scrubMs), p95: quantile(ui.scrubMs, 0.95), max: Math.max(...ui.scrubMs) },
      scrubToFrameMs: { median: median(ui.scrubFrameMs) },
      branchSeconds: { engineMedian: median(branch.seconds), uiMedian: median(ui.branchUiSeconds) },
      trajectoryFps: ui.fps,
      firstPreviewMs: { median: median(ui.firstPreviewMs) },
      trajectorySeconds: ui.trajectorySeconds,
      perturbationSeconds: ui.perturbationSeconds,
      loadAverage: loadavg()[0],
    }),
  );
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
