/**
 * What the studio draws for a run (issue 10). A pixel run's states are its
 * images. A latent run's states are latents, which cannot be looked at: the
 * studio draws the engine's preview of each state (RGB at the latent grid's
 * size, `RunTensors.preview`) scaled up smoothly to the decoded image's
 * size, and the full VAE decode of the state on screen when it arrives
 * (state/decoded.svelte.ts). Brushes and the image's coordinates are in
 * decoded pixels; the engine maps them to the latent grid.
 */
import type { ModelInfo, RunSummary, RunTensors } from '../../electron/api/contract';
import type { ImageSpec } from '../../electron/engine/manifest';

export interface ShownStates {
  /** What `xt` and `x0Hat` hold, one state after another. */
  image: ImageSpec;
  xt: Float32Array;
  x0Hat: Float32Array;
  /** Latent runs: the decoded image (canvas size, brush coordinates) and the run `decodeState` reads; null for pixel runs. */
  decoded: { runId: string; image: ImageSpec } | null;
}

/** Pixels per latent cell when the model is not (or no longer) in the list: Stable Diffusion's VAE. */
const DEFAULT_SCALE = 8;

/** The decoded image of a latent run: the size it asked for, else the latent grid times the VAE's scale. */
export function decodedImage(summary: RunSummary, preview: ImageSpec, model: ModelInfo | undefined): ImageSpec {
  const scale = model?.decoded?.scale ?? DEFAULT_SCALE;
  const { width, height } = summary.settings;
  const range = model?.decoded?.image.range ?? preview.range;
  return {
    channels: 3,
    width: width ?? preview.width * scale,
    height: height ?? preview.height * scale,
    range: [range[0], range[1]],
  };
}

export function shownStates(tensors: RunTensors, modelList: readonly ModelInfo[]): ShownStates {
  const preview = tensors.preview;
  if (preview === undefined) return { image: tensors.image, xt: tensors.xt, x0Hat: tensors.x0Hat, decoded: null };
  const model = modelList.find((candidate) => candidate.id === tensors.summary.modelId);
  return {
    image: preview.image,
    xt: preview.xt,
    x0Hat: preview.x0Hat,
    decoded: { runId: tensors.summary.runId, image: decodedImage(tensors.summary, preview.image, model) },
  };
}

/** Whether a run's states are latents (drawn through previews and decodes). */
export function isLatent(tensors: RunTensors): boolean {
  return tensors.preview !== undefined;
}

/**
 * (b − a) of state `indexB` of `b` against state `indexA` of `a`, halved and
 * drawn about the middle of the range: mid-grey = unchanged.
 */
export function differenceImage(a: Float32Array, indexA: number, b: Float32Array, indexB: number, image: ImageSpec): Float32Array {
  const dim = image.channels * image.height * image.width;
  const from = a.subarray(indexA * dim, (indexA + 1) * dim);
  const to = b.subarray(indexB * dim, (indexB + 1) * dim);
  if (from.length !== dim || to.length !== dim) throw new RangeError(`A difference needs two states of ${dim} values; got ${from.length} and ${to.length}.`);
  const [low, high] = image.range;
  const middle = (low + high) / 2;
  return Float32Array.from(to, (value, i) => middle + (value - from[i]!) / 2);
}

/**
 * The image each variation cell holds: a latent run's cells come decoded
 * (or, from an engine that does not decode them, as previews); a pixel
 * run's are states of the run. Told apart by the values per cell.
 */
export function variationCellImage(valuesPerCell: number, run: ImageSpec, shown: ShownStates): ImageSpec {
  const candidates = shown.decoded !== null ? [shown.decoded.image, shown.image, run] : [run];
  const found = candidates.find((image) => image.channels * image.height * image.width === valuesPerCell);
  if (found === undefined) throw new RangeError(`A variation cell has ${valuesPerCell} values, which fits none of this run's images (${candidates.map((c) => `${c.channels}×${c.height}×${c.width}`).join(', ')}).`);
  return found;
}
