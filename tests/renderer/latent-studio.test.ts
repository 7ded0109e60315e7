/**
 * The studio's state on a diffusers pipeline with a real engine behind the
 * bridge (engine-bridge.mjs, the tiny-sd fixture): a folder opened from
 * outside (a drop on the desktop window) is added with its prompt and
 * decoded size; the decode cache gets the VAE decodes of a run's states from
 * the engine; a user's folder is removed from the list and undo adds it back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PainterBridge, RunSummary } from '../../electron/api/contract';
import { engineBridge, type EngineBridge } from './engine-bridge.mjs';

let engine: EngineBridge;

beforeAll(() => {
  engine = engineBridge();
  const bridge: PainterBridge = {
    invoke: (method, params) => engine.invoke(method, params),
    onEvent: (listener) => engine.onEvent(listener),
  };
  Object.assign(globalThis, { window: { painter: bridge, confirm: () => true } });
});
afterAll(async () => {
  await engine.dispose();
});

const modules = async () => ({
  desktop: await import('../../renderer/lib/desktop.svelte'),
  api: (await import('../../renderer/lib/api')).api,
  models: (await import('../../renderer/lib/state/models.svelte')).models,
  history: (await import('../../renderer/lib/state/history.svelte')).history,
  decoded: await import('../../renderer/lib/state/decoded.svelte'),
});

describe('a diffusers pipeline in the studio state', () => {
  let modelId: string;

  it('a folder opened from outside is added and selected, with its prompt and decoded size', async () => {
    const { desktop, models } = await modules();
    await models.load();
    await desktop.openFile({ path: `${engine.fixtures}/diffusers/tiny-sd`, kind: 'model-folder' });
    const model = models.selected!;
    modelId = model.id;
    expect(model).toMatchObject({ kind: 'diffusers', space: 'latent', source: 'user', image: { channels: 4, height: 8, width: 8 } });
    expect(model.decoded?.image).toMatchObject({ channels: 3, height: 64, width: 64 });
    expect(model.prompt?.maxTokens).toBe(77);
  });

  it("the decode cache gets each state's VAE decode from the engine, for the state on screen", async () => {
    const { api, decoded } = await modules();
    const run: RunSummary = await api.call('generate', { jobId: 'g', modelId, seed: 2, steps: 4, sampler: 'euler', classLabel: null, guidance: 7.5, prompt: 'a fox', negativePrompt: '' });
    const cache = new decoded.DecodedStates((key) => api.call('decodeState', key));
    const at = { runId: run.runId, step: 2, which: 'x0Hat' as const };
    cache.show('x0', at);
    await expect.poll(() => cache.get(at), { timeout: 30_000 }).not.toBeNull();
    const state = cache.get(at)!;
    expect(state.image).toMatchObject({ channels: 3, height: 64, width: 64 });
    expect(state.values).toHaveLength(3 * 64 * 64);
    // The same decode as the engine gives directly (its own cache or not).
    const direct = await api.call('decodeState', at);
    expect(Array.from(state.values.subarray(0, 16))).toEqual(Array.from(direct.values.subarray(0, 16)));
    // A state the engine cannot decode (an unknown run) keeps its sentence as the reason; it is not asked for again.
    const wrong = { runId: 'no-such-run', step: 0, which: 'xt' as const };
    cache.show('xt', wrong);
    await expect.poll(() => cache.failure(wrong), { timeout: 30_000 }).toMatch(/no-such-run/);
  });

  it('a user folder is removed from the list, the engine forgets it, and undo adds it back', async () => {
    const { api, models, history } = await modules();
    expect(await models.remove(modelId)).toBe(true);
    expect(models.list.some((model) => model.id === modelId)).toBe(false);
    expect((await api.call('listModels', {})).some((model) => model.id === modelId)).toBe(false);
    await history.undo();
    expect(models.list.some((model) => model.id === modelId)).toBe(true);
    expect((await api.call('listModels', {})).some((model) => model.id === modelId)).toBe(true);
    // A bundled model is not the user's to remove.
    const bundled = models.list.find((model) => model.source === 'bundled')!;
    expect(await models.remove(bundled.id)).toBe(false);
  });
});
