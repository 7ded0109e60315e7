import type { ImageSpec } from '../manifest';
import type { NoiseSchedule } from '../schedules';

/**
 * Class conditioning of one batch: a label per sample (null = unconditional)
 * and the classifier-free guidance scale g, D = D_u + g·(D_c − D_u).
 */
export interface DenoiseCondition {
  labels: ReadonlyArray<number | null>;
  guidance: number;
  /**
   * Text-conditional pipelines (diffusers/pipeline.ts): the prompt's and the
   * negative prompt's text-encoder states, shared by the whole batch; guidance
   * then steers from `uncond` towards `cond` the same way.
   */
  text?: TextCondition;
}

/** A prompt pair encoded once per run: `tokens`×`width` float32 states each (CLIP: 77×768). */
export interface TextCondition {
  cond: Float32Array;
  uncond: Float32Array;
  tokens: number;
  width: number;
}

/**
 * A denoiser in the σ form of DESIGN.md §2: x̂0 = D(x, σ) for a batch of B
 * images, x of length B·D (NCHW row-major), one σ per image.
 */
export interface Denoiser {
  readonly image: ImageSpec;
  /** D = C·H·W. */
  readonly dim: number;
  /** The schedule whose σ grid the sampler walks, and the model's own x_t convention. */
  readonly schedule: NoiseSchedule;
  /** "cpu", "cuda", … or "analytic". */
  readonly provider: string;
  readonly classes: readonly string[] | null;
  /** Whether a null label (unconditional model) is accepted. */
  readonly unconditional: boolean;
  denoise(x: Float32Array, sigmas: ArrayLike<number>, condition?: DenoiseCondition): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export function imageDim(image: ImageSpec): number {
  return image.channels * image.height * image.width;
}
