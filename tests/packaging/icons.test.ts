/**
 * The icons in build/ (made by `npm run icons` from build/*.svg): every size
 * electron-builder wants, each a real PNG of the size its container claims.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BUILD = join(__dirname, '..', '..', 'build');

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk's length and type). */
function pngSize(png: Buffer): [number, number] {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

function icoEntries(ico: Buffer): Array<{ size: number; png: Buffer }> {
  expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
  return Array.from({ length: ico.readUInt16LE(4) }, (_, i) => {
    const entry = 6 + 16 * i;
    const length = ico.readUInt32LE(entry + 8);
    const offset = ico.readUInt32LE(entry + 12);
    return { size: ico.readUInt8(entry) || 256, png: ico.subarray(offset, offset + length) };
  });
}

function icnsElements(icns: Buffer): Array<{ type: string; png: Buffer }> {
  expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
  expect(icns.readUInt32BE(4)).toBe(icns.length);
  const elements: Array<{ type: string; png: Buffer }> = [];
  for (let offset = 8; offset < icns.length; ) {
    const length = icns.readUInt32BE(offset + 4);
    elements.push({ type: icns.subarray(offset, offset + 4).toString('ascii'), png: icns.subarray(offset + 8, offset + length) });
    offset += length;
  }
  return elements;
}

const ICNS_SIZE: Record<string, number> = { icp4: 16, icp5: 32, icp6: 64, ic07: 128, ic08: 256, ic09: 512, ic10: 1024, ic11: 32, ic12: 64, ic13: 256, ic14: 512 };

describe('icons in build/', () => {
  it('Linux: build/icons/NxN.png from 16 to 1024, each its named size', () => {
    const files = readdirSync(join(BUILD, 'icons'));
    expect(files.map((name) => Number(name.split('x')[0])).sort((a, b) => a - b)).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024]);
    for (const name of files) {
      const size = Number(name.split('x')[0]);
      expect(pngSize(readFileSync(join(BUILD, 'icons', name))), name).toEqual([size, size]);
    }
  });

  for (const name of ['icon', 'painter-session']) {
    it(`${name}: a 1024 px PNG, an ICO of 16–256 px and an ICNS of 16–1024 px, every entry a PNG of its size`, () => {
      expect(pngSize(readFileSync(join(BUILD, `${name}.png`)))).toEqual([1024, 1024]);
      const ico = icoEntries(readFileSync(join(BUILD, `${name}.ico`)));
      expect(ico.map((entry) => entry.size)).toEqual([16, 24, 32, 48, 64, 128, 256]);
      for (const entry of ico) expect(pngSize(entry.png)).toEqual([entry.size, entry.size]);
      const icns = icnsElements(readFileSync(join(BUILD, `${name}.icns`)));
      expect(icns.map((element) => element.type).sort()).toEqual(Object.keys(ICNS_SIZE).sort());
      for (const element of icns) expect(pngSize(element.png), element.type).toEqual([ICNS_SIZE[element.type], ICNS_SIZE[element.type]]);
    });
  }

  it('the icons are drawn, not blank: the 256 px PNG carries real image data', () => {
    expect(readFileSync(join(BUILD, 'icons', '256x256.png')).length).toBeGreaterThan(10_000);
  });
});
