/**
 * Minimal PNG encoder (8-bit greyscale or RGB, no interlace) and image-grid
 * helpers for strips and figures.
 * @see https://www.w3.org/TR/png/ (chunks IHDR, IDAT, IEND; filter type 0)
 */
import { deflateSync } from 'node:zlib';
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
