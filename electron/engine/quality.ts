/**
 * Sample quality of a model, judged by its judge network: class accuracy of
 * conditional samples per guidance scale, the judge score of unconditional
 * samples beside the test set's, the spread over classes, and the feature
 * Fréchet distance beside its floor (training set vs test set).
 */
import type { Denoiser } from './denoisers/types';
import { throwIfCancelled } from './errors';
import { classAccuracy, classHistogram, featureStatistics, frechetDistance, judgeScore, type Judge, type JudgeOutput } from './judge';
import type { SamplerName } from '../api/contract';
import { sample } from './samplers';

export interface SampleBatchOptions {
  count: number;
  steps: number;
  sampler: SamplerName;
  /** A label per sample, or null for unconditional samples. */
  labelOf: (index: number) => number | null;
  guidance: number;
  seedBase: number;
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Final images (x̂0 at σ = 0) of `count` seeded runs, [count·D]. */
export async function sampleFinalImages(denoiser: Denoiser, options: SampleBatchOptions): Promise<Float32Array> {
  const batch = options.batch ?? 100;
  const dim = denoiser.dim;
  const sigmas = denoiser.schedule.samplingSigmas(options.steps, options.sampler);
  const out = new Float32Array(options.count * dim);
  for (let start = 0; start < options.count; start += batch) {
    throwIfCancelled(options.signal);
    const size = Math.min(batch, options.count - start);
    const seeds = Array.from({ length: size }, (_, i) => options.seedBase + start + i);
    const labels = seeds.map((_, i) => options.labelOf(start + i));
    const trajectory = await sample({
      denoiser,
      sampler: options.sampler,
      sigmas,
      seeds,
      condition: { labels, guidance: options.guidance },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const last = trajectory.sigmas.length - 1;
    out.set(trajectory.x0Hat.subarray(last * size * dim, (last + 1) * size * dim), start * dim);
    options.onProgress?.(start + size, options.count);
  }
  return out;
}

export interface QualityOptions {
  steps: number;
  sampler: SamplerName;
  /** Conditional samples per guidance scale (spread evenly over classes). */
  conditionalCount: number;
  guidances: number[];
  /** Unconditional samples for the judge score and Fréchet distance. */
  unconditionalCount: number;
  seedBase?: number;
  signal?: AbortSignal;
  onProgress?: (message: string, done: number, total: number) => void;
  /** Sees each guidance scale's conditional samples and their labels (e.g. for the orientation measure). */
  onConditionalImages?: (guidance: number, images: Float32Array, labels: number[]) => void;
}

export interface QualityReport {
  settings: Omit<QualityOptions, 'signal' | 'onProgress' | 'onConditionalImages'>;
  /**
   * Per guidance scale: class accuracy, and the judge score and feature Fréchet distance of the same
   * class-balanced samples (comparable with a class-conditional GAN's, which has no unconditional mode).
   */
  conditional: Array<{ guidance: number; accuracy: number; count: number; judgeScore?: number; frechetToTest?: number }>;
  unconditional: {
    count: number;
    judgeScore: number;
    testSetJudgeScore: number;
    /** judgeScore / testSetJudgeScore; the quality bar is ≥ 0.7. */
    scoreRatio: number;
    classHistogram: number[];
    frechetToTest: number;
    /** The same distance between training-set and test-set features. */
    frechetFloor: number;
  } | null;
  seconds: number;
}

export async function evaluateQuality(denoiser: Denoiser, judge: Judge, options: QualityOptions): Promise<QualityReport> {
  const started = performance.now();
  const seedBase = options.seedBase ?? 1_000_000;
  const classes = denoiser.classes?.length ?? 0;
  const conditional: QualityReport['conditional'] = [];
  if (classes > 0) {
    for (const guidance of options.guidances) {
      const images = await sampleFinalImages(denoiser, {
        count: options.conditionalCount,
        steps: options.steps,
        sampler: options.sampler,
        labelOf: (i) => i % classes,
        guidance,
        seedBase,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (done, total) => options.onProgress?.(`conditional, guidance ${guidance}`, done, total),
      });
      const output = await judge.classify(images);
      const labels = Array.from({ length: output.count }, (_, i) => i % classes);
      options.onConditionalImages?.(guidance, images, labels);
      conditional.push({
        guidance,
        accuracy: classAccuracy(output, labels),
        count: output.count,
        judgeScore: judgeScore(output),
        ...(output.count > 1 ? { frechetToTest: frechetDistance(featureStatistics(output.features, output.featureDim), judge.testStats) } : {}),
      });
    }
  }
  let unconditional: QualityReport['unconditional'] = null;
  if (denoiser.unconditional && options.unconditionalCount > 1) {
    const images = await sampleFinalImages(denoiser, {
      count: options.unconditionalCount,
      steps: options.steps,
      sampler: options.sampler,
      labelOf: () => null,
      guidance: 1,
      seedBase: seedBase + 500_000,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done, total) => options.onProgress?.('unconditional', done, total),
    });
    const output: JudgeOutput = await judge.classify(images);
    const score = judgeScore(output);
    unconditional = {
      count: output.count,
      judgeScore: score,
      testSetJudgeScore: judge.testScore,
      scoreRatio: score / judge.testScore,
      classHistogram: classHistogram(output),
      frechetToTest: frechetDistance(featureStatistics(output.features, output.featureDim), judge.testStats),
      frechetFloor: judge.floor,
    };
  }
  const { signal: _signal, onProgress: _progress, onConditionalImages: _images, ...settings } = options;
  return { settings, conditional, unconditional, seconds: (performance.now() - started) / 1000 };
}
