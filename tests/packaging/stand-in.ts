/**
 * A stand-in for the Electron distribution electron-builder packages
 * (`electronDist`): no Electron binary can be had on these machines, so the
 * executable is a small file that carries Electron's fuse wire — the
 * sentinel, wire version 1, length 8 and Electron 41's default fuse states —
 * which is all electron-builder's fuse step reads and writes.
 *
 * @see https://github.com/electron/fuses (the wire format)
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/** Electron's shipped defaults, fuse 0 … 7: RunAsNode on, cookie encryption off, NODE_OPTIONS on, inspect on, asar integrity off, only-asar off, browser V8 snapshot off, file:// privileges on. */
export const ELECTRON_DEFAULT_FUSES = '10110001';

export function makeStandInElectron(folder: string, electronVersion: string): string {
  mkdirSync(join(folder, 'resources'), { recursive: true });
  mkdirSync(join(folder, 'locales'), { recursive: true });
  const wire = Buffer.from([1, ELECTRON_DEFAULT_FUSES.length, ...Buffer.from(ELECTRON_DEFAULT_FUSES, 'ascii')]);
  const executable = join(folder, 'electron');
  writeFileSync(executable, Buffer.concat([Buffer.from('#!/bin/sh\necho "stand-in Electron: no binary here"\nexit 1\n'), Buffer.from(FUSE_SENTINEL, 'ascii'), wire]));
  chmodSync(executable, 0o755);
  writeFileSync(join(folder, 'version'), electronVersion);
  writeFileSync(join(folder, 'LICENSE'), 'Stand-in for the Electron distribution (tests/packaging/stand-in.ts).\n');
  writeFileSync(join(folder, 'locales', 'en-US.pak'), '');
  return folder;
}
