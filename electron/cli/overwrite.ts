/**
 * The CLI never silently replaces a file it did not write (issue 9, item 8).
 * An existing target may be overwritten only when it is Painter's own output
 * of the same kind — a PNG carrying Painter's `Software` text chunk, a JSON
 * or HTML file carrying Painter's generator mark — or when the user passes
 * --force. Outputs are checked before any long work starts.
 */
import { lstatSync } from 'node:fs';
import { PainterError, quoteText } from '../engine/errors';
import { CheckedFile, readTextFile } from '../engine/files';
import { PNG_SOFTWARE } from '../engine/png';
import { REPORT_GENERATOR } from '../engine/analysis/report-html';

/** What Painter writes, and how each kind proves it is Painter's. */
export type OutputKind = 'png' | 'json' | 'html';

/** The generator mark in every JSON file the CLI writes, per command. */
export const JSON_GENERATOR = { analyze: 'painter analyze', evaluate: 'painter evaluate', report: 'painter report', calibrate: 'painter calibrate-local' } as const;

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function isPainterPng(path: string): boolean {
  // Painter's PNGs carry the tEXt chunk right after IHDR: signature (8) + IHDR (25) + length (4) + "tEXt" (4) + text.
  const text = `Software\0${PNG_SOFTWARE}`;
  const file = CheckedFile.open(path, 'image');
  try {
    const length = 8 + 25 + 8 + text.length;
    if (file.size < length) return false;
    const head = file.read(0, length);
    return head.subarray(0, 8).equals(PNG_SIGNATURE) && head.readUInt32BE(33) === text.length && head.toString('latin1', 37, 41) === 'tEXt' && head.toString('latin1', 41) === text;
  } finally {
    file.close();
  }
}

function isPainterJson(path: string, generator: string): boolean {
  const value: unknown = JSON.parse(readTextFile(path, 'output'));
  return value !== null && typeof value === 'object' && (value as { generator?: unknown }).generator === generator;
}

function isPainterHtml(path: string): boolean {
  return readTextFile(path, 'output').slice(0, 2048).includes(`<meta name="generator" content="${REPORT_GENERATOR}">`);
}

/**
 * Throws unless writing `path` is safe: it does not exist, it is Painter's own
 * output of this kind, or `force` is set. `flag` names the option in the message.
 */
export function checkOverwrite(path: string, kind: OutputKind, flag: string, force: boolean, generator = ''): void {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  if (stats === undefined || force) return;
  const shown = quoteText(path);
  if (stats.isDirectory()) throw new PainterError('BAD_ARGUMENT', `${flag}: ${shown} is a folder; give a file name.`, { path });
  let ours = false;
  try {
    ours = stats.isFile() && (kind === 'png' ? isPainterPng(path) : kind === 'json' ? isPainterJson(path, generator) : isPainterHtml(path));
  } catch {
    ours = false; // unreadable, not text, not JSON: not ours
  }
  if (!ours) {
    const what = kind === 'png' ? 'a PNG Painter wrote' : kind === 'json' ? `a JSON file "${generator}" wrote` : 'a report Painter wrote';
    throw new PainterError('BAD_ARGUMENT', `${flag}: ${shown} already exists and is not ${what}; refusing to overwrite it (choose another name, or pass --force to replace it).`, { path });
  }
}
