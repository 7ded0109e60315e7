/** A small, strict flag parser: unknown flags and missing values are errors that name them. */
import { PainterError } from '../engine/errors';
import type { ProviderChoice } from '../api/contract';
import { parseProviderChoice } from '../engine/providers';

export interface FlagSpec {
  /** Flags that take a value. */
  values: readonly string[];
  /** Flags that are switches. */
  switches: readonly string[];
  /** Flags that take a value and may be given more than once. */
  lists?: readonly string[];
}

export interface ParsedFlags {
  values: Map<string, string>;
  switches: Set<string>;
  positional: string[];
  /** Every value of each repeatable flag, in order. */
  lists: Map<string, string[]>;
}

export function parseFlags(args: readonly string[], spec: FlagSpec, command: string): ParsedFlags {
  const parsed: ParsedFlags = { values: new Map(), switches: new Set(), positional: [], lists: new Map() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      parsed.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (spec.switches.includes(name)) {
      if (inline !== undefined) throw new PainterError('BAD_ARGUMENT', `--${name} takes no value.`);
      parsed.switches.add(name);
    } else if (spec.values.includes(name) || spec.lists?.includes(name) === true) {
      const value = inline ?? args[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) {
        throw new PainterError('BAD_ARGUMENT', `--${name} needs a value.`);
      }
      if (spec.lists?.includes(name) === true) parsed.lists.set(name, [...(parsed.lists.get(name) ?? []), value]);
      else parsed.values.set(name, value);
    } else {
      const known = [...spec.values, ...(spec.lists ?? []), ...spec.switches].map((f) => `--${f}`).join(', ');
      throw new PainterError('BAD_ARGUMENT', `Unknown flag --${name} for "painter ${command}"; known flags: ${known}.`);
    }
  }
  return parsed;
}

export function integerFlag(flags: ParsedFlags, name: string, fallback: number, min: number, max: number): number {
  const text = flags.values.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < min || value > max) {
    throw new PainterError('BAD_ARGUMENT', `--${name} must be an integer from ${min} to ${max}; got "${text}".`);
  }
  return value;
}

export function numberFlag(flags: ParsedFlags, name: string, fallback: number, min: number, max: number): number {
  const text = flags.values.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new PainterError('BAD_ARGUMENT', `--${name} must be a number from ${min} to ${max}; got "${text}".`);
  }
  return value;
}

export function requiredFlag(flags: ParsedFlags, name: string, command: string): string {
  const value = flags.values.get(name);
  if (value === undefined) throw new PainterError('BAD_ARGUMENT', `"painter ${command}" needs --${name}.`);
  return value;
}

/**
 * Takes `--provider X` (or `--provider=X`) out of a verb's arguments, so every
 * verb that runs a model accepts it; falls back to PAINTER_PROVIDER. Returns
 * undefined when neither is given (the saved setting, else auto, applies).
 */
export function takeProviderFlag(args: readonly string[]): { provider: ProviderChoice | undefined; rest: string[] } {
  const rest: string[] = [];
  let text: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--provider') {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new PainterError('BAD_ARGUMENT', '--provider needs a value: auto, webgpu, cuda, dml, coreml or cpu.');
      text = value;
      i++;
    } else if (arg.startsWith('--provider=')) {
      text = arg.slice('--provider='.length);
    } else {
      rest.push(arg);
    }
  }
  if (text !== undefined) return { provider: parseProviderChoice(text, '--provider'), rest };
  const fromEnvironment = process.env['PAINTER_PROVIDER'];
  if (fromEnvironment !== undefined && fromEnvironment.trim() !== '') return { provider: parseProviderChoice(fromEnvironment, 'PAINTER_PROVIDER'), rest };
  return { provider: undefined, rest };
}
