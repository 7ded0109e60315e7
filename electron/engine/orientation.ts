/**
 * Which way an image faces: a sample "faces like its class" when its
 * correlation with the class mean is higher than its mirror image's
 * (horizontal flip). In Fashion-MNIST every shoe faces one way, so the share
 * of a class's images that face like the class mean is 0.93–1.00 in the data;
 * a network trained with random horizontal flips draws both orientations
 * (about 0.4–0.5 for the shoe classes).
 */
import type { ImageSpec } from './manifest';
import { PainterError } from './errors';

/** Pearson correlation of x (offset, length D) with m, optionally with x mirrored left–right. */
export function meanCorrelation(x: ArrayLike<number>, offset: number, mean: ArrayLike<number>, image: ImageSpec, mirrored: boolean): number {
  const { channels, height, width } = image;
  const dim = channels * height * width;
  let sx = 0;
  let sm = 0;
  for (let i = 0; i < dim; i++) {
    sx += x[offset + i]!;
    sm += mean[i]!;
  }
  const mx = sx / dim;
  const mm = sm / dim;
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let c = 0; c < channels; c++) {
    for (let row = 0; row < height; row++) {
      const base = (c * height + row) * width;
      for (let col = 0; col < width; col++) {
        const a = x[offset + base + (mirrored ? width - 1 - col : col)]! - mx;
        const b = mean[base + col]! - mm;
        xy += a * b;
        xx += a * a;
        yy += b * b;
      }
    }
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

export interface OrientationReport {
  /** Per class: the share of its images that face like the class mean (null when it has none), and how many it has. */
  perClass: Array<{ agreement: number | null; count: number }>;
}

/**
 * Orientation agreement of `images` ([N·D]) with their classes' means: per
 * class, the share whose correlation with the mean beats their mirror image's.
 */
export function orientationAgreement(images: ArrayLike<number>, labels: ArrayLike<number>, means: ReadonlyArray<ArrayLike<number>>, image: ImageSpec): OrientationReport {
  const dim = image.channels * image.height * image.width;
  if (images.length !== labels.length * dim) throw new PainterError('BAD_ARGUMENT', `Orientation needs one label per image: ${images.length / dim} images, ${labels.length} labels.`);
  const agree = new Array<number>(means.length).fill(0);
  const count = new Array<number>(means.length).fill(0);
  for (let n = 0; n < labels.length; n++) {
    const label = labels[n]!;
    const mean = means[label];
    if (mean === undefined) throw new PainterError('BAD_ARGUMENT', `Label ${label} has no class mean (${means.length} classes).`);
    count[label]!++;
    if (meanCorrelation(images, n * dim, mean, image, false) > meanCorrelation(images, n * dim, mean, image, true)) agree[label]!++;
  }
  return { perClass: count.map((c, k) => ({ agreement: c > 0 ? agree[k]! / c : null, count: c })) };
}

/** Class means of labelled images ([N·D]), one per class 0…classes−1. */
export function classMeans(images: ArrayLike<number>, labels: ArrayLike<number>, classes: number, dim: number): Float64Array[] {
  const sums = Array.from({ length: classes }, () => new Float64Array(dim));
  const counts = new Array<number>(classes).fill(0);
  for (let n = 0; n < labels.length; n++) {
    const label = labels[n]!;
    if (label < 0 || label >= classes) continue;
    counts[label]!++;
    const sum = sums[label]!;
    for (let i = 0; i < dim; i++) sum[i]! += images[n * dim + i]!;
  }
  return sums.map((sum, k) => sum.map((v) => (counts[k]! > 0 ? v / counts[k]! : 0)));
}
