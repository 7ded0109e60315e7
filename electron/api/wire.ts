/**
 * JSON codec for the browser-mode WebSocket: typed arrays travel as base64 so
 * run tensors survive the trip bit for bit. Runs in Node and in the browser
 * (uses only btoa/atob), so the server and the renderer share it.
 */

const FLOAT32_TAG = '$f32';
const UINT8_TAG = '$u8';

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Float32Array) {
      return { [FLOAT32_TAG]: bytesToBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (v instanceof Uint8Array) return { [UINT8_TAG]: bytesToBase64(v) };
    return v;
  });
}

export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const record = v as Record<string, unknown>;
      const f32 = record[FLOAT32_TAG];
      if (typeof f32 === 'string') {
        const bytes = base64ToBytes(f32);
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      }
      const u8 = record[UINT8_TAG];
      if (typeof u8 === 'string') return base64ToBytes(u8);
    }
    return v;
  });
}
