import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnalyticDenoiser } from '../../electron/engine/denoisers/analytic';
import { Judge, judgeScore } from '../../electron/engine/judge';
import { OnnxDenoiser } from '../../electron/engine/denoisers/onnx';
import type { AnalyticManifest, OnnxManifest } from '../../electron/engine/manifest';
import { readManifest } from '../../electron/engine/models';
import { evaluateQuality } from '../../electron/engine/quality';

const MODELS = join(__dirname, '..', '..', 'native-models');
const judgePromise = Judge.load(join(MODELS, 'fashion-mnist-judge'));
afterAll(async () => (await judgePromise).dispose());

function analytic(id: string): AnalyticDenoiser {
  const folder = join(MODELS, id);
  return AnalyticDenoiser.load(readManifest(folder).manifest as AnalyticManifest, folder);
}

describe('judge network and sample quality', () => {
  it('loads the bundled judge and classifies real training images (delta-mixture samples retrieve them)', async () => {
    const judge = await judgePromise;
    expect(judge.classes).toHaveLength(10);
    expect(judge.testAccuracy).toBeGreaterThanOrEqual(0.9);
    // The delta mixture's class-conditional samples are (near) copies of training images of that class,
    // so a judge with ≥ 90% test accuracy must label nearly all of them right.
    const report = await evaluateQuality(analytic('fashion-mnist-delta'), judge, {
      steps: 20,
      sampler: 'euler',
      conditionalCount: 40,
      guidances: [1],
      unconditionalCount: 0,
    });
    expect(report.conditional[0]!.accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it('scores Gaussian samples far below the test set, with the floor from judge.json', async () => {
    const judge = await judgePromise;
    const report = await evaluateQuality(analytic('fashion-mnist-gaussian'), judge, {
      steps: 10,
      sampler: 'euler',
      conditionalCount: 0,
      guidances: [],
      unconditionalCount: 60,
    });
    const u = report.unconditional!;
    expect(u.frechetFloor).toBe(judge.floor);
    // A single Gaussian makes blurry mixtures of garments: the judge sees far less class structure than in real data.
    expect(u.scoreRatio).toBeLessThan(0.8);
    expect(u.frechetToTest).toBeGreaterThan(10 * judge.floor);
    expect(u.classHistogram.reduce((a, b) => a + b, 0)).toBe(60);
  });

  it('the bundled Fashion-MNIST network draws the garment it is asked for (guidance 2), and every bundled network is ≤ 20 MB', async () => {
    const judge = await judgePromise;
    const folder = join(MODELS, 'fashion-mnist');
    const manifest = readManifest(folder).manifest as OnnxManifest;
    const network = await OnnxDenoiser.load(manifest, join(folder, manifest.onnx.file));
    try {
      // 3 samples per class, 20 Euler steps: a short run, but a trained class-conditional net gets nearly all right.
      const report = await evaluateQuality(network, judge, {
        steps: 20,
        sampler: 'euler',
        conditionalCount: 30,
        guidances: [2],
        unconditionalCount: 0,
      });
      expect(report.conditional[0]!.count).toBe(30);
      expect(report.conditional[0]!.accuracy).toBeGreaterThanOrEqual(0.8);
    } finally {
      await network.dispose();
    }
    for (const id of ['fashion-mnist', 'emoji32', 'fashion-mnist-judge']) {
      expect(statSync(join(MODELS, id, 'model.onnx')).size).toBeLessThanOrEqual(20e6);
    }
  });

  it('judgeScore of judge outputs is between 1 and the class count', async () => {
    const judge = await judgePromise;
    const output = await judge.classify(new Float32Array(3 * 784).map((_, i) => Math.sin(i)));
    const score = judgeScore(output);
    expect(score).toBeGreaterThanOrEqual(1);
    expect(score).toBeLessThanOrEqual(10);
  });
});
