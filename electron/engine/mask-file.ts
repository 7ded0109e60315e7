/**
 * A region mask from an image file (`painter analyze manifold --mask`):
 * white = inside, black = outside, grey = partly (a feathered edge), times
 * the alpha channel when there is one; resampled by area to the model's
 * image size when the file is larger or smaller.
 */
import { readFileSync, statSync } from 'node:fs';
import { PainterError } from './errors';
import { decodePng, type DecodedPng } from './png';

const MAX_MASK_BYTES = 16 << 20;

/** Weights in [0, 1] per pixel of the PNG (luminance × alpha). */
export function maskWeights(png: DecodedPng): Float32Array {
  const { width, height, channels, pixels } = png;
  const out = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const at = p * channels;
    const grey = channels >= 3 ? 0.299 * pixels[at]! + 0.587 * pixels[at + 1]! + 0.114 * pixels[at + 2]! : pixels[at]!;
    const alpha = channels === 2 || channels === 4 ? pixels[at + channels - 1]! / 255 : 1;
    out[p] = (grey / 255) * alpha;
  }
  return out;
}

/**
 * Area resampling of an h×w grid of weights to H×W: each target pixel is the
 * average of the source area it covers (exact for integer ratios, a box filter otherwise).
 */
export function resampleMask(mask: Float32Array, width: number, height: number, targetWidth: number, targetHeight: number): Float32Array {
  if (width === targetWidth && height === targetHeight) return Float32Array.from(mask);
  const out = new Float32Array(targetWidth * targetHeight);
  const sx = width / targetWidth;
  const sy = height / targetHeight;
  for (let ty = 0; ty < targetHeight; ty++) {
    const y0 = ty * sy;
    const y1 = (ty + 1) * sy;
    for (let tx = 0; tx < targetWidth; tx++) {
      const x0 = tx * sx;
      const x1 = (tx + 1) * sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += wx * wy * mask[Math.min(height - 1, y) * width + Math.min(width - 1, x)]!;
          area += wx * wy;
        }
      }
      out[ty * targetWidth + tx] = area > 0 ? Math.min(1, Math.max(0, sum / area)) : 0;
    }
  }
  return out;
}

/** Reads a mask PNG for images of `image`'s size; refuses an empty one. */
export function readMaskFile(path: string, image: { height: number; width: number }): Float32Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new PainterError('BAD_FILE', `Cannot read the mask ${path}: no such file.`, { path });
  }
  if (size > MAX_MASK_BYTES) throw new PainterError('BAD_FILE', `The mask ${path} is ${size} bytes; a mask PNG must be under ${MAX_MASK_BYTES >> 20} MB.`, { path, size });
  const png = decodePng(readFileSync(path), path);
  const mask = resampleMask(maskWeights(png), png.width, png.height, image.width, image.height);
  if (!mask.some((v) => v > 0)) {
    throw new PainterError('BAD_ARGUMENT', `The mask ${path} is all black: paint the region that should change in white (black keeps the rest fixed).`, { path });
  }
  return mask;
}
