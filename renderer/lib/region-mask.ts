/**
 * The region of a local variation (issue 14) as the user paints it on x̂0:
 * a mask of H·W weights in [0, 1], row-major, in pixels of the full image.
 * Strokes are painted hard (discs of a radius), then feathered by a Gaussian
 * blur so the region's edge is soft; inverting swaps painted and unpainted.
 */

/** Paints (value 1) or erases (value 0) discs of `radius` pixels around each point; returns a new mask. */
export function paintDiscs(mask: Float32Array, width: number, height: number, points: ReadonlyArray<{ x: number; y: number }>, radius: number, value: 0 | 1): Float32Array {
  const out = Float32Array.from(mask);
  const r = Math.max(0.5, radius);
  for (const point of points) {
    const x0 = Math.max(0, Math.floor(point.x - r));
    const x1 = Math.min(width - 1, Math.ceil(point.x + r));
    const y0 = Math.max(0, Math.floor(point.y - r));
    const y1 = Math.min(height - 1, Math.ceil(point.y + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // Pixel centres at (x + ½, y + ½) in the pointer's coordinates.
        if ((x + 0.5 - point.x) ** 2 + (y + 0.5 - point.y) ** 2 <= r * r) out[y * width + x] = value;
      }
    }
  }
  return out;
}

/**
 * Separable Gaussian blur of σ = `feather` pixels (kernel ±3σ, edges clamped),
 * so the region fades out over about 2σ; 0 leaves the mask as it is.
 */
export function featherMask(mask: Float32Array, width: number, height: number, feather: number): Float32Array {
  if (!(feather > 0) || mask.length === 0) return Float32Array.from(mask);
  const radius = Math.max(1, Math.ceil(3 * feather));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * feather * feather)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const weights = kernel.map((k) => k / total);
  const across = new Float32Array(mask.length);
  const out = new Float32Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += weights[k + radius]! * mask[y * width + Math.min(width - 1, Math.max(0, x + k))]!;
      across[y * width + x] = sum;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += weights[k + radius]! * across[Math.min(height - 1, Math.max(0, y + k)) * width + x]!;
      out[y * width + x] = Math.min(1, Math.max(0, sum));
    }
  }
  return out;
}

/** 1 − mask. */
export function invertMask(mask: Float32Array): Float32Array {
  return Float32Array.from(mask, (v) => 1 - v);
}

/** The share of the image the region covers (sum of weights / pixels). */
export function coverage(mask: Float32Array): number {
  if (mask.length === 0) return 0;
  let sum = 0;
  for (const v of mask) sum += v;
  return sum / mask.length;
}
