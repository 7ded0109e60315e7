import type { DenoiseCondition } from './types';

/**
 * Classifier-free guidance in x̂0 space, D = D_u + g·(D_c − D_u)
 * (equivalent to guiding ε̂, since both are affine in the same x_t).
 * @see Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", eq. 6
 */
export function combineGuidance(unconditional: Float32Array, conditional: Float32Array, guidance: number): Float32Array {
  const out = new Float32Array(conditional.length);
  for (let i = 0; i < out.length; i++) out[i] = unconditional[i]! + guidance * (conditional[i]! - unconditional[i]!);
  return out;
}

/** True when the batch needs both a conditional and an unconditional pass. */
export function needsGuidancePair(condition: DenoiseCondition | undefined): boolean {
  return condition !== undefined && condition.guidance !== 1 && condition.labels.some((label) => label !== null);
}
