/**
 * SHA-256 of a run's tensors (x_t then x̂0, their raw float32 bytes), shown
 * in the run's details so a user can see that a reopened run is the same
 * bit for bit.
 */
import type { RunTensors } from '../../electron/api/contract';

function bytes(values: Float32Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

export async function tensorChecksum(tensors: RunTensors): Promise<string> {
  const joined = new Uint8Array(tensors.xt.byteLength + tensors.x0Hat.byteLength);
  joined.set(bytes(tensors.xt));
  joined.set(bytes(tensors.x0Hat), tensors.xt.byteLength);
  const digest = await crypto.subtle.digest('SHA-256', joined);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
