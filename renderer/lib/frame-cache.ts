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

let scratch: HTMLCanvasElement | null = null;

/**
 * Draws a frame filling `context`'s canvas: copied when the sizes agree,
 * else scaled with smoothing (a latent run's preview, one pixel per latent
 * cell, drawn at the decoded image's size; DESIGN.md §1, issue 10).
 */
export function drawFrame(context: CanvasRenderingContext2D, frame: ImageData): void {
  const { width, height } = context.canvas;
  if (frame.width === width && frame.height === height) {
    context.putImageData(frame, 0, 0);
    return;
  }
  scratch ??= document.createElement('canvas');
  if (scratch.width !== frame.width || scratch.height !== frame.height) {
    scratch.width = frame.width;
    scratch.height = frame.height;
  }
  scratch.getContext('2d')?.putImageData(frame, 0, 0);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(scratch, 0, 0, width, height);
}
