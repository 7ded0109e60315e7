import { describe, expect, it } from 'vitest';
import { coverage, featherMask, invertMask, paintDiscs } from '../../renderer/lib/region-mask';

describe('the Region brush mask', () => {
  it('paints and erases discs in pixel coordinates', () => {
    let mask = paintDiscs(new Float32Array(25), 5, 5, [{ x: 2.5, y: 2.5 }], 1, 1);
    // Radius 1 around the centre of pixel (2, 2): it and its four neighbours (centres at distance 1).
    expect(Array.from(mask)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    mask = paintDiscs(mask, 5, 5, [{ x: 2.5, y: 2.5 }], 0.5, 0);
    expect(mask[12]).toBe(0);
    expect(coverage(mask)).toBeCloseTo(4 / 25, 12);
  });

  it('feathers with a normalised Gaussian: an interior pixel keeps its sum, 0 is the identity', () => {
    const mask = new Float32Array(15 * 15);
    mask[7 * 15 + 7] = 1;
    const soft = featherMask(mask, 15, 15, 1);
    // The kernel sums to 1 and reaches ±3σ = 3 px, inside the 15×15 image: the total is kept (float32: 1e-6).
    expect(soft.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // Peak: (1/Σ_k exp(−k²/2))² for k = −3…3.
    const norm = [-3, -2, -1, 0, 1, 2, 3].reduce((s, k) => s + Math.exp(-(k * k) / 2), 0);
    expect(soft[7 * 15 + 7]).toBeCloseTo(1 / (norm * norm), 6);
    expect(Array.from(featherMask(mask, 15, 15, 0))).toEqual(Array.from(mask));
  });

  it('inverts twice to the same mask', () => {
    const mask = Float32Array.from({ length: 16 }, (_, i) => (i % 3) / 2);
    expect(Array.from(invertMask(invertMask(mask)))).toEqual(Array.from(mask));
    expect(coverage(invertMask(new Float32Array(16)))).toBe(1);
  });
});
