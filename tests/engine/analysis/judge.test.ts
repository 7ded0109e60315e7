import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageJudge } from '../../../electron/engine/analysis/judge-port';
import { perturbationAnalysis } from '../../../electron/engine/analysis/perturbation';
import { teleportAnalysis } from '../../../electron/engine/analysis/teleport';
import { featureStatistics, type JudgeOutput } from '../../../electron/engine/judge';
import { FIXTURES, loadAnalytic } from '../../helpers/fixtures';

const labelMeans = (JSON.parse(readFileSync(join(FIXTURES, 'class_means.json'), 'utf-8')) as { labelMeans: number[][] }).labelMeans.slice(0, 3);

/** A stand-in judge for the 16-D fixtures: logits −‖x − μ_c‖²/2, features = the pixels. */
function nearestMeanJudge(reference: Float32Array): ImageJudge {
  const classify = async (images: Float32Array): Promise<JudgeOutput> => {
    const count = images.length / 16;
    const logits = new Float32Array(count * 3);
    for (let n = 0; n < count; n++) {
      for (let c = 0; c < 3; c++) {
        let d = 0;
        for (let i = 0; i < 16; i++) d += (images[n * 16 + i]! - labelMeans[c]![i]!) ** 2;
        logits[n * 3 + c] = -d / 2;
      }
    }
    return { count, classCount: 3, featureDim: 16, logits, features: Float32Array.from(images) };
  };
  return { classify, testStats: featureStatistics(reference, 16), floor: 0, inputShape: [1, 4, 4], classes: ['a', 'b', 'c'] };
}

describe('analyses with a judge', () => {
  const gmm = loadAnalytic('gauss16-gmm');
  const gaussian = loadAnalytic('gauss16').gaussian!;
  const delta = loadAnalytic('gauss16-delta');
  const judge = nearestMeanJudge(delta.delta!.images);

  it('teleport with one class per seed scores class accuracy and the judge Fréchet distance for every skip', async () => {
    const result = await teleportAnalysis(gmm, gaussian, { sampler: 'heun', steps: 60, seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8], skips: [0.2], classCycle: true, judge });
    expect(result.settings.classCycle).toBe(true);
    for (const row of result.rows) {
      expect(row.quality.judgeAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.quality.judgeAccuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(row.quality.judgeFrechet)).toBe(true);
      expect(Number.isFinite(row.quality.judgeScore)).toBe(true);
    }
    expect(result.noise.judgeAccuracy).not.toBeNull();
  });

  it('perturbation reports label flips and feature distances, and a larger kick flips at least as often', async () => {
    const result = await perturbationAnalysis(gmm, gaussian, { steps: 20, seeds: [0, 1, 2, 3, 4, 5], injectSteps: [0, 10], strengths: [0.1, 20], judge });
    for (const row of result.table) {
      for (const cell of row) {
        expect(cell.flipRate).toBeGreaterThanOrEqual(0);
        // Features are the pixels here, so the feature distance is the L2 change itself.
        expect(cell.featureDistance!.mean).toBeCloseTo(cell.change.mean, 4);
      }
      expect(row[1]!.flipRate!).toBeGreaterThanOrEqual(row[0]!.flipRate!);
    }
    expect(result.trend.flipWithStep).not.toBeNull();
  });

  it('refuses a judge for another image size', async () => {
    const wrong = { ...judge, inputShape: [1, 28, 28] as const };
    await expect(perturbationAnalysis(gmm, gaussian, { steps: 10, seeds: [0], judge: wrong })).rejects.toThrow(/judge takes 1×28×28 images/);
  });
});
