/**
 * Minimal PNG encoder (8-bit greyscale or RGB, no interlace) and decoder
 * (region masks), and image-grid helpers for strips and figures.
 * @see https://www.w3.org/TR/png/ (chunks IHDR, IDAT, IEND; filter type 0)
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { PainterError } from './errors';
import type { ImageSpec } from './manifest';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'ascii'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The `Software` text every PNG Painter writes carries (so the CLI knows its own files, electron/cli/overwrite.ts). */
export const PNG_SOFTWARE = 'Painter';

/** An 8-bit raster, row-major, `channels` interleaved (1 = grey, 3 = RGB). */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

export function encodePng(raster: Raster): Uint8Array {
  const { width, height, channels, pixels } = raster;
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const stride = width * channels;
  const filtered = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) filtered.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const signature = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const software = chunk('tEXt', Buffer.from(`Software\0${PNG_SOFTWARE}`, 'latin1'));
  const parts = [signature, chunk('IHDR', header), software, chunk('IDAT', deflateSync(filtered)), chunk('IEND', new Uint8Array(0))];
  return Buffer.concat(parts);
}

/** One NCHW image (values in image.range) to an 8-bit raster. */
export function imageToRaster(data: ArrayLike<number>, offset: number, image: ImageSpec): Raster {
  const { channels, height, width, range } = image;
  const outChannels: 1 | 3 = channels === 1 ? 1 : 3;
  const pixels = new Uint8Array(width * height * outChannels);
  const [low, high] = range;
  const plane = width * height;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < outChannels; c++) {
      const value = data[offset + c * plane + p]!;
      pixels[p * outChannels + c] = Math.max(0, Math.min(255, Math.round(((value - low) / (high - low)) * 255)));
    }
  }
  return { width, height, channels: outChannels, pixels };
}

/** Places rasters on a grid of `columns` (nearest-neighbour upscaled by `scale`), with a gap. */
export function rasterGrid(cells: readonly Raster[], columns: number, scale = 1, gap = 2, background = 40): Raster {
  const first = cells[0]!;
  const channels = first.channels;
  const cellW = first.width * scale;
  const cellH = first.height * scale;
  const rows = Math.ceil(cells.length / columns);
  const width = columns * cellW + (columns + 1) * gap;
  const height = rows * cellH + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height * channels).fill(background);
  cells.forEach((cell, index) => {
    const x0 = gap + (index % columns) * (cellW + gap);
    const y0 = gap + Math.floor(index / columns) * (cellH + gap);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const source = (Math.floor(y / scale) * cell.width + Math.floor(x / scale)) * channels;
        const target = ((y0 + y) * width + x0 + x) * channels;
        for (let c = 0; c < channels; c++) pixels[target + c] = cell.pixels[source + c]!;
      }
    }
  });
  return { width, height, channels, pixels };
}

/** A decoded PNG: 8-bit samples, `channels` interleaved (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
export interface DecodedPng {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  pixels: Uint8Array;
}

/**
 * Minimal PNG decoder for masks and small images: 8-bit greyscale, grey+alpha,
 * RGB or RGBA, not interlaced, all five filter types. Anything else is refused
 * with a message that says what the file is.
 * @see https://www.w3.org/TR/png/ (§7.3 filters, §11.2.2 IHDR)
 */
export function decodePng(bytes: Uint8Array, name = 'the PNG file'): DecodedPng {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 8 || signature.some((b, i) => bytes[i] !== b)) throw new PainterError('BAD_FILE', `${name} is not a PNG file.`, { file: name });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const data: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (offset + 12 + length > bytes.length) throw new PainterError('BAD_FILE', `${name} is truncated (chunk ${type}).`, { file: name });
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const depth = body[8]!;
      colorType = body[9]!;
      const interlace = body[12]!;
      if (depth !== 8 || ![0, 2, 4, 6].includes(colorType) || interlace !== 0) {
        throw new PainterError('BAD_FILE', `${name}: only 8-bit, non-interlaced greyscale, grey+alpha, RGB or RGBA PNGs are read (this one has bit depth ${depth}, colour type ${colorType}, interlace ${interlace}).`, {
          file: name,
        });
      }
      if (width < 1 || height < 1 || width * height > 1 << 24) throw new PainterError('BAD_FILE', `${name} has an unusable size ${width}×${height}.`, { file: name });
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  if (colorType < 0 || data.length === 0) throw new PainterError('BAD_FILE', `${name} has no image data.`, { file: name });
  const channels = ({ 0: 1, 4: 2, 2: 3, 6: 4 } as const)[colorType as 0 | 2 | 4 | 6];
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(data));
  } catch {
    throw new PainterError('BAD_FILE', `${name}: its image data cannot be decompressed.`, { file: name });
  }
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new PainterError('BAD_FILE', `${name}: its image data is shorter than ${width}×${height}.`, { file: name });
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[out + x - channels]! : 0;
      const b = y > 0 ? pixels[out - stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[out - stride + x - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new PainterError('BAD_FILE', `${name}: unknown filter type ${filter} on row ${y}.`, { file: name });
      }
      pixels[out + x] = (line[x]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}
