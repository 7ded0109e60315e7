/**
 * Full VAE decodes of the states of latent runs, as the studio shows them
 * (issue 10): the images on screen say which state they show; this cache
 * asks the engine (`decodeState`, decoded off the UI thread) for the ones it
 * lacks, one request at a time, always for what is on screen *now*, so a fast
 * scrub never queues a decode per step it passed. A reply for a state that
 * no viewer shows any more is dropped; what is kept is bounded by a byte
 * budget, least recently shown first out.
 */
import type { DecodedState } from '../../../electron/api/contract';
import { api } from '../api';

export type DecodedWhich = 'xt' | 'x0Hat';

export interface DecodeKey {
  runId: string;
  step: number;
  which: DecodedWhich;
}

export type Decoder = (key: DecodeKey) => Promise<DecodedState>;

/** 192 MiB: about 64 Stable Diffusion images at 512×512 (3 MiB each as float32). */
export const DECODED_BUDGET_BYTES = 192 * 1024 * 1024;

function keyText(key: DecodeKey): string {
  return `${key.runId}\u0000${key.step}\u0000${key.which}`;
}

export class DecodedStates {
  /** Bumped when a decode lands or fails: views that read `get` re-draw. */
  version = $state(0);
  // Plain collections on purpose: `get` reorders entries while views derive from it (a reactive map would be
  // written during a derivation), and `version` already tells the views when something changed.
  /* eslint-disable svelte/prefer-svelte-reactivity */
  private readonly entries = new Map<string, DecodedState>();
  private bytes = 0;
  /** What each viewer (an image on screen) shows now. */
  private readonly wanted = new Map<string, DecodeKey>();
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, string>();
  /* eslint-enable svelte/prefer-svelte-reactivity */

  constructor(
    private readonly decode: Decoder,
    readonly budgetBytes = DECODED_BUDGET_BYTES,
    /** Decodes asked for at once: the engine runs them one after another anyway. */
    private readonly concurrency = 1,
  ) {
    if (!(budgetBytes > 0)) throw new RangeError(`The decoded-image budget must be positive; got ${budgetBytes} bytes.`);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`At least one decode must be allowed at a time; got ${concurrency}.`);
  }

  /** The decode of a state when it is here (and marks it recently used); reactive through `version`. */
  get(key: DecodeKey): DecodedState | null {
    void this.version;
    const text = keyText(key);
    const entry = this.entries.get(text);
    if (entry === undefined) return null;
    // Map order is the LRU order: re-insert on use.
    this.entries.delete(text);
    this.entries.set(text, entry);
    return entry;
  }

  /** Why a state could not be decoded, when it could not (the preview stays on screen). */
  failure(key: DecodeKey): string | null {
    void this.version;
    return this.failures.get(keyText(key)) ?? null;
  }

  /** `viewer` shows `key` now (null: shows nothing any more); its decode is asked for unless it is here. */
  show(viewer: string, key: DecodeKey | null): void {
    if (key === null) this.wanted.delete(viewer);
    else this.wanted.set(viewer, key);
    this.pump();
  }

  /** Whether any viewer shows this state now. */
  private onScreen(text: string): boolean {
    for (const key of this.wanted.values()) if (keyText(key) === text) return true;
    return false;
  }

  /** Forgets the decodes of runs that were removed. */
  forget(runIds: readonly string[]): void {
    for (const [text, entry] of this.entries) {
      if (runIds.includes(entry.runId)) {
        this.entries.delete(text);
        this.bytes -= entry.values.byteLength;
      }
    }
    for (const text of this.failures.keys()) if (runIds.some((runId) => text.startsWith(`${runId}\u0000`))) this.failures.delete(text);
  }

  /** Bytes held and states kept, for the benchmark and tests. */
  get usage(): { bytes: number; states: number } {
    return { bytes: this.bytes, states: this.entries.size };
  }

  private pump(): void {
    while (this.inFlight.size < this.concurrency) {
      const next = [...this.wanted.values()].find((key) => {
        const text = keyText(key);
        return !this.entries.has(text) && !this.inFlight.has(text) && !this.failures.has(text);
      });
      if (next === undefined) return;
      this.start(next);
    }
  }

  private start(key: DecodeKey): void {
    const text = keyText(key);
    this.inFlight.add(text);
    this.decode(key)
      .then(
        (state) => {
          if (this.onScreen(text)) this.store(text, state);
        },
        (error: unknown) => {
          if (this.onScreen(text)) this.failures.set(text, error instanceof Error ? error.message : String(error));
        },
      )
      .finally(() => {
        this.inFlight.delete(text);
        this.version++;
        this.pump();
      });
  }

  private store(text: string, state: DecodedState): void {
    this.entries.set(text, state);
    this.bytes += state.values.byteLength;
    // Evict least recently shown first, never what is on screen now.
    for (const [old, entry] of this.entries) {
      if (this.bytes <= this.budgetBytes) break;
      if (this.onScreen(old)) continue;
      this.entries.delete(old);
      this.bytes -= entry.values.byteLength;
    }
  }
}

export const decodedStates = new DecodedStates((key) => api.call('decodeState', key));
