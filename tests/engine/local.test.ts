/**
 * The local patch denoiser (LS / ELS, Kamb & Ganguli 2025) against its
 * closed-form limits and a direct, unoptimised implementation.
 */
import { describe, expect, it } from 'vitest';
import { fastExp, LocalPatchModel } from '../../electron/engine/denoisers/local';
import { DeltaMixtureModel } from '../../electron/engine/denoisers/mixture';
import { seededNormal } from '../../electron/engine/rng';
import { loadAnalytic } from '../helpers/fixtures';

const fashion = loadAnalytic('../../native-models/fashion-mnist-delta').delta!;
const schedule = (patch: number): { sigmas: number[]; patchSizes: number[] } => ({ sigmas: [1], patchSizes: [patch] });

/**
 * D(x, σ)_{c,i} = Σ_{n,δ} w y_{n,c,i+δ}, w ∝ exp(−Σ_{p ∈ Ω_i} Σ_c (x_{c,p} − y_{n,c,p+δ})² / 2σ²),
 * written out patch by patch in float64, outside pixels = pad.
 */
function direct(images: Float32Array, channels: number, height: number, width: number, x: Float32Array, sigma: number, patch: number, shift: number, pad: number): Float64Array {
  const area = height * width;
  const dim = channels * area;
  const count = images.length / dim;
  const half = (patch - 1) / 2;
  const at = (n: number, c: number, r: number, col: number): number => (r < 0 || r >= height || col < 0 || col >= width ? pad : images[n * dim + c * area + r * width + col]!);
  const out = new Float64Array(dim);
  for (let r = 0; r < height; r++) {
    for (let col = 0; col < width; col++) {
      const logits: number[] = [];
      const values: number[][] = [];
      for (let n = 0; n < count; n++) {
        for (let dr = -shift; dr <= shift; dr++) {
          for (let dc = -shift; dc <= shift; dc++) {
            let distance = 0;
            for (let pr = Math.max(0, r - half); pr <= Math.min(height - 1, r + half); pr++) {
              for (let pc = Math.max(0, col - half); pc <= Math.min(width - 1, col + half); pc++) {
                for (let c = 0; c < channels; c++) distance += (x[c * area + pr * width + pc]! - at(n, c, pr + dr, pc + dc)) ** 2;
              }
            }
            logits.push(-distance / (2 * sigma * sigma));
            values.push(Array.from({ length: channels }, (_, c) => at(n, c, r + dr, col + dc)));
          }
        }
      }
      const top = Math.max(...logits);
      const weights = logits.map((l) => Math.exp(l - top));
      const total = weights.reduce((a, b) => a + b, 0);
      for (let c = 0; c < channels; c++) out[c * area + r * width + col] = weights.reduce((sum, w, k) => sum + w * values[k]![c]!, 0) / total;
    }
  }
  return out;
}

