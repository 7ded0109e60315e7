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

/** The engine's preview of a latent cell: rgb = W·z + b (3 rows of C weights; engine/diffusers/preview.ts). */
export interface PreviewMap {
  weights: number[][];
  bias: number[];
}

/** Largest RMS misfit, as a share of the preview's range, at which a recovered map counts as the engine's own. */
const MAP_TOLERANCE = 1e-3;
const recovered = new WeakMap<RunTensors, PreviewMap | null>();

/**
 * The preview map of a latent run, recovered from the run's own states and
 * their previews by least squares (the map is affine per latent cell, so
 * the fit is exact up to float32 rounding): the studio then draws other
 * latents of the run — the Gaussian theory's ghost, latent directions — the
 * way it draws the run. Null for a pixel run, or when the previews are not
 * an affine map of the states (nothing is drawn rather than a wrong picture).
 */
export function previewMapOf(tensors: RunTensors): PreviewMap | null {
  if (recovered.has(tensors)) return recovered.get(tensors)!;
  const map = fitPreviewMap(tensors);
  recovered.set(tensors, map);
  return map;
}

function fitPreviewMap(tensors: RunTensors): PreviewMap | null {
  const preview = tensors.preview;
  if (preview === undefined || preview.image.channels !== 3) return null;
  const { channels, height, width } = tensors.image;
  const cells = height * width;
  if (preview.image.height !== height || preview.image.width !== width) return null;
  const n = channels + 1;
  // Normal equations of [z, 1] against each colour, over every cell of every state (x_t and x̂0).
  const gram = new Float64Array(n * n);
  const moments = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const feature = new Float64Array(n);
  const pairs: Array<[Float32Array, Float32Array]> = [
    [tensors.xt, preview.xt],
    [tensors.x0Hat, preview.x0Hat],
  ];
  for (const [states, rgb] of pairs) {
    const count = Math.floor(states.length / (channels * cells));
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < cells; i++) {
        for (let c = 0; c < channels; c++) feature[c] = states[(s * channels + c) * cells + i]!;
        feature[channels] = 1;
        for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) gram[a * n + b]! += feature[a]! * feature[b]!;
        for (let k = 0; k < 3; k++) {
          const value = rgb[(s * 3 + k) * cells + i]!;
          for (let a = 0; a < n; a++) moments[k]![a]! += feature[a]! * value;
        }
      }
    }
  }
  const weights: number[][] = [];
  const bias: number[] = [];
  for (let k = 0; k < 3; k++) {
    const solution = solveSymmetric(gram, moments[k]!, n);
    if (solution === null) return null;
    weights.push(Array.from(solution.subarray(0, channels)));
    bias.push(solution[channels]!);
  }
  const map = { weights, bias };
  // Accept only a map that reproduces the previews.
  const [low, high] = preview.image.range;
  const fitted = applyPreviewMap(map, tensors.x0Hat, tensors.image);
  let squares = 0;
  for (let i = 0; i < fitted.length; i++) squares += (fitted[i]! - preview.x0Hat[i]!) ** 2;
  return Math.sqrt(squares / Math.max(1, fitted.length)) <= MAP_TOLERANCE * (high - low) ? map : null;
}

/** Gaussian elimination with partial pivoting on an n×n system; null when it is singular. */
function solveSymmetric(matrix: Float64Array, rhs: Float64Array, n: number): Float64Array | null {
  const m = Float64Array.from(matrix);
  const x = Float64Array.from(rhs);
  let scale = 0;
  for (const v of m) scale = Math.max(scale, Math.abs(v));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = row;
    if (Math.abs(m[pivot * n + col]!) <= 1e-12 * scale) return null;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    for (let row = col + 1; row < n; row++) {
      const factor = m[row * n + col]! / m[col * n + col]!;
      for (let k = col; k < n; k++) m[row * n + k]! -= factor * m[col * n + k]!;
      x[row]! -= factor * x[col]!;
    }
  }
  for (let col = n - 1; col >= 0; col--) {
    let sum = x[col]!;
    for (let k = col + 1; k < n; k++) sum -= m[col * n + k]! * x[k]!;
    x[col] = sum / m[col * n + col]!;
  }
  return x;
}

/** RGB previews [count·3·h·w] of latents [count·C·h·w]; `withBias` false maps a direction (a difference of latents). */
export function applyPreviewMap(map: PreviewMap, latents: Float32Array, latent: ImageSpec, withBias = true): Float32Array {
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
