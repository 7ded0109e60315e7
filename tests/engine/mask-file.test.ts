import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { maskWeights, readMaskFile, resampleMask } from '../../electron/engine/mask-file';
import { decodePng, encodePng } from '../../electron/engine/png';

const folder = mkdtempSync(join(tmpdir(), 'painter-mask-'));

/** A PNG written by hand: each row with its own filter type (0–4), filtered by the spec's forward definitions. */
function handMadePng(width: number, height: number, channels: 1 | 2 | 3 | 4, pixels: Uint8Array): Uint8Array {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const value = pixels[y * stride + x]!;
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const paeth = ((): number => {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      })();
      const predictor = [0, a, b, Math.floor((a + b) / 2), paeth][filter]!;
      raw[y * (stride + 1) + 1 + x] = (value - predictor + 256) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    return Buffer.concat([head, Buffer.from(data), Buffer.alloc(4)]); // the decoder does not check CRCs
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colorType;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

describe('region masks from PNG files', () => {
  it('decodes every filter type and colour type bit for bit', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const width = 7;
      const height = 10;
      const pixels = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + (i >> 3) * 11) & 0xff);
      const decoded = decodePng(handMadePng(width, height, channels, pixels));
      expect(decoded).toMatchObject({ width, height, channels });
      expect(Array.from(decoded.pixels)).toEqual(Array.from(pixels));
    }
    // …and what the engine's own encoder writes.
    const grey = { width: 5, height: 3, channels: 1 as const, pixels: Uint8Array.from({ length: 15 }, (_, i) => i * 17) };
    expect(Array.from(decodePng(encodePng(grey)).pixels)).toEqual(Array.from(grey.pixels));
  });

  it('turns luminance × alpha into weights and resamples by area', () => {
    // RGBA: white opaque, white half-transparent, black opaque, mid-grey opaque.
    const weights = maskWeights({ width: 4, height: 1, channels: 4, pixels: Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 128, 0, 0, 0, 255, 128, 128, 128, 255]) });
    expect(Array.from(weights).map((w) => Number(w.toFixed(3)))).toEqual([1, 0.502, 0, 0.502]);
    // 4×4 → 2×2: each target pixel the mean of a 2×2 block (exact for an integer ratio).
    const source = Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(resampleMask(source, 4, 4, 2, 2))).toEqual([1, 0, 0, 0.25]);
    // 2×2 → 4×4 repeats each value.
    expect(Array.from(resampleMask(Float32Array.from([1, 0, 0, 0.5]), 2, 2, 4, 4)).slice(0, 4)).toEqual([1, 1, 0, 0]);
  });

  it('reads a mask file at the model size and refuses an all-black one, a non-PNG and a 16-bit PNG', () => {
    const white = join(folder, 'region.png');
    const pixels = new Uint8Array(8 * 8);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) pixels[y * 8 + x] = 255;
    writeFileSync(white, encodePng({ width: 8, height: 8, channels: 1, pixels }));
    const mask = readMaskFile(white, { height: 4, width: 4 });
    expect(Array.from(mask)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const black = join(folder, 'black.png');
    writeFileSync(black, encodePng({ width: 4, height: 4, channels: 1, pixels: new Uint8Array(16) }));
    expect(() => readMaskFile(black, { height: 4, width: 4 })).toThrow(/all black/);
    const text = join(folder, 'mask.png.txt');
    writeFileSync(text, 'not an image');
    expect(() => readMaskFile(text, { height: 4, width: 4 })).toThrow(/not a PNG/);
    const deep = handMadePng(2, 2, 1, new Uint8Array(4));
    deep[24] = 16; // IHDR bit depth
    const sixteen = join(folder, 'sixteen.png');
    writeFileSync(sixteen, deep);
    expect(() => readMaskFile(sixteen, { height: 4, width: 4 })).toThrow(/only 8-bit/);
    expect(() => readMaskFile(join(folder, 'missing.png'), { height: 4, width: 4 })).toThrow(/no such file/);
  });
});
