import { describe, expect, it } from 'vitest';
import type { ModelInfo, RunSummary } from '../../electron/api/contract';
import { history } from '../../renderer/lib/state/history.svelte';
import { models } from '../../renderer/lib/state/models.svelte';
import { nextRun } from '../../renderer/lib/state/next-run.svelte';

function model(id: string, defaultSteps: number, classes: string[] | null = null, unconditional = true): ModelInfo {
  return {
    id,
    name: id,
    description: '',
    kind: 'gaussian',
    image: { channels: 1, height: 4, width: 4, range: [-1, 1] },
    classes,
    unconditional,
    defaultGuidance: 2,
    defaultSteps,
    provider: 'analytic',
    source: 'bundled',
    folder: '',
  };
}

describe('next-run settings', () => {
  const a = model('a', 50);
  const b = model('b', 200, ['shirt', 'shoe'], false);
  models.list = [a, b];

  it('follow the model\'s defaults until the user sets a value, then keep it across model switches', () => {
    models.select('a');
    expect(nextRun.steps).toBe(50);
    models.select('b');
    expect(nextRun.steps).toBe(200); // never set: the model's default
    nextRun.set('steps', 75);
    models.select('a');
    expect(nextRun.steps).toBe(75); // the user's value stays
    // Classes are per model: a model without classes asks for none; one without an unconditional mode gets its first.
    expect(nextRun.takeRequest(a).classLabel).toBeNull();
    expect(nextRun.classOf(b)).toBe(0);
  });

  it('draws a new seed for a run only when the seed was already used (a typed seed is used once)', () => {
    models.select('a');
    nextRun.setNewSeedEachRun(true);
    nextRun.set('seed', 1234);
    expect(nextRun.takeRequest(a).seed).toBe(1234);
    const second = nextRun.takeRequest(a).seed;
    expect(second).not.toBe(1234);
    nextRun.setNewSeedEachRun(false);
    expect(nextRun.takeRequest(a).seed).toBe(second);
    expect(nextRun.takeRequest(a).seed).toBe(second);
  });

  it('a run\'s settings are taken over in one undoable step, model included', async () => {
    models.select('a');
    nextRun.set('steps', 33);
    const run = { modelId: 'b', settings: { modelId: 'b', seed: 99, steps: 120, sampler: 'heun', classLabel: 1, guidance: 1 } } as unknown as RunSummary;
    nextRun.useRunSettings(run);
    expect(models.selectedId).toBe('b');
    expect(nextRun.takeRequest(b)).toEqual({ modelId: 'b', seed: 99, steps: 120, sampler: 'heun', classLabel: 1, guidance: 1 });
    await history.undo();
    expect(models.selectedId).toBe('a');
    expect(nextRun.steps).toBe(33);
    expect(nextRun.sampler).toBe('euler');
  });

  it('setting changes undo and redo, and quick repeats of one field are one step', async () => {
    nextRun.set('sampler', 'ddpm'); // another field in between: the steps below start a step of their own
    nextRun.set('steps', 10);
    nextRun.set('steps', 11);
    nextRun.set('steps', 12);
    await history.undo();
    expect(nextRun.steps).toBe(33);
    await history.redo();
    expect(nextRun.steps).toBe(12);
  });
});
