/** Random identifiers and seeds from the platform CSPRNG (no secure-context requirement). */

/** A job id the client makes up so that it can cancel the job before the call returns. */
export function newJobId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `job-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A seed in [0, 2³¹ − 1]: representable in every integer type a sampler might use. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;
}
