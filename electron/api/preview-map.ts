/**
 * A latent model's linear preview map (engine/diffusers/preview.ts fits it
 * once per model from VAE decodes): RGB = W·z + b per latent cell. Plain
 * data and arithmetic, so the engine and the studio apply the very same map
 * — the engine for a run's previews, the studio for other latents of the run
 * (the Gaussian ghost, latent directions).
 */
import type { ImageSpec } from '../engine/manifest';

export interface LinearPreviewMap {
  /** 3 rows of `channels` weights. */
  weights: number[][];
  bias: number[];
}

/**
 * RGB previews [count·3·h·w] of latents [count·C·h·w] laid out as `latent`;
 * `withBias` false maps a direction (a difference of latents).
 */
export function applyPreviewMap(map: LinearPreviewMap, latents: Float32Array, latent: ImageSpec, withBias = true): Float32Array {
  const { channels, height, width } = latent;
  const cells = height * width;
  const count = Math.floor(latents.length / (channels * cells));
  const out = new Float32Array(count * 3 * cells);
  for (let s = 0; s < count; s++) {
    for (let k = 0; k < 3; k++) {
      const row = map.weights[k]!;
      const target = (s * 3 + k) * cells;
      out.fill(withBias ? map.bias[k]! : 0, target, target + cells);
      for (let c = 0; c < channels; c++) {
        const weight = row[c]!;
        const source = (s * channels + c) * cells;
        for (let i = 0; i < cells; i++) out[target + i]! += weight * latents[source + i]!;
      }
    }
  }
  return out;
}
