/**
 * When is a direction found? Directions computed from a growing search space
 * (Krylov iteration with Rayleigh–Ritz) are checked at checkpoints: each
 * direction's estimate now is compared with its estimate from the checkpoint
 * at about half the space's size, and the angle between the two is its
 * convergence. Half the size rather than the previous checkpoint, because
 * the symmetrised Jacobian of a trained network converges slowly (its Krylov
 * space is J's, not the symmetric part's), so two close iterates differ by
 * much less than either differs from the answer; measured on the bundled
 * network, the half-size angle tracks the distance to a full-space reference.
 *
 * Directions whose values are tied (closer than a share of the top value)
 * are only defined as a group — any combination of them is equally a top
 * direction — so a direction's angle is taken to the span of its group's
 * earlier estimates, and the tie is reported.
 */

/** Values closer than this share of the largest |value| count as tied. */
export const TIE_SHARE = 0.01;

/** Groups of indices 0 … count−1 by tied values; indices up to values.length − 1 may join a group. */
export function tiedGroups(values: readonly number[], count: number, tie = TIE_SHARE): number[][] {
  const scale = Math.max(...values.map((v) => Math.abs(v)), 0);
  return Array.from({ length: Math.min(count, values.length) }, (_, j) => {
    const group: number[] = [];
    for (let i = 0; i < values.length; i++) if (Math.abs(values[i]! - values[j]!) <= tie * scale) group.push(i);
    return group;
  });
}

/**
 * Angle (degrees) between each current direction j and the span of the
 * earlier estimates of its group, rows of length dim. NaN when the earlier
 * estimate had none of the group.
 */
export function groupAngles(current: Float64Array, count: number, previous: Float64Array, previousCount: number, groups: readonly number[][], dim: number): number[] {
  return Array.from({ length: count }, (_, j) => {
    let cosine = 0;
    let members = 0;
    for (const i of groups[j] ?? [j]) {
      if (i >= previousCount) continue;
      members++;
      let dot = 0;
      for (let p = 0; p < dim; p++) dot += current[j * dim + p]! * previous[i * dim + p]!;
      cosine += dot * dot;
    }
    return members === 0 ? Number.NaN : (Math.acos(Math.min(1, Math.sqrt(cosine))) * 180) / Math.PI;
  });
}

export interface Checkpoint {
  /** Search-space size when taken. */
  size: number;
  /** Direction estimates, rows [count][dim]. */
  vectors: Float64Array;
  count: number;
}

/** Direction estimates at past checkpoints; the reference for a space of size m is the latest one at size ≤ m/2. */
export class IterateHistory {
  private readonly checkpoints: Checkpoint[] = [];

  push(checkpoint: Checkpoint): void {
    this.checkpoints.push(checkpoint);
  }

  reference(size: number): Checkpoint | null {
    let found: Checkpoint | null = null;
    for (const c of this.checkpoints) if (c.size <= size / 2) found = c;
    return found;
  }
}

/** Leading directions that have converged: the largest n with angles[0 … n−1] all below the tolerance. */
export function convergedPrefix(angles: readonly number[], toleranceDeg: number): number {
  let n = 0;
  while (n < angles.length && angles[n]! < toleranceDeg) n++;
  return n;
}
