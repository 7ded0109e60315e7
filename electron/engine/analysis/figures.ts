/**
 * Pictures of analysis results as image grids (8-bit rasters): the strips,
 * step × strength grids and direction × amplitude variation grids that the
 * CLI writes as PNG and the report inlines. Charts are SVG (report-svg.ts).
 */
import type { ImageSpec } from '../manifest';
import { imageToRaster, rasterGrid, type Raster } from '../png';
import type { AgreementResult } from './agreement';
import type { EmergenceResult } from './emergence';
import type { LocalityResult } from './locality';
import type { ManifoldResult } from './manifold';
import type { PerturbationResult } from './perturbation';
import type { RetrievalResult } from './retrieval';
import type { TeleportResult } from './teleport';
import type { TrajectoryResult } from './trajectory';

export type AnalysisResult = TrajectoryResult | AgreementResult | EmergenceResult | PerturbationResult | TeleportResult | RetrievalResult | ManifoldResult | LocalityResult;

function dimOf(image: ImageSpec): number {
  return image.channels * image.height * image.width;
}

function cells(images: Float32Array, image: ImageSpec): Raster[] {
  const dim = dimOf(image);
  return Array.from({ length: images.length / dim }, (_, n) => imageToRaster(images, n * dim, image));
}

/** A signed direction drawn with 0 at mid-grey and ±max|v| at the range ends. */
export function directionImages(directions: Float32Array, count: number, image: ImageSpec): Raster[] {
  const dim = dimOf(image);
  const [low, high] = image.range;
  return Array.from({ length: count }, (_, d) => {
    const v = directions.subarray(d * dim, (d + 1) * dim);
    let max = 0;
    for (const x of v) max = Math.max(max, Math.abs(x));
    const scaled = Float32Array.from(v, (x) => (low + high) / 2 + ((high - low) / 2) * (max === 0 ? 0 : x / max));
    return imageToRaster(scaled, 0, image);
  });
}

function scaleFor(image: ImageSpec): number {
  return Math.max(1, Math.floor(64 / image.width));
}

/** An RGB copy of a raster with the region (H·W weights, the image's own size) tinted orange. */
export function tintRegion(raster: Raster, mask: ArrayLike<number>, strength = 0.45): Raster {
  const { width, height } = raster;
  const pixels = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const w = Math.min(1, Math.max(0, mask[p] ?? 0)) * strength;
    for (let c = 0; c < 3; c++) {
      const value = raster.pixels[p * raster.channels + (raster.channels === 3 ? c : 0)]!;
      const tint = [255, 140, 40][c]!;
      pixels[p * 3 + c] = Math.round((1 - w) * value + w * tint);
    }
  }
  return { width, height, channels: 3, pixels };
}

function rgb(raster: Raster): Raster {
  return raster.channels === 3 ? raster : tintRegion(raster, [], 0);
}

/** Stacks grids vertically (same width assumed; narrower ones are padded). */
function stack(rasters: readonly Raster[], gap = 6, background = 40): Raster {
  const width = Math.max(...rasters.map((r) => r.width));
  const height = rasters.reduce((h, r) => h + r.height, 0) + gap * (rasters.length - 1);
  const channels = rasters[0]!.channels;
  const pixels = new Uint8Array(width * height * channels).fill(background);
  let y0 = 0;
  for (const raster of rasters) {
    for (let y = 0; y < raster.height; y++) pixels.set(raster.pixels.subarray(y * raster.width * channels, (y + 1) * raster.width * channels), ((y0 + y) * width) * channels);
    y0 += raster.height + gap;
  }
  return { width, height, channels, pixels };
}

/** The picture of a result, or null when it has none. */
export function analysisPicture(result: AnalysisResult, image: ImageSpec): Raster | null {
  const scale = scaleFor(image);
  switch (result.analysis) {
    case 'trajectory': {
      const columns = result.example.states.length;
      return rasterGrid([...cells(result.example.x0Hat, image), ...cells(result.example.xt, image)], columns, scale);
    }
    case 'agreement': {
      // One probe image at every σ (columns): the noisy input, the network's x̂0, then each model's.
      const { sigmas, rows } = result.probeExample;
      return rasterGrid(rows.flatMap((row) => cells(row.images, image)), sigmas.length, scale);
    }
    case 'emergence':
      return rasterGrid(cells(result.example.x0Hat, image), result.example.states.length, scale);
    case 'perturbation': {
      if (result.example === null) return null;
      const strengths = result.settings.strengths.length;
      const finals = cells(result.example.finals, image);
      const base = imageToRaster(result.example.base, 0, image);
      const rows = result.settings.injectSteps.flatMap((_, r) => [base, ...finals.slice(r * strengths, (r + 1) * strengths)]);
      return rasterGrid(rows, strengths + 1, scale);
    }
    case 'teleport':
      return rasterGrid(cells(result.example, image), result.rows.length, scale);
    case 'retrieval':
      return rasterGrid(cells(result.example, image), 4, scale);
    case 'manifold': {
      const amplitudes = result.settings.amplitudes.length;
      const shown = result.grids.directions;
      if (shown === 0) return rasterGrid(directionImages(result.jacobian.first.directions, result.jacobian.first.eigenvalues.length, image), 8, scale);
      // Each row: the direction itself, then the final images along it at each amplitude.
      const grid = (directions: Float32Array, finals: Float32Array): Raster => {
        const rows = finals.length / (dimOf(image) * amplitudes);
        const images = cells(finals, image);
        const marks = directionImages(directions, rows, image);
        return rasterGrid(marks.flatMap((mark, d) => [mark, ...images.slice(d * amplitudes, (d + 1) * amplitudes)]), amplitudes + 1, scale);
      };
      const parts: Raster[] = [];
      if (result.grids.jacobian.length > 0) parts.push(grid(result.jacobian.first.directions, result.grids.jacobian));
      parts.push(grid(result.x0Trajectory.directions, result.grids.x0Trajectory));
      if (result.generator !== null && result.grids.generator !== null) parts.push(grid(result.generator.imageDirections, result.grids.generator));
      if (result.local !== null && result.grids.local !== null && result.grids.local.length > 0) {
        // The local grid in colour: each direction image with its region tinted.
        const rows = result.grids.local.length / (dimOf(image) * amplitudes);
        const images = cells(result.grids.local, image).map(rgb);
        const marks = directionImages(result.local.directions, rows, image).map((mark) => tintRegion(mark, result.local!.mask));
        parts.push(rasterGrid(marks.flatMap((mark, d) => [mark, ...images.slice(d * amplitudes, (d + 1) * amplitudes)]), amplitudes + 1, scale));
        return stack(parts.map(rgb));
      }
      return stack(parts);
    }
    case 'locality': {
      // The final image with the region tinted; −a, +a along the top local direction; −a, +a along the top global one.
      const finals = cells(result.example.images, image).map(rgb);
      return rasterGrid([tintRegion(finals[0]!, result.example.mask), ...finals.slice(1)], 5, scale);
    }
  }
}
