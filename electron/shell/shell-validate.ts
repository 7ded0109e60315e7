/**
 * Validators for the Electron-only channels (ipc-channels.ts), applied in the
 * main process to everything the page sends, like validateParams for the API.
 */
import { isAbsolute } from 'node:path';
import type { FileDialogRequest, FileFilter } from '../api/contract';
import { PainterError } from '../engine/errors';

function bad(channel: string, message: string): never {
  throw new PainterError('BAD_ARGUMENT', `${channel}: ${message}`);
}

function record(channel: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(channel, 'expected an object.');
  return value as Record<string, unknown>;
}

function onlyKeys(channel: string, value: Record<string, unknown>, keys: readonly string[]): void {
  const extra = Object.keys(value).filter((key) => !keys.includes(key));
  if (extra.length > 0) bad(channel, `unexpected ${extra.join(', ')}.`);
}

function shortText(channel: string, value: unknown, what: string, max = 200): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || value.includes('\0')) bad(channel, `${what} must be a string of 1 to ${max} characters.`);
  return value;
}

function absolutePath(channel: string, value: unknown, what: string): string {
  const path = shortText(channel, value, what, 4096);
  if (!isAbsolute(path)) bad(channel, `${what} must be an absolute path.`);
  return path;
}

const EXTENSION = /^[A-Za-z0-9]{1,16}$/;

function filters(channel: string, value: unknown): FileFilter[] {
  if (!Array.isArray(value) || value.length > 8) bad(channel, 'filters must be a list of at most 8.');
  return value.map((entry) => {
    const filter = record(channel, entry);
    onlyKeys(channel, filter, ['name', 'extensions']);
    const extensions = filter['extensions'];
    if (!Array.isArray(extensions) || extensions.length === 0 || extensions.length > 8 || !extensions.every((e) => typeof e === 'string' && EXTENSION.test(e))) {
      bad(channel, 'filter extensions must be 1 to 8 plain extensions such as "painter".');
    }
    return { name: shortText(channel, filter['name'], 'a filter name', 64), extensions: extensions as string[] };
  });
}

export function fileDialogRequest(channel: string, value: unknown): FileDialogRequest {
  const request = record(channel, value);
  onlyKeys(channel, request, ['title', 'defaultPath', 'filters']);
  const result: FileDialogRequest = { title: shortText(channel, request['title'], 'title'), filters: filters(channel, request['filters'] ?? []) };
  if (request['defaultPath'] !== undefined) result.defaultPath = absolutePath(channel, request['defaultPath'], 'defaultPath');
  return result;
}

export function unsavedFlag(channel: string, value: unknown): boolean {
  if (typeof value !== 'boolean') bad(channel, 'expected true or false.');
  return value;
}

export function droppedPaths(channel: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 64) bad(channel, 'expected a list of 1 to 64 paths.');
  return value.map((path) => absolutePath(channel, path, 'each path'));
}
