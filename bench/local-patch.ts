/**
 * `npm run bench:local`: speed of the local patch denoiser (denoisers/local.ts)
 * on the bundled Fashion-MNIST training images, measured in one run. Not a gate.
 *
 * Prints ms per image and ns per (training image × shift × pixel) patch
 * distance for LS at 1,000 and 4,000 images and ELS with shifts up to 1 and
 * 2, and how much the blockwise softmax with the integral image saves over
 * the patch sums done directly (a P×P loop per pixel) at the calibrated
 * patch size.
 */
import { join, resolve } from 'node:path';
import { AnalyticDenoiser } from '../electron/engine/denoisers/analytic';
import { LocalPatchModel } from '../electron/engine/denoisers/local';
import type { AnalyticManifest } from '../electron/engine/manifest';
import { readManifest } from '../electron/engine/models';

const ROOT = resolve(__dirname, '..', '..');

function timeIt(work: () => void, repeats: number): number {
  work();
  const started = performance.now();
  for (let i = 0; i < repeats; i++) work();
  return (performance.now() - started) / repeats;
}

/** The same LS posterior with every patch distance summed directly: the baseline the integral image replaces. */
function directLs(images: Float32Array, count: number, x: Float32Array, sigma: number, patch: number): Float32Array {
  const side = 28;
  const half = (patch - 1) >> 1;
  const out = new Float32Array(784);
  const logits = new Float64Array(count);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      let best = -Infinity;
      for (let n = 0; n < count; n++) {
        let distance = 0;
        for (let pr = Math.max(0, r - half); pr <= Math.min(side - 1, r + half); pr++) {
          for (let pc = Math.max(0, c - half); pc <= Math.min(side - 1, c + half); pc++) {
            const d = x[pr * side + pc]! - images[n * 784 + pr * side + pc]!;
            distance += d * d;
          }
        }
        logits[n] = -distance / (2 * sigma * sigma);
        if (logits[n]! > best) best = logits[n]!;
      }
      let total = 0;
      let sum = 0;
      for (let n = 0; n < count; n++) {
        const w = Math.exp(logits[n]! - best);
        total += w;
        sum += w * images[n * 784 + r * side + c]!;
      }
      out[r * side + c] = sum / total;
    }
  }
  return out;
}

function main(): void {
  const folder = join(ROOT, 'native-models', 'fashion-mnist-delta');
  const delta = AnalyticDenoiser.load(readManifest(folder).manifest as AnalyticManifest, folder).delta!;
  const x = Float32Array.from(delta.images.subarray(9000 * 784, 9001 * 784), (v, i) => v + 0.5 * Math.sin(1.7 * i));
  const rows: Array<Record<string, number>> = [];
  for (const [count, shift, repeats] of [
    [1000, 0, 5],
    [4000, 0, 3],
    [1000, 1, 2],
    [1000, 2, 1],
  ] as const) {
    const model = new LocalPatchModel(delta.images.subarray(0, count * 784), null, { channels: 1, height: 28, width: 28, shiftWindow: shift, patchSchedule: { sigmas: [0.5], patchSizes: [5] } });
    const ms = timeIt(() => model.denoise(x, [0.5]), repeats);
    const units = count * (2 * shift + 1) ** 2 * 784;
    rows.push({ trainingImages: count, shiftWindow: shift, msPerImage: ms, nsPerPatchDistance: (ms * 1e6) / units });
    console.log(`${shift === 0 ? 'LS ' : `ELS s=${shift}`} ${String(count).padStart(5)} images: ${ms.toFixed(1).padStart(7)} ms per image, ${((ms * 1e6) / units).toFixed(1)} ns per patch distance`);
  }
  const count = 1000;
  const model = new LocalPatchModel(delta.images.subarray(0, count * 784), null, { channels: 1, height: 28, width: 28, shiftWindow: 0, patchSchedule: { sigmas: [0.5], patchSizes: [9] } });
  const fast = timeIt(() => model.denoise(x, [1]), 3);
  const slow = timeIt(() => directLs(delta.images, count, x, 1, 9), 1);
  const a = model.denoise(x, [1]);
  const b = directLs(delta.images, count, x, 1, 9);
  const difference = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
  console.log(`patch 9, ${count} images: integral images + blockwise softmax ${fast.toFixed(1)} ms, direct patch sums ${slow.toFixed(1)} ms (${(slow / fast).toFixed(1)}×; max difference ${difference.toExponential(1)})`);
  const sizes = [1, 3, 5, 7, 9, 11, 13, 15, 19, 23, 27, 55];
  const all = timeIt(() => model.denoiseAtSizes(x, 1, sizes), 2);
  console.log(`all ${sizes.length} calibration sizes at once: ${all.toFixed(1)} ms, against ${(fast * sizes.length).toFixed(0)} ms for ${sizes.length} separate runs`);
  console.log(JSON.stringify({ bench: 'local-patch', rows, speedupOverDirect: slow / fast, allSizesMs: all, oneSizeMs: fast }));
}

main();
