/**
 * Exports (DESIGN.md §1.6): a filmstrip PNG of a run's steps, the timeline as
 * an animated GIF, and the raw trajectories of several runs as one
 * safetensors file for Python users. x_t is drawn in the unit-variance
 * convention, as the studio shows it; only the crop region of padded images.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExportLayer, GaussianGhost } from '../api/contract';
import { unitVarianceScale } from './branch';
import { PainterError } from './errors';
import { encodeGif } from './gif';
import { encodePng, imageToRaster, rasterGrid, type Raster } from './png';
import type { RunRecord } from './runs';
import { serializeSafetensors, writeFileAtomic, type SafeTensor } from './safetensors';

export const TRAJECTORIES_FORMAT = 'painter.trajectories/1';

/** One recorded image of state `index`, cropped, as an 8-bit raster. */
export function stateRaster(run: RunRecord, layer: 'x0Hat' | 'xt', index: number): Raster {
  const { image, summary } = run;
  const dim = image.channels * image.height * image.width;
  let values: ArrayLike<number> = run[layer].subarray(index * dim, (index + 1) * dim);
  if (layer === 'xt') {
    const scale = unitVarianceScale(summary.convention, summary.sigmas[index]!);
    values = Float32Array.from(values as Float32Array, (v) => v * scale);
  }
  const full = imageToRaster(values, 0, image);
  const crop = image.crop;
  if (crop === undefined) return full;
  const pixels = new Uint8Array(crop.width * crop.height * full.channels);
  for (let y = 0; y < crop.height; y++) {
    const from = ((crop.top + y) * full.width + crop.left) * full.channels;
    pixels.set(full.pixels.subarray(from, from + crop.width * full.channels), y * crop.width * full.channels);
  }
  return { width: crop.width, height: crop.height, channels: full.channels, pixels };
}

/** `frames` state indices spread evenly over the run, first and last included. */
export function spreadIndices(stateCount: number, frames: number): number[] {
  if (frames >= stateCount) return Array.from({ length: stateCount }, (_, i) => i);
  if (frames <= 1) return [stateCount - 1];
  const picked = new Set<number>();
  for (let i = 0; i < frames; i++) picked.add(Math.round((i * (stateCount - 1)) / (frames - 1)));
  return [...picked].sort((a, b) => a - b);
}

/** Largest image an export builds in memory (pixels over all frames). */
const MAX_EXPORT_PIXELS = 1 << 26;

function checkExportSize(run: RunRecord, cells: number, scale: number): void {
  const region = run.image.crop ?? run.image;
  const pixels = cells * region.width * region.height * scale * scale;
  if (pixels > MAX_EXPORT_PIXELS) {
    throw new PainterError('BAD_ARGUMENT', `That export would hold ${(pixels / 1e6).toFixed(0)} million pixels; use fewer frames or a smaller scale (at most ${MAX_EXPORT_PIXELS / 1e6} million).`, {
      pixels,
    });
  }
}

function layers(layer: ExportLayer): Array<'x0Hat' | 'xt'> {
  return layer === 'both' ? ['x0Hat', 'xt'] : [layer];
}

/** A filmstrip: one column per picked state; one row per layer (x̂0 above x_t). */
export function filmstripPng(run: RunRecord, layer: ExportLayer, frames: number, scale: number): Uint8Array {
  const indices = spreadIndices(run.summary.stepCount, frames);
  checkExportSize(run, indices.length * layers(layer).length, scale);
  const cells = layers(layer).flatMap((which) => indices.map((index) => stateRaster(run, which, index)));
  return encodePng(rasterGrid(cells, indices.length, scale));
}

/** Every state in order, layers side by side, looping. */
export function timelineGif(run: RunRecord, layer: ExportLayer, frameMs: number, scale: number): Uint8Array {
  const which = layers(layer);
  checkExportSize(run, run.summary.stepCount * which.length, scale);
  const frames = Array.from({ length: run.summary.stepCount }, (_, index) =>
    rasterGrid(
      which.map((name) => stateRaster(run, name, index)),
      which.length,
      scale,
      which.length > 1 ? 2 : 0,
    ),
  );
  return encodeGif(frames, frameMs);
}

/**
 * Several runs in one safetensors file: tensors `run{i}.x_t`, `run{i}.x0_hat`
 * [S, C, H, W] F32, `run{i}.sigma` [S] F64, `run{i}.evaluations` [S] I32, and
 * where asked and available `run{i}.gaussian_x_t`, `run{i}.gaussian_x0_hat`;
 * metadata "painter.trajectories" (JSON) describes each run (settings, branch,
 * convention of x_t).
 */
export function trajectoriesSafetensors(runs: readonly RunRecord[], ghosts: ReadonlyArray<GaussianGhost | null>): Uint8Array {
  const tensors: Record<string, SafeTensor> = {};
  const described = runs.map((run, i) => {
    const { summary, image } = run;
    const shape = [summary.stepCount, image.channels, image.height, image.width];
    const prefix = `run${i}`;
    tensors[`${prefix}.x_t`] = { dtype: 'F32', shape, data: run.xt };
    tensors[`${prefix}.x0_hat`] = { dtype: 'F32', shape, data: run.x0Hat };
    tensors[`${prefix}.sigma`] = { dtype: 'F64', shape: [summary.stepCount], data: Float64Array.from(summary.sigmas) };
    tensors[`${prefix}.evaluations`] = { dtype: 'I32', shape: [summary.stepCount], data: Int32Array.from(summary.evaluations) };
    const ghost = ghosts[i];
    const hasGhost = ghost !== null && ghost !== undefined && ghost.available;
    if (hasGhost) {
      tensors[`${prefix}.gaussian_x_t`] = { dtype: 'F32', shape, data: ghost.xt };
      tensors[`${prefix}.gaussian_x0_hat`] = { dtype: 'F32', shape, data: ghost.x0Hat };
    }
    return {
      prefix,
      runId: summary.runId,
      modelId: summary.modelId,
      settings: summary.settings,
      branch: summary.branch,
      convention: summary.convention,
      image,
      gaussian: hasGhost,
    };
  });
  const metadata = {
    format: TRAJECTORIES_FORMAT,
    note: 'x_t is in each run\'s own convention: "vp" x_t = α x0 + σ_t ε, "sigma" x = x0 + σ ε (σ form, DESIGN.md §2).',
    runs: described,
  };
  return serializeSafetensors(tensors, { 'painter.trajectories': JSON.stringify(metadata), format: TRAJECTORIES_FORMAT });
}

/** Writes an export atomically; never replaces an existing file. */
export function writeExport(path: string, bytes: Uint8Array): { path: string; bytes: number } {
  if (existsSync(path)) {
    throw new PainterError('BAD_ARGUMENT', `${path} already exists; choose another name (exports never replace a file).`, { path });
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new PainterError('IO_ERROR', `Cannot create ${dirname(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, { path });
  }
  writeFileAtomic(path, bytes);
  return { path, bytes: bytes.length };
}
