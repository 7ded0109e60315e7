import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../electron/engine/service';
import { STUDIO_STRENGTHS, studioInjectSteps } from '../../electron/engine/theory-charts';
import { FIXTURES } from '../helpers/fixtures';

const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-theory-')) });
afterAll(() => engine.dispose());

describe('theory charts for the run on screen', () => {
  // fixture-eps-int64 is the exact Gaussian denoiser exported to ONNX, so the theory's predictions hold.
  it('runs each analysis with the run\'s settings and its seed first, reduced to chart data', async () => {
    const run = await engine.generate({ modelId: 'fixture-eps-int64', seed: 7, steps: 16, sampler: 'euler', classLabel: null, guidance: 1 });
    const events: string[] = [];
    const context = { emit: (_: 'progress', payload: { message: string }) => void events.push(payload.message) };

    const emergence = await engine.call('theory', { jobId: 'e', runId: run.runId, analysis: 'emergence', seeds: 3 }, context);
    if (emergence.analysis !== 'emergence') throw new Error('wrong analysis');
    expect(emergence.seeds).toEqual([7, 8, 9]);
    expect(emergence.directions[0]!.curve.length).toBe(17);
    expect(emergence.rankCorrelation).toBeGreaterThan(0.8);

    const perturbation = await engine.call('theory', { jobId: 'p', runId: run.runId, analysis: 'perturbation', seeds: 2 }, context);
    if (perturbation.analysis !== 'perturbation') throw new Error('wrong analysis');
    expect(perturbation.change.length).toBe(perturbation.injectSteps.length);
    expect(perturbation.change[0]!.length).toBe(perturbation.strengths.length);
    expect(perturbation.changeWithStrength).toBeGreaterThan(0.9);

    const agreement = await engine.call('theory', { jobId: 'a', runId: run.runId, analysis: 'agreement', seeds: 2 }, context);
    if (agreement.analysis !== 'agreement') throw new Error('wrong analysis');
    const gaussianEv = agreement.references.find((r) => r.name === 'gaussian')!.ev;
    expect(gaussianEv.length).toBe(agreement.sigmas.length);
    expect(Math.min(...gaussianEv)).toBeGreaterThan(0.99); // the fixture is the Gaussian
    // Beside it, the mixture, the training set and the local patch model, each with EV and median r².
    expect(agreement.references.map((r) => r.kind)).toEqual(['gaussian', 'gmm', 'delta', 'local']);
    for (const reference of agreement.references) expect(reference.r2.length).toBe(agreement.sigmas.length);
    expect(Math.min(...agreement.references[0]!.r2)).toBeGreaterThan(0.99);

    const teleport = await engine.call('theory', { jobId: 't', runId: run.runId, analysis: 'teleport', seeds: 4 }, context);
    if (teleport.analysis !== 'teleport') throw new Error('wrong analysis');
    expect(teleport.rows[0]!.skip).toBe(0);
    expect(teleport.rows.at(-1)!.saved).toBeGreaterThan(0);
    expect(events.some((message) => message.startsWith('Teleport:'))).toBe(true);
  });
});

describe('the studio perturbation chart', () => {
  it('costs about half the lab default for a 50-step run (network evaluations counted in closed form)', () => {
    const cost = (injectSteps: number[], strengths: number) => injectSteps.reduce((sum, s) => sum + (50 - s) * strengths, 0);
    const lab = [0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8].map((f) => Math.round(f * 50));
    const studio = studioInjectSteps(50);
    expect(studio).toEqual([0, 8, 15, 25, 38]);
    const ratio = cost(studio, STUDIO_STRENGTHS.length) / cost(lab, 4);
    expect(ratio).toBeCloseTo(0.54, 2);
  });
});
