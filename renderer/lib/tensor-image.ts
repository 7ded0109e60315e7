/**
 * Turns one recorded state of a run into RGBA pixels for a <canvas>.
 *
 * Layout (contract.ts, RunTensors): states stacked first, each NCHW with
 * N = 1, row-major: value(s, c, y, x) = data[((s·C + c)·H + y)·W + x].
 * One channel is drawn as grey, three as RGB. Values are mapped linearly from
 * the model's data range (ImageSpec.range) onto 0…255 and clipped; only the
 * crop region (ImageSpec.crop) is drawn when the data were padded.
 */
import type { ImageSpec } from '../../electron/engine/manifest';

export interface RgbaImage {
  width: number;
  height: number;
  /** width·height·4 bytes, row-major RGBA. */
  data: Uint8ClampedArray<ArrayBuffer>;
}

/** Size of one recorded state in values (C·H·W). */
export function stateLength(image: ImageSpec): number {
  return image.channels * image.height * image.width;
}

/** The visible region of a state: the crop when there is one, else the whole image. */
export function visibleRegion(image: ImageSpec): { top: number; left: number; height: number; width: number } {
  return image.crop ?? { top: 0, left: 0, height: image.height, width: image.width };
}

/**
 * RGBA pixels of state `index` of `stack`, each value first multiplied by
 * `gain` (1 draws the data as they are).
 */
export function stateToRgba(stack: Float32Array, index: number, image: ImageSpec, gain = 1): RgbaImage {
  const { channels, height, width } = image;
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`Cannot draw an image with ${channels} channels; expected 1 (grey) or 3 (RGB).`);
  }
  const length = stateLength(image);
  const states = Math.floor(stack.length / length);
  if (!Number.isInteger(index) || index < 0 || index >= states) {
    throw new RangeError(`State ${index} is outside the run's ${states} recorded states.`);
  }
  const region = visibleRegion(image);
  const [low, high] = image.range;
  const scale = (255 * gain) / (high - low);
  const offset = (-255 * low) / (high - low);
  const plane = height * width;
  const base = index * length;
  const data = new Uint8ClampedArray(region.width * region.height * 4);
  for (let y = 0; y < region.height; y++) {
    for (let x = 0; x < region.width; x++) {
      const source = base + (region.top + y) * width + (region.left + x);
      const target = (y * region.width + x) * 4;
      for (let k = 0; k < 3; k++) {
        // Uint8ClampedArray rounds and clips to 0…255 on store.
        data[target + k] = stack[source + (channels === 3 ? k * plane : 0)]! * scale + offset;
      }
      data[target + 3] = 255;
    }
  }
  return { width: region.width, height: region.height, data };
}

/**
 * Display gain for x_t at noise level σ. A VP run keeps x_t near unit
 * variance and is drawn as is; a σ-form x_t would be a field of clipped noise
 * of size σ_max, so it is drawn as x/√(1 + σ²), which is exactly the VP state
 * for the same σ: both kinds of run then look alike.
 */
export function xtDisplayGain(sigmaForm: boolean, sigma: number): number {
  return sigmaForm ? 1 / Math.sqrt(1 + sigma * sigma) : 1;
}

/**
 * An on-screen edge for an image of `size` pixels: a whole multiple of the
 * size when that costs at most 6 % (every model pixel then the same size on
 * screen), else the edge itself (pixelated scaling keeps the pixels sharp).
 */
export function crispEdge(edge: number, size: number): number {
  const whole = Math.floor(edge / size) * size;
  return whole >= size && whole >= 0.94 * edge ? whole : Math.floor(edge);
}
