/**
 * Tensors are Float32Array with an explicit shape, NCHW, row-major. A batch of
 * B images of D = C·H·W values is a Float32Array of length B·D, image b at
 * [b·D, (b+1)·D). Scalars (σ, weights) are float64.
 */
import { PainterError } from './errors';

export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function assertLength(data: ArrayLike<number>, expected: number, what: string): void {
  if (data.length !== expected) {
    throw new PainterError('BAD_ARGUMENT', `${what} has ${data.length} values; expected ${expected}.`, {
      length: data.length,
      expected,
    });
  }
}

/** Dot product of a[aOffset..+n] and b[bOffset..+n], accumulated in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n: number, aOffset = 0, bOffset = 0): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[aOffset + i]! * b[bOffset + i]!;
  return sum;
}

export function norm(a: ArrayLike<number>, n = a.length, offset = 0): number {
  return Math.sqrt(dot(a, a, n, offset, offset));
}

/** One image of a batch, as a view. */
export function imageAt(batch: Float32Array, index: number, dim: number): Float32Array {
  return batch.subarray(index * dim, (index + 1) * dim);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertLength(b, a.length, 'second tensor');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
