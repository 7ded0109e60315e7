/**
 * Drawn frames, computed once per (state stack, state, gain) and kept for as
 * long as the stack lives, so that scrubbing back to a step only copies
 * pixels (the scrub benchmark's "cached step").
 */
import type { ImageSpec } from '../../electron/engine/manifest';
import { stateToRgba } from './tensor-image';

const frames = new WeakMap<Float32Array, Map<string, ImageData>>();

export function frameImage(stack: Float32Array, index: number, image: ImageSpec, gain = 1): ImageData {
  let perStack = frames.get(stack);
  if (perStack === undefined) {
    perStack = new Map();
    frames.set(stack, perStack);
  }
  const key = `${index}:${gain}`;
  let frame = perStack.get(key);
  if (frame === undefined) {
    const pixels = stateToRgba(stack, index, image, gain);
    frame = new ImageData(pixels.data, pixels.width, pixels.height);
    perStack.set(key, frame);
  }
  return frame;
}
