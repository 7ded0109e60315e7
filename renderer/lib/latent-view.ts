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
import { applyPreviewMap, type LinearPreviewMap } from '../../electron/api/preview-map';

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

export { applyPreviewMap };

/** Largest RMS misfit, as a share of the preview's range, at which the map is taken to be the one the previews were made with. */
const MAP_TOLERANCE = 1e-3;
const checked = new WeakMap<RunTensors, LinearPreviewMap | null>();

/**
 * The preview map of a latent run, as the engine sent it with the run's
 * previews: the studio draws other latents of the run — the Gaussian
 * theory's ghost, latent directions — the way it draws the run. Null for a
 * pixel run, or when the map does not reproduce the run's own previews
 * (nothing is drawn rather than a wrong picture).
 */
export function previewMapOf(tensors: RunTensors): LinearPreviewMap | null {
  if (checked.has(tensors)) return checked.get(tensors)!;
  const preview = tensors.preview;
  let map: LinearPreviewMap | null = null;
  if (preview !== undefined && preview.image.channels === 3) {
    const [low, high] = preview.image.range;
    const fitted = applyPreviewMap(preview.map, tensors.x0Hat, tensors.image);
    let squares = 0;
    for (let i = 0; i < fitted.length; i++) squares += (fitted[i]! - preview.x0Hat[i]!) ** 2;
    if (fitted.length === preview.x0Hat.length && Math.sqrt(squares / Math.max(1, fitted.length)) <= MAP_TOLERANCE * (high - low)) map = preview.map;
  }
  checked.set(tensors, map);
  return map;
}
