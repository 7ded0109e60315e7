/**
 * The execution provider choice in the studio's settings file
 * (PAINTER_HOME/settings.json, which also holds the storage budgets:
 * storage-settings.ts; each writer keeps the other's keys). An unreadable or
 * foreign file reads as "no setting" (the default applies), never as an
 * error that stops the engine.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDER_CHOICES, type ProviderChoice } from '../api/contract';
import { readJsonFile } from './files';
import { writeFileAtomic } from './safetensors';

export const SETTINGS_FILE = 'settings.json';

function readSettings(userDataDir: string): Record<string, unknown> {
  const path = join(userDataDir, SETTINGS_FILE);
  if (!existsSync(path)) return {};
  try {
    const value = readJsonFile(path, 'settings');
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function readProviderSetting(userDataDir: string): ProviderChoice | null {
  const value = readSettings(userDataDir)['provider'];
  return typeof value === 'string' && (PROVIDER_CHOICES as readonly string[]).includes(value) ? (value as ProviderChoice) : null;
}

/** Saves the choice, keeping any other settings the file holds. */
export function writeProviderSetting(userDataDir: string, provider: ProviderChoice): void {
  mkdirSync(userDataDir, { recursive: true });
  const settings = { ...readSettings(userDataDir), provider };
  writeFileAtomic(join(userDataDir, SETTINGS_FILE), new TextEncoder().encode(`${JSON.stringify(settings, null, 2)}\n`));
}
