/**
 * The storage budgets (issue 9, item 6): how much memory the open runs'
 * tensors may use before the least recently used move to disk, and how much
 * disk the autosaved runs may take before the oldest unopened ones are
 * removed. Set, in order of precedence, by the engine's options (CLI flags),
 * the environment (PAINTER_RUN_MEMORY_MB, PAINTER_AUTOSAVE_DISK_MB), the
 * settings file PAINTER_HOME/settings.json ({"runMemoryMB": …, "autosaveDiskMB": …}),
 * else the defaults below.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PainterError } from './errors';
import { readJsonFile } from './files';
import type { StorageSettings } from '../api/contract';
import type { StorageBudgets } from './run-store';
import { writeFileAtomic } from './safetensors';

/** 1 GB of run tensors is ~3,000 Fashion-MNIST runs of 50 steps, or ~40 of a 64×64 latent model at 1,000 steps. */
export const DEFAULT_RUN_MEMORY_MB = 1024;
/** 4 GB of autosaves. */
export const DEFAULT_AUTOSAVE_DISK_MB = 4096;
const SETTINGS_FILE = 'settings.json';
const MiB = 1024 * 1024;

function checkMegabytes(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 1_048_576) {
    throw new PainterError('BAD_ARGUMENT', `${what} must be a number of megabytes from ${min} to 1048576; got ${JSON.stringify(value)}.`, { value });
  }
  return value;
}

function fromEnvironment(name: string, min: number): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  return checkMegabytes(Number(text), name, min);
}

/** The settings file's storage values (absent or damaged: none, with a notice). */
function fromFile(userDataDir: string, onNotice: (message: string) => void): Partial<StorageSettings> {
  const path = join(userDataDir, SETTINGS_FILE);
  if (!existsSync(path)) return {};
  try {
    const value = readJsonFile(path, 'settings');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PainterError('BAD_FILE', `${path} is not an object.`);
    const record = value as Record<string, unknown>;
    return {
      ...(record['runMemoryMB'] !== undefined ? { runMemoryMB: checkMegabytes(record['runMemoryMB'], `${path}: "runMemoryMB"`, 1) } : {}),
      ...(record['autosaveDiskMB'] !== undefined ? { autosaveDiskMB: checkMegabytes(record['autosaveDiskMB'], `${path}: "autosaveDiskMB"`, 1) } : {}),
    };
  } catch (error) {
    onNotice(`Storage settings were not read: ${(error as Error).message}`);
    return {};
  }
}

export function resolveStorageSettings(userDataDir: string, explicit: Partial<StorageSettings> = {}, onNotice: (message: string) => void = () => {}): StorageSettings {
  const file = fromFile(userDataDir, onNotice);
  return {
    runMemoryMB: explicit.runMemoryMB ?? fromEnvironment('PAINTER_RUN_MEMORY_MB', 1) ?? file.runMemoryMB ?? DEFAULT_RUN_MEMORY_MB,
    autosaveDiskMB: explicit.autosaveDiskMB ?? fromEnvironment('PAINTER_AUTOSAVE_DISK_MB', 1) ?? file.autosaveDiskMB ?? DEFAULT_AUTOSAVE_DISK_MB,
  };
}

export function toBudgets(settings: StorageSettings): StorageBudgets {
  return { memoryBytes: settings.runMemoryMB * MiB, diskBytes: settings.autosaveDiskMB * MiB };
}

/** Writes the storage values into the settings file, keeping its other keys. */
export function saveStorageSettings(userDataDir: string, settings: StorageSettings): void {
  const path = join(userDataDir, SETTINGS_FILE);
  let current: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      const value = readJsonFile(path, 'settings');
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) current = value as Record<string, unknown>;
    } catch {
      // a damaged file is replaced
    }
  }
  checkMegabytes(settings.runMemoryMB, '"runMemoryMB"', 1);
  checkMegabytes(settings.autosaveDiskMB, '"autosaveDiskMB"', 1);
  mkdirSync(userDataDir, { recursive: true });
  writeFileAtomic(path, Buffer.from(`${JSON.stringify({ ...current, ...settings }, null, 2)}\n`));
}
