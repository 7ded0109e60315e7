/**
 * The `painter` command as the CLI tests run it: the built bin/painter.cjs in
 * a child process, with its own PAINTER_HOME, and the CLI bundle built once
 * per test file before any call.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { beforeAll, expect } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** PAINTER_HOME of every call. */
  home: string;
  /** Appended to every call's arguments (e.g. ['--provider', 'cpu']). */
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

/** Builds the CLI bundle before the file's tests (call at the top level of a test file). */
export function buildCliBeforeAll(): void {
  beforeAll(() => {
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, encoding: 'utf-8' });
    expect(build.status, build.stderr).toBe(0);
  });
}

/** Runs `painter …args` with `env` laid over the process's environment (a value of undefined removes the variable). */
export function runPainter(options: CliOptions, args: readonly string[], env: Record<string, string | undefined> = {}): CliResult {
  const merged: NodeJS.ProcessEnv = { ...process.env, PAINTER_HOME: options.home };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'painter.cjs'), ...args, ...(options.extraArgs ?? [])], {
    env: merged,
    encoding: 'utf-8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A `painter(...args)` function bound to one PAINTER_HOME, with the CLI built before the file's tests. */
export function painterCli(options: CliOptions): (...args: string[]) => CliResult {
  buildCliBeforeAll();
  return (...args: string[]) => runPainter(options, args);
}
