/**
 * The execution provider as the studio shows it: beside the model after a run
 * (with the fallback notice when auto passed a provider over), in the run's
 * details, and in Settings, where choosing CPU reloads the network on CPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerOptionsHere } from '../../electron/engine/denoisers/onnx';
import { Studio } from './studio-page';

let studio: Studio;
beforeAll(async () => {
  studio = await Studio.open();
});
afterAll(async () => {
  await studio?.close();
});

const webgpuListed = providerOptionsHere().find((option) => option.name === 'webgpu')!.available;

describe('execution provider in the studio', () => {
  it('shows the provider beside the model after a run, and why auto fell back', async () => {
    const page = studio.page;
    await studio.selectModel('fashion-mnist');
    const item = page.locator('[data-testid="model-item"][data-model-id="fashion-mnist"]');
    await expect.poll(() => item.getByTestId('model-detail').textContent()).toMatch(/on auto/);
    await page.locator('#steps').fill('4');
    await studio.generate();
    await expect.poll(() => item.getByTestId('model-detail').textContent(), { timeout: 20_000 }).toMatch(/on (cpu|webgpu)/);
    const detail = (await item.getByTestId('model-detail').textContent()) ?? '';
    if (webgpuListed && detail.includes('on cpu')) {
      await expect
        .poll(() => item.getByTestId('provider-notice').textContent())
        .toMatch(/^⚠ WebGPU could not start for model "fashion-mnist" \(Failed to get a WebGPU adapter: [^()]+\); running on CPU\.$/);
    }
    await page.getByText('Run details').click();
    await expect.poll(() => page.locator('.details dd').nth(1).textContent()).toMatch(/fashion-mnist · on (cpu|webgpu)/);
    if (process.env['PAINTER_SCREENSHOTS'] === '1') await item.screenshot({ path: '/tmp/painter-provider-auto.png' });
  });

  it('Settings lists what this machine offers; choosing CPU releases the network and the notice goes with it', async () => {
    const page = studio.page;
    await page.getByTestId('settings').locator('summary').click();
    const select = page.getByTestId('provider-select');
    await expect.poll(() => select.inputValue()).toBe('auto');
    if (process.env['PAINTER_SCREENSHOTS'] === '1') await page.getByTestId('settings').screenshot({ path: '/tmp/painter-settings-auto.png' });
    const labels = await select.locator('option').allTextContents();
    expect(labels[0]).toBe('Auto (best available)');
    expect(labels.map((label) => label.replace(/ \(.*\)$/, ''))).toEqual(['Auto', 'WebGPU', 'CUDA', 'DirectML', 'CoreML', 'CPU']);
    await select.selectOption('cpu');
    await expect.poll(() => page.getByTestId('provider-note').textContent()).toMatch(/Always available/);
    const item = page.locator('[data-testid="model-item"][data-model-id="fashion-mnist"]');
    await expect.poll(() => item.getByTestId('model-detail').textContent()).toMatch(/on cpu/);
    expect(await item.getByTestId('provider-notice').count()).toBe(0);
    await studio.generate();
    await expect.poll(() => item.getByTestId('model-detail').textContent()).toMatch(/on cpu/);
    expect(await item.getByTestId('provider-notice').count()).toBe(0);
    if (process.env['PAINTER_SCREENSHOTS'] === '1') await page.getByTestId('settings').screenshot({ path: '/tmp/painter-provider-cpu.png' });
  });
});
