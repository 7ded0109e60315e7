import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sample } from '../../electron/engine/samplers';
import { Engine } from '../../electron/engine/service';
import { FIXTURES, loadAnalytic } from '../helpers/fixtures';

const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-local-ghost-')) });
afterAll(() => engine.dispose());

describe('the local ghost of a run', () => {
  it('is the local patch model\'s own run from the run\'s x_T, σ grid, sampler and seed, beside the run', async () => {
    for (const sampler of ['heun', 'ddpm'] as const) {
      const run = await engine.generate({ modelId: 'fixture-eps-int64', seed: 5, steps: 12, sampler, classLabel: null, guidance: 1 });
      const progress: number[] = [];
      const ghost = await engine.call('localGhost', { jobId: `g-${sampler}`, runId: run.runId }, { emit: (_, p) => void progress.push(p.done) });
      if (!ghost.available) throw new Error(ghost.reason);
      expect(ghost.modelId).toBe('fixture-local');
      expect(ghost.x0Hat.length).toBe(13 * 16);
      expect(progress.length).toBeGreaterThan(0);
      // Independent: the same sampler with the local model from the run's stored x_T (VP convention → σ form).
      const record = engine.getRunRecord(run.runId);
      const sigmas = Float64Array.from(run.sigmas);
      const start = Float64Array.from(record.xt.subarray(0, 16), (v) => v * Math.sqrt(1 + sigmas[0]! ** 2));
      const local = loadAnalytic('gauss16-local');
      const expected = await sample({ denoiser: local, sampler, sigmas, seeds: [5], start: { step: 0, state: start } });
      const worst = Math.max(...Array.from(ghost.x0Hat, (v, i) => Math.abs(v - expected.x0Hat[i]!)));
      expect(worst, sampler).toBeLessThan(1e-5);
      const deviation = Math.sqrt(Array.from({ length: 16 }, (_, i) => (record.x0Hat[12 * 16 + i]! - ghost.x0Hat[12 * 16 + i]!) ** 2).reduce((a, b) => a + b) / 16);
      expect(ghost.deviation[12]).toBeCloseTo(deviation, 6);
    }
  });

  it('says why when there is none: the run is the local model itself', async () => {
    const run = await engine.generate({ modelId: 'fixture-local', seed: 1, steps: 6, sampler: 'euler', classLabel: null, guidance: 1 });
    const ghost = await engine.call('localGhost', { jobId: 'self', runId: run.runId }, {});
    expect(ghost).toMatchObject({ available: false, reason: 'This run is the local patch model itself.' });
  });
});
