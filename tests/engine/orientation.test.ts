import { describe, expect, it } from 'vitest';
import { classMeans, meanCorrelation, orientationAgreement } from '../../electron/engine/orientation';

const image = { channels: 1, height: 3, width: 4, range: [-1, 1] as [number, number] };
// A "shoe" pointing right: heavy on the right columns.
const right = [0, 0, 1, 2, 0, 1, 2, 3, 0, 0, 1, 2];
const left = [2, 1, 0, 0, 3, 2, 1, 0, 2, 1, 0, 0];

describe('orientation agreement', () => {
  it('the correlation with the mean is Pearson r, and the mirrored image is the flipped one', () => {
    expect(meanCorrelation(right, 0, right, image, false)).toBeCloseTo(1, 12);
    expect(meanCorrelation(left, 0, right, image, true)).toBeCloseTo(1, 12);
    // An independent computation of r for two vectors.
    const a = [1, 2, 3, 4, 0, 0, 0, 0, 5, 1, 1, 1];
    const b = right;
    const ma = a.reduce((s, v) => s + v, 0) / 12;
    const mb = b.reduce((s, v) => s + v, 0) / 12;
    const num = a.reduce((s, v, i) => s + (v - ma) * (b[i]! - mb), 0);
    const den = Math.sqrt(a.reduce((s, v) => s + (v - ma) ** 2, 0) * b.reduce((s, v) => s + (v - mb) ** 2, 0));
    expect(meanCorrelation(a, 0, b, image, false)).toBeCloseTo(num / den, 12);
  });

  it('counts per class the images that face like their class mean', () => {
    const images = [...right, ...right, ...left, ...left, ...right];
    const labels = [0, 0, 0, 1, 1];
    const means = [right, left];
    const report = orientationAgreement(images, labels, means, image);
    expect(report.perClass[0]).toEqual({ agreement: 2 / 3, count: 3 });
    expect(report.perClass[1]).toEqual({ agreement: 1 / 2, count: 2 });
    expect(() => orientationAgreement(images, [0, 0, 0, 2, 1], means, image)).toThrow(/Label 2 has no class mean/);
  });

  it('class means average the images of each class', () => {
    const means = classMeans([...right, ...left, ...right], [0, 0, 1], 3, 12);
    expect(Array.from(means[0]!)).toEqual(right.map((v, i) => (v + left[i]!) / 2));
    expect(Array.from(means[1]!)).toEqual(right);
    expect(Array.from(means[2]!)).toEqual(new Array(12).fill(0));
  });
});
