/** How a run's prompt reads in lists and headers: quoted, cut to a length (the whole text goes in a tooltip). */
import type { GenerateRequest } from '../../electron/api/contract';

/** “a watercolor fox…” — null for a run without a prompt. */
export function quotedPrompt(settings: Pick<GenerateRequest, 'prompt'>, max = 60): string | null {
  if (settings.prompt === undefined) return null;
  const text = settings.prompt.trim().replace(/\s+/g, ' ');
  if (text === '') return '(empty prompt)';
  return `“${text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text}”`;
}

/** The whole prompt and negative prompt, for a tooltip; null for a run without a prompt. */
export function promptTooltip(settings: Pick<GenerateRequest, 'prompt' | 'negativePrompt'>): string | null {
  if (settings.prompt === undefined) return null;
  const negative = settings.negativePrompt !== undefined && settings.negativePrompt !== '' ? `\nNegative prompt: ${settings.negativePrompt}` : '';
  return `Prompt: ${settings.prompt === '' ? '(empty)' : settings.prompt}${negative}`;
}