describe('local patch denoiser', () => {
  it('fastExp is e^g to 1e-8 relative on [−44, 0]', () => {
    let worst = 0;
    for (let g = -44; g <= 0; g += 0.0137) worst = Math.max(worst, Math.abs(fastExp(g) / Math.exp(g) - 1));
    expect(worst).toBeLessThan(1e-8);
    expect(fastExp(-Infinity)).toBe(0);
  });

  it('LS and ELS equal a direct patch-by-patch computation (2 channels, 5×6, 7 images; ≤ 1e-6)', () => {
    const [channels, height, width, count] = [2, 5, 6, 7];
    const images = seededNormal(1, 0, count * channels * height * width).map((v) => Math.tanh(v));
    const x = seededNormal(2, 0, channels * height * width).map((v) => 0.8 * v);
    for (const [patch, shift] of [
      [3, 0],
      [1, 0],
      [5, 1],
      [3, 2],
    ] as const) {
      for (const sigma of [0.3, 1.5]) {
        const model = new LocalPatchModel(images, null, { channels, height, width, shiftWindow: shift, patchSchedule: schedule(patch), padValue: -0.25 });
        const got = model.denoise(x, [sigma]);
        const expected = direct(images, channels, height, width, x, sigma, patch, shift, -0.25);
        const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i]!)));
        // Float32 output of values |y| < 1, and fastExp's 6e-9.
        expect(worst, `patch ${patch}, shift ${shift}, σ ${sigma}`).toBeLessThan(1e-6);
      }
    }
  });

  it('with a patch covering the whole image and no shifts, it is the delta mixture (fixture and 500 Fashion-MNIST images)', () => {
    const fixture = loadAnalytic('gauss16-delta').delta!;
    for (const [delta, side] of [
      [fixture, 4],
      [new DeltaMixtureModel(fashion.images.subarray(0, 500 * 784), 784, fashion.labels!.subarray(0, 500)), 28],
    ] as const) {
      const local = new LocalPatchModel(delta.images, delta.labels, { channels: 1, height: side, width: side, shiftWindow: 0, patchSchedule: schedule(2 * side - 1) });
      for (const sigma of [0.05, 0.5, 5]) {
        const x = Float32Array.from(delta.images.subarray(0, 2 * delta.dim), (v, i) => v + sigma * Math.sin(1.3 * i));
        const labels = [null, delta.labels![1]!];
        const got = local.denoise(x, [sigma, sigma], labels);
        const expected = delta.denoise(x, [sigma, sigma], labels);
        const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i]!)));
        expect(worst, `D = ${delta.dim}, σ = ${sigma}`).toBeLessThan(1e-6);
      }
    }
  });

  it('with patch size 1 and one training image it returns that image: always (LS), and as σ → 0 from x = y + σε (ELS)', () => {
    const y = fashion.images.subarray(3 * 784, 4 * 784);
    const ls = new LocalPatchModel(y, null, { channels: 1, height: 28, width: 28, shiftWindow: 0, patchSchedule: schedule(1) });
    const noise = seededNormal(5, 0, 784);
    for (const sigma of [10, 1, 0.1]) {
      const x = Float32Array.from(y, (v, i) => v + sigma * noise[i]!);
      expect(Math.max(...Array.from(ls.denoise(x, [sigma]), (v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-7);
    }
    // ELS: pixel i may take any pixel value within 2 of it; as σ → 0 only y_i itself (or an equal value) matches.
    const els = new LocalPatchModel(y, null, { channels: 1, height: 28, width: 28, shiftWindow: 2, patchSchedule: schedule(1) });
    const errorAt = (sigma: number): number => {
      const x = Float32Array.from(y, (v, i) => v + sigma * noise[i]!);
      return Math.max(...Array.from(els.denoise(x, [sigma]), (v, i) => Math.abs(v - y[i]!)));
    };
    expect(errorAt(0.5)).toBeGreaterThan(0.05);
    // Pixel values are multiples of 2/255 apart, so at σ = 1e-4 the nearest value is y_i's own.
    expect(errorAt(1e-4)).toBeLessThan(1e-6);
  });

  it('a class label restricts the posterior to that class, and patch sizes follow the calibration nearest in log σ', () => {
    const fixture = loadAnalytic('gauss16-delta').delta!;
    const local = new LocalPatchModel(fixture.images, fixture.labels, { channels: 1, height: 4, width: 4, shiftWindow: 0, patchSchedule: { sigmas: [0.1, 1, 10], patchSizes: [1, 3, 7] } });
    expect([0.05, 0.2, 0.5, 2, 40].map((s) => local.patchSizeAt(s))).toEqual([1, 1, 3, 3, 7]);
    const x = fixture.images.subarray(0, 16);
    const out = local.denoise(x, [1e-3], [2]);
    // At σ → 0 with class 2 only, every pixel comes from a class-2 image's same pixel.
    for (let i = 0; i < 16; i++) {
      const candidates = [8, 9, 10, 11].map((n) => fixture.images[n * 16 + i]!);
      expect(Math.min(...candidates.map((v) => Math.abs(v - out[i]!)))).toBeLessThan(1e-6);
    }
  });
});
