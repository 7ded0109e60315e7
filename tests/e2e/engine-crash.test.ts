/**
 * What a user sees when the engine process dies (issue 9, item 10): the
 * studio says so in its banner, the engine comes back by itself with the run
 * on screen, and the user carries on — in a real browser against
 * `painter serve`'s supervised child process, killed with SIGKILL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Studio } from './studio-page';

const SHOTS = process.env['PAINTER_SCREENSHOT_DIR'];

describe('the engine process is killed under a running studio', () => {
  let studio: Studio;
  beforeAll(async () => {
    studio = await Studio.open();
  });
  afterAll(async () => {
    await studio?.close();
  });

  it('shows what happened, restarts the engine with the open run, and keeps working', async () => {
    await studio.modelItems().first().waitFor({ timeout: 30_000 });
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '20');
    await studio.generate();
    const before = await studio.canvasStats('x0-canvas');
    const pid = studio.server.engine.pid!;
    process.kill(pid, 'SIGKILL');

    const banner = studio.page.getByTestId('error-banner');
    await expect.poll(() => banner.getAttribute('data-code'), { timeout: 20_000 }).toBe('ENGINE_STOPPED');
    await expect.poll(() => banner.textContent(), { timeout: 20_000 }).toMatch(/The engine was restarted and re-opened 1 run\./);
    expect(studio.server.engine.pid).not.toBe(pid);
    if (SHOTS !== undefined) await studio.page.screenshot({ path: join(SHOTS, 'engine-restarted.png') });

    // The run on screen is still the engine's: scrub it (fetches its ghost) and branch from it.
    await studio.showStep(5);
    await studio.paint('xt-canvas', [0.4, 0.4], [0.6, 0.6]);
    expect(await studio.treeRows().count()).toBe(2);
    await studio.generate();
    expect((await studio.canvasStats('x0-canvas')).spread).toBeGreaterThan(10);
    expect(before.spread).toBeGreaterThan(10);
  });
});
