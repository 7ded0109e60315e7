/**
 * What the analyses need from a judge classifier (../judge.ts): label flips,
 * feature distances and sample quality. Every analysis also works without one.
 */
import type { Denoiser } from '../denoisers/types';
import { PainterError } from '../errors';
import type { Judge, JudgeOutput } from '../judge';
import { predictedClasses } from '../judge';

/** The part of a Judge the analyses use (a structural type, so tests can stand one in). */
export type ImageJudge = Pick<Judge, 'classify' | 'testStats' | 'floor' | 'inputShape' | 'classes'>;

/** Refuses a judge whose input shape is not the model's image. */
export function checkJudge(judge: ImageJudge, denoiser: Denoiser): void {
  const [c, h, w] = judge.inputShape;
  const { channels, height, width } = denoiser.image;
  if (c !== channels || h !== height || w !== width) {
    throw new PainterError('BAD_ARGUMENT', `The judge takes ${c}×${h}×${w} images; the model makes ${channels}×${height}×${width}.`, {
      judge: [c, h, w],
      model: [channels, height, width],
    });
  }
}

/** Per image pair: whether the judge's label differs, and the distance between their features. */
export function compareJudged(before: JudgeOutput, after: JudgeOutput): { flipped: boolean[]; featureDistance: number[] } {
  const a = predictedClasses(before);
  const b = predictedClasses(after);
  const dim = before.featureDim;
  const flipped: boolean[] = [];
  const featureDistance: number[] = [];
  for (let n = 0; n < after.count; n++) {
    flipped.push(a[n] !== b[n]);
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += (before.features[n * dim + i]! - after.features[n * dim + i]!) ** 2;
    featureDistance.push(Math.sqrt(sum));
  }
  return { flipped, featureDistance };
}
