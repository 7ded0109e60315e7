/**
 * Minimal animated GIF encoder (GIF89a): one global 256-colour palette
 * (256 greys for greyscale rasters, a 3-3-2 RGB cube for colour ones), a
 * NETSCAPE2.0 loop block, and one LZW-compressed image per frame.
 * @see https://www.w3.org/Graphics/GIF/spec-gif89a.txt (§18 LZW, §23 graphic control)
 */
import type { Raster } from './png';

/** Palette index of each pixel of a raster. */
function indexPixels(raster: Raster): Uint8Array {
  const { width, height, channels, pixels } = raster;
  const out = new Uint8Array(width * height);
  if (channels === 1) {
    out.set(pixels);
    return out;
  }
  for (let p = 0; p < out.length; p++) {
    // 3-3-2 cube: red and green in 8 levels, blue in 4, rounded to the nearest level.
    const r = Math.round((pixels[p * 3]! * 7) / 255);
    const g = Math.round((pixels[p * 3 + 1]! * 7) / 255);
    const b = Math.round((pixels[p * 3 + 2]! * 3) / 255);
    out[p] = (r << 5) | (g << 2) | b;
  }
  return out;
}

function palette(channels: 1 | 3): Uint8Array {
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    if (channels === 1) {
      table.fill(i, i * 3, i * 3 + 3);
    } else {
      table[i * 3] = Math.round((((i >> 5) & 7) * 255) / 7);
      table[i * 3 + 1] = Math.round((((i >> 2) & 7) * 255) / 7);
      table[i * 3 + 2] = Math.round(((i & 3) * 255) / 3);
    }
  }
  return table;
}

/** Growable byte buffer. */
class Bytes {
  private buffer = new Uint8Array(1 << 16);
  length = 0;

  push(...values: number[]): void {
    for (const value of values) this.byte(value);
  }

  byte(value: number): void {
    if (this.length === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = value & 0xff;
  }

  word(value: number): void {
    this.byte(value);
    this.byte(value >> 8);
  }

  bytes(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.byte(values[i]!);
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/**
 * LZW-compresses 8-bit indices as GIF wants them: codes of 9…12 bits, LSB
 * first, a clear code first and whenever the 4096-entry table fills, then
 * end-of-information; written as sub-blocks of at most 255 bytes.
 */
export function lzwEncode(indices: Uint8Array, minCodeSize = 8): Uint8Array {
  const out = new Bytes();
  const clearCode = 1 << minCodeSize;
  const endCode = clearCode + 1;
  let nextCode = endCode + 1;
  let codeSize = minCodeSize + 1;
  let table = new Map<number, number>();

  const block = new Uint8Array(255);
  let blockLength = 0;
  let bits = 0;
  let bitCount = 0;
  const flushBlock = (): void => {
    out.byte(blockLength);
    out.bytes(block.subarray(0, blockLength));
    blockLength = 0;
  };
  const emit = (code: number): void => {
    bits |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      block[blockLength++] = bits & 0xff;
      if (blockLength === 255) flushBlock();
      bits >>>= 8;
      bitCount -= 8;
    }
  };

  out.byte(minCodeSize);
  emit(clearCode);
  if (indices.length > 0) {
    let prefix = indices[0]!;
    for (let i = 1; i < indices.length; i++) {
      const symbol = indices[i]!;
      const key = (prefix << 8) | symbol;
      const known = table.get(key);
      if (known !== undefined) {
        prefix = known;
        continue;
      }
      emit(prefix);
      if (nextCode === 4096) {
        emit(clearCode);
        table = new Map();
        nextCode = endCode + 1;
        codeSize = minCodeSize + 1;
      } else {
        if (nextCode >= 1 << codeSize) codeSize++;
        table.set(key, nextCode++);
      }
      prefix = symbol;
    }
    emit(prefix);
  }
  emit(endCode);
  if (bitCount > 0) {
    block[blockLength++] = bits & 0xff;
    if (blockLength === 255) flushBlock();
  }
  if (blockLength > 0) flushBlock();
  out.byte(0); // block terminator
  return out.result();
}

/**
 * Encodes same-sized rasters as an endlessly looping animation.
 * @param delayMs time each frame stays, rounded to GIF's hundredths of a second (≥ 20 ms)
 */
export function encodeGif(frames: readonly Raster[], delayMs: number): Uint8Array {
  const first = frames[0];
  if (first === undefined) throw new RangeError('encodeGif: no frames.');
  const { width, height, channels } = first;
  if (width > 0xffff || height > 0xffff) throw new RangeError(`encodeGif: ${width}×${height} is larger than GIF allows (65535).`);
  for (const frame of frames) {
    if (frame.width !== width || frame.height !== height || frame.channels !== channels) {
      throw new RangeError(`encodeGif: every frame must be ${width}×${height}×${channels}.`);
    }
  }
  const out = new Bytes();
  out.bytes(Buffer.from('GIF89a', 'ascii'));
  out.word(width);
  out.word(height);
  out.push(0xf7, 0, 0); // global table of 2^(7+1) colours, 8-bit colour resolution
  out.bytes(palette(channels));
  out.push(0x21, 0xff, 0x0b);
  out.bytes(Buffer.from('NETSCAPE2.0', 'ascii'));
  out.push(0x03, 0x01);
  out.word(0); // loop forever
  out.byte(0);
  const delay = Math.max(2, Math.round(delayMs / 10));
  for (const frame of frames) {
    out.push(0x21, 0xf9, 0x04, 0x04); // graphic control: disposal "do not dispose", no transparency
    out.word(delay);
    out.push(0, 0);
    out.byte(0x2c);
    out.word(0);
    out.word(0);
    out.word(width);
    out.word(height);
    out.byte(0); // no local table, not interlaced
    out.bytes(lzwEncode(indexPixels(frame)));
  }
  out.byte(0x3b);
  return out.result();
}
