import { describe, expect, it } from 'vitest';
import { agreementAnalysis } from '../../../electron/engine/analysis/agreement';
import type { AnalysisContext } from '../../../electron/engine/analysis/context';
import { emergenceAnalysis } from '../../../electron/engine/analysis/emergence';
import { manifoldAnalysis } from '../../../electron/engine/analysis/manifold';
import { perturbationAnalysis } from '../../../electron/engine/analysis/perturbation';
import { retrievalAnalysis } from '../../../electron/engine/analysis/retrieval';
import { teleportAnalysis } from '../../../electron/engine/analysis/teleport';
import { trajectoryAnalysis } from '../../../electron/engine/analysis/trajectory';
import { loadAnalytic } from '../../helpers/fixtures';

const analytic = loadAnalytic('gauss16');
const gaussian = analytic.gaussian!;
const delta = loadAnalytic('gauss16-delta');

/** A context that cancels after `after` progress reports, recording how many it saw. */
function cancelling(after: number): { context: AnalysisContext; reports: () => number } {
  const controller = new AbortController();
  let count = 0;
  return {
    context: {
      signal: controller.signal,
      onProgress: (done, total) => {
        expect(done).toBeLessThanOrEqual(total);
        if (++count >= after) controller.abort();
      },
    },
    reports: () => count,
  };
}

describe('every analysis reports progress and stops when cancelled', () => {
  const run = { steps: 30, seeds: [1, 2, 3, 4] };
  const cases: Array<[string, (context: AnalysisContext) => Promise<unknown>]> = [
    ['trajectory', (c) => trajectoryAnalysis(analytic, run, c)],
    ['agreement', (c) => agreementAnalysis(analytic, gaussian, [], { ...run, probes: delta.delta!.images }, c)],
    ['emergence', (c) => emergenceAnalysis(analytic, gaussian, run, c)],
    ['perturbation', (c) => perturbationAnalysis(analytic, gaussian, run, c)],
    ['teleport', (c) => teleportAnalysis(analytic, gaussian, run, c)],
    ['retrieval', (c) => retrievalAnalysis(analytic, delta, run, c)],
    ['manifold', (c) => manifoldAnalysis(analytic, gaussian, { ...run, k: 2, budget: 8 }, c)],
  ];
  for (const [name, analysis] of cases) {
    it(name, async () => {
      const { context, reports } = cancelling(3);
      await expect(analysis(context)).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(reports()).toBeGreaterThanOrEqual(3);
    });
  }
});
