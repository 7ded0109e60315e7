/**
 * Seeded, platform-independent random numbers. Each (seed, stream) pair gives
 * its own sequence, so the initial noise of seed s and the ancestral noise of
 * step i are the same whatever the batch size or the step a branch starts at.
 *
 * @see Steele, Lea & Flood, "Fast splittable pseudorandom number generators" (SplitMix64)
 * @see Blackman & Vigna, xoshiro128** 1.1
 */

function splitMix32(state: { value: bigint }): number {
  state.value = (state.value + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  let z = state.value;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  z = z ^ (z >> 31n);
  return Number(z & 0xffffffffn);
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number, stream = 0) {
    const state = { value: (BigInt.asUintN(32, BigInt(Math.trunc(seed))) << 32n) ^ BigInt.asUintN(32, BigInt(stream)) };
    this.s0 = splitMix32(state);
    this.s1 = splitMix32(state);
    this.s2 = splitMix32(state);
    this.s3 = splitMix32(state);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1), 53 bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low + 0.5) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  fillNormal(out: Float32Array, offset = 0, length = out.length - offset): Float32Array {
    for (let i = 0; i < length; i++) out[offset + i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Stream ids: the initial noise, and the fresh noise of ancestral step i. */
export const INITIAL_NOISE_STREAM = 0;
export function stepNoiseStream(step: number): number {
  return 1 + step;
}

/** Standard normal noise of `dim` values for one (seed, stream). */
export function seededNormal(seed: number, stream: number, dim: number): Float32Array {
  return new Random(seed, stream).fillNormal(new Float32Array(dim));
}
