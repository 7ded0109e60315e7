import { describe, expect, it } from 'vitest';
import type { DecodedState } from '../../electron/api/contract';
import { DecodedStates, type DecodeKey } from '../../renderer/lib/state/decoded.svelte';

/**
 * The engine's decodeState answers when the test says so: the cache's rules
 * are about the order replies come back in (latest wins, stale replies
 * dropped), so the test holds each reply until it is released.
 */
function heldDecoder(valuesPerImage = 3 * 4 * 4): {
  decode: (key: DecodeKey) => Promise<DecodedState>;
  asked: DecodeKey[];
  release: (index: number, fail?: string) => Promise<void>;
} {
  const asked: DecodeKey[] = [];
  const settle: Array<(fail?: string) => void> = [];
  return {
    asked,
    decode(key) {
      asked.push(key);
      return new Promise((resolve, reject) => {
        settle.push((fail) => {
          if (fail !== undefined) reject(new Error(fail));
          else resolve({ ...key, image: { channels: 3, height: 4, width: 4, range: [-1, 1] }, values: new Float32Array(valuesPerImage).fill(key.step) });
        });
      });
    },
    async release(index, fail) {
      settle[index]!(fail);
      // Let the reply and the follow-up request run.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

const at = (step: number, which: 'xt' | 'x0Hat' = 'x0Hat'): DecodeKey => ({ runId: 'r1', step, which });

describe('decoded states of latent runs', () => {
  it('asks for one decode at a time, always the state on screen now: a fast scrub skips the steps it passed', async () => {
    const engine = heldDecoder();
    const cache = new DecodedStates(engine.decode);
    cache.show('x0', at(1));
    cache.show('x0', at(2));
    cache.show('x0', at(3));
    expect(engine.asked).toEqual([at(1)]);
    await engine.release(0);
    // Step 1's reply came for a state no longer on screen: dropped. Next: the step on screen.
    expect(cache.get(at(1))).toBeNull();
    expect(engine.asked).toEqual([at(1), at(3)]);
    await engine.release(1);
    expect(cache.get(at(3))?.values[0]).toBe(3);
    expect(cache.usage.states).toBe(1);
  });

  it('keeps what was shown within the byte budget, least recently shown out first, never what is on screen', async () => {
    const bytesPerImage = 3 * 4 * 4 * 4;
    const engine = heldDecoder();
    const cache = new DecodedStates(engine.decode, 2 * bytesPerImage);
    for (let step = 0; step < 3; step++) {
      cache.show('x0', at(step));
      await engine.release(step);
      expect(cache.get(at(step))).not.toBeNull();
      if (step === 1) cache.get(at(0)); // step 0 used again: step 1 is now the oldest
    }
    expect(cache.usage).toEqual({ bytes: 2 * bytesPerImage, states: 2 });
    expect(cache.get(at(1))).toBeNull();
    expect(cache.get(at(0))).not.toBeNull();
    expect(cache.get(at(2))).not.toBeNull();
    // Scrubbing back to a kept state asks the engine nothing.
    cache.show('x0', at(0));
    expect(engine.asked).toHaveLength(3);
  });

  it('decodes every pane on screen (x̂0 and xₜ), remembers failures instead of retrying, and forgets removed runs', async () => {
    const engine = heldDecoder();
    const cache = new DecodedStates(engine.decode);
    cache.show('x0', at(5));
    cache.show('xt', at(5, 'xt'));
    await engine.release(0);
    expect(engine.asked).toEqual([at(5), at(5, 'xt')]);
    await engine.release(1, 'The VAE decoder failed');
    expect(cache.failure(at(5, 'xt'))).toBe('The VAE decoder failed');
    cache.show('xt', at(5, 'xt'));
    expect(engine.asked).toHaveLength(2);
    cache.forget(['r1']);
    expect(cache.get(at(5))).toBeNull();
    expect(cache.failure(at(5, 'xt'))).toBeNull();
    expect(cache.usage).toEqual({ bytes: 0, states: 0 });
  });

  it('refuses a budget or concurrency that cannot work', () => {
    const engine = heldDecoder();
    expect(() => new DecodedStates(engine.decode, 0)).toThrow(/budget must be positive/);
    expect(() => new DecodedStates(engine.decode, 1024, 0)).toThrow(/At least one decode/);
  });
});
