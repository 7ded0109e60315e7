// `npm run icons`: every icon electron-builder wants, from the SVG sources in build/.
//   build/icon.png                1024×1024 (the generic source electron-builder falls back to)
//   build/icons/NxN.png           Linux (AppImage, deb): 16 … 1024
//   build/icon.ico                Windows: 16, 24, 32, 48, 64, 128, 256 (PNG-compressed entries, Vista and later)
//   build/icon.icns               macOS: icp4 … ic10 (PNG payloads: 16 … 1024, with @2x variants)
//   build/painter-session.{ico,icns,png}  the .painter file association's icon
// SVG → PNG with resvg; the ICO and ICNS containers are written here (both are a
// small header and a table of PNGs). Deterministic: the same sources give the same bytes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

const render = (svg, size) => new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } }).render().asPng();

/** ICO: ICONDIR (6 bytes), one 16-byte ICONDIRENTRY per image, then the PNGs. @see https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10) */
function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    const entry = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, entry); // 0 means 256
    header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
    header.writeUInt8(0, entry + 2); // no palette
    header.writeUInt8(0, entry + 3);
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(png.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.png)]);
}

/** ICNS: 'icns' + total length, then (OSType, length incl. 8-byte header, PNG data) per element. */
function icns(elements) {
  const chunks = elements.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + chunks.reduce((n, c) => n + c.length, 0), 4);
  return Buffer.concat([head, ...chunks]);
}

// OSType → pixel size (the @2x types hold the doubled size).
const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

function writeSet(name, { linux }) {
  const svg = readFileSync(`build/${name}.svg`);
  const cache = new Map();
  const png = (size) => {
    if (!cache.has(size)) cache.set(size, render(svg, size));
    return cache.get(size);
  };
  writeFileSync(`build/${name}.png`, png(1024));
  writeFileSync(`build/${name}.ico`, ico(ICO_SIZES.map((size) => ({ size, png: png(size) }))));
  writeFileSync(`build/${name}.icns`, icns(ICNS_TYPES.map(([type, size]) => ({ type, png: png(size) }))));
  if (linux) {
    mkdirSync('build/icons', { recursive: true });
    for (const size of LINUX_SIZES) writeFileSync(`build/icons/${size}x${size}.png`, png(size));
  }
}

writeSet('icon', { linux: true });
writeSet('painter-session', { linux: false });
console.log('icons: build/icon.{png,ico,icns}, build/icons/*.png, build/painter-session.{png,ico,icns}');
