/**
 * The model manifest: everything the engine needs to know about a model,
 * so that no model is ever described by a code path (DESIGN.md §4).
 *
 * A manifest lives at `native-models/<id>/manifest.json` (or in a folder the
 * user adds). Paths inside it are relative to that folder.
 */

/**
 * How a schedule spaces its sampling grid (see `GridSpacing` in
 * schedules.ts): `linspace` (uniform in t, DDIM; VP only), `karras` (ρ-spaced
 * in σ) or `tuned` (a grid per sampler, tuned on the closed-form accuracy
 * model). Default: `linspace` for vp-linear, `tuned` for vp-cosine, vp-table
 * and EDM (`karras` for an EDM schedule that names its `rho`).
 */
export type GridSpacingSpec = 'linspace' | 'karras' | 'tuned';

/** Noise schedule the network was trained with. */
export type ScheduleSpec =
  /** VP (DDPM) with linear β from betaStart to betaEnd over `timesteps` discrete steps. */
  | { type: 'vp-linear'; timesteps: number; betaStart: number; betaEnd: number; spacing?: GridSpacingSpec }
  /** VP with the cosine ᾱ schedule of Nichol & Dhariwal (s = 0.008 unless given; β clipped at 0.999). */
  | { type: 'vp-cosine'; timesteps: number; s?: number; spacing?: GridSpacingSpec }
  /**
   * VP with an explicit ᾱ_t (alphas_cumprod) for t = 0 … T−1, strictly
   * decreasing, each in (0, 1): describes any VP network exactly (e.g. a
   * cosine schedule clipped at ᾱ ≥ 1e-9 rather than β ≤ 0.999).
   */
  | { type: 'vp-table'; alphasCumprod: number[]; spacing?: GridSpacingSpec }
  /** EDM (variance exploding): x = x0 + σ·ε, σ in [sigmaMin, sigmaMax]. */
  | { type: 'edm'; sigmaMin: number; sigmaMax: number; rho?: number; spacing?: Exclude<GridSpacingSpec, 'linspace'> };

/** What the network predicts. */
export type PredictionType = 'epsilon' | 'x0' | 'v';

export type TensorDtype = 'float32' | 'int64';

/**
 * How the timestep input is encoded:
 * - `index`: the discrete VP step t in [0, T-1] (int64 or float32),
 * - `fraction`: t/T for the discrete VP step t (float32),
 * - `continuous`: a real time u ∈ [0, 1] (float32) of a continuous-time VP
 *   network; ᾱ_t of the schedule's table is ᾱ(u = (t+1)/T), log σ linear in
 *   u between entries, and the sampler's σ grid is free of the timesteps,
 * - `sigma`: σ itself (EDM),
 * - `edm-cnoise`: ln(σ)/4, as in Karras et al. 2022 preconditioning.
 */
export type TimestepEncoding = 'index' | 'fraction' | 'continuous' | 'sigma' | 'edm-cnoise';

export interface OnnxIoSpec {
  /** The ONNX file, relative to the manifest's folder. */
  file: string;
  /** Noisy image input, NCHW float32, in the model's own convention (VP: x_t; EDM: x0 + σε). */
  sample: { name: string };
  timestep: {
    name: string;
    dtype: TensorDtype;
    /** `batch`: shape [B]; `scalar`: shape [] or [1], one value for the whole batch. */
    shape: 'batch' | 'scalar';
    encoding: TimestepEncoding;
  };
  /** Class label input, shape [B], for class-conditional models. */
  classLabel?: { name: string; dtype: TensorDtype };
  output: { name: string };
  /** Fixed batch size if the graph has one; absent for a dynamic batch dimension. */
  fixedBatch?: number;
}

export interface ClassConditioning {
  /** Human-readable class names; label k is classes[k]. */
  classes: string[];
  /**
   * The label that means "no class" (label dropout during training), for the
   * unconditional model and classifier-free guidance. Absent: conditional only.
   */
  nullLabel?: number;
  defaultGuidance?: number;
}

export interface ImageSpec {
  channels: number;
  height: number;
  width: number;
  /** Pixel range of the model's data, e.g. [-1, 1]. */
  range: [number, number];
  /**
   * Region that holds the real image when the data were padded (e.g. 28×28
   * Fashion-MNIST inside 32×32). Absent: the whole image.
   */
  crop?: { top: number; left: number; height: number; width: number };
}

interface ManifestBase {
  /** Stable id, [a-z0-9-]+, unique in the registry. */
  id: string;
  name: string;
  description?: string;
  image: ImageSpec;
  space: 'pixel' | 'latent';
  conditioning?: ClassConditioning;
  /**
   * Gaussian statistics of the data (safetensors, see `stats` below), so that
   * theory overlays can be drawn beside a network. Relative path.
   */
  stats?: string;
  /** Free-form provenance shown in the UI: dataset, licence, model card. */
  card?: string;
  /**
   * Folder (relative) of a judge classifier for this data (judge.json +
   * model.onnx), used to score samples and tell content changes.
   */
  judge?: string;
}

/** A trained network in ONNX. */
export interface OnnxManifest extends ManifestBase {
  kind: 'onnx';
  prediction: PredictionType;
  schedule: ScheduleSpec;
  onnx: OnnxIoSpec;
}

/**
 * Analytic models computed from data statistics (DESIGN.md §2). All tensors
 * live in one safetensors file named by `stats`:
 * - gaussian: `mean` [D], `eigvecs` [D, K] (columns u_k, λ descending),
 *   `eigvals` [K], optional scalar `residual_variance` [1] (isotropic variance
 *   of the part outside span(U) when K < D).
 * - gmm: `weights` [C], `means` [C, D], `eigvecs` [C, D, K], `eigvals` [C, K],
 *   optional `residual_variance` [C].
 * - delta: `images` [N, D] (float32 in the model range, or uint8 0..255 mapped
 *   linearly onto `image.range`), optional `labels` [N].
 * - local: the same tensors as delta, plus the `local` section below.
 * D = channels·height·width in NCHW row-major order.
 */
export interface AnalyticManifest extends ManifestBase {
  kind: 'gaussian' | 'gmm' | 'delta' | 'local';
  stats: string;
  /** The local patch model (kind `local`): its training images are `stats`'s delta `images`. */
  local?: LocalPatchSpec;
  /** σ range the sampler uses (the model itself is defined for every σ > 0). */
  sigmaMin: number;
  sigmaMax: number;
}

/** The ONNX inputs and output of a GAN generator x = G(z, y). */
export interface GanIoSpec {
  /** The ONNX file, relative to the manifest's folder. */
  file: string;
  /** Latent input z, float32 [B, dim], drawn from N(0, I). */
  latent: { name: string; dim: number };
  /** Class label input, shape [B], for a class-conditional generator. */
  classLabel?: { name: string; dtype: TensorDtype };
  /** Image output, float32 [B, C, H, W] in `image.range`. */
  output: { name: string };
  fixedBatch?: number;
}

/**
 * A GAN generator: one network evaluation from a latent z to an image (no
 * noise schedule, no timeline). Used for the GAN analogy of the paper (§7):
 * the diffusion generator map x_T → x0 compared with z → x.
 */
export interface GanManifest extends ManifestBase {
  kind: 'gan';
  gan: GanIoSpec;
}

/** A diffusers pipeline's part files, as diffusers/folder.ts finds them (absent parts: null). */
export interface DiffusersParts {
  unet: string;
  textEncoder: string | null;
  tokenizer: string | null;
  vaeDecoder: string | null;
  vaeEncoder: string | null;
  schedulerConfig: string;
}

/** What diffusers/folder.ts reads from a diffusers ONNX folder (plain data). */
export interface DiffusersFolder {
  folder: string;
  /** From the folder's name: lower case, [a-z0-9-]. */
  id: string;
  /** The folder's name as the user gave it. */
  name: string;
  /** `_class_name` of model_index.json (e.g. OnnxStableDiffusionPipeline, DDPMPipeline). */
  pipelineClass: string;
  /** Text-to-image (text encoder + tokenizer + VAE) or unconditional (a UNet on pixels, or on latents with a VAE). */
  conditioning: 'text' | 'none';
  parts: DiffusersParts;
  /** scheduler/scheduler_config.json as read (scheduler-config.ts maps it). */
  schedulerJson: unknown;
  /** VAE latents are divided by this before decoding (0.18215 for SD 1.x/2.x). */
  scalingFactor: number;
  /** Pixels per latent cell: 2^(VAE blocks − 1), 8 for Stable Diffusion. */
  vaeScale: number;
  /** The VAE's `latent_channels` (4 for Stable Diffusion), when its config gives it. */
  latentChannels: number | null;
  /** unet/config.json `sample_size` (latent cells), when given. */
  sampleSize: number | null;
  /** unet/config.json `in_channels`, when given. */
  unetChannels: number | null;
  /** Latent cells per UNet cell at its coarsest level: 2^(UNet blocks − 1) (unet/config.json `block_out_channels`; 8 when absent). */
  unetDownsampling: number;
  /** Every file read, for the registration's hash (path and size). */
  files: Array<{ path: string; size: number }>;
}

/**
 * A diffusers ONNX folder (Optimum's layout), described by the folder itself
 * rather than a manifest.json: diffusers/folder.ts reads it and the registry
 * builds this description. `image` is the UNet's grid at the default size
 * (latents for a latent pipeline); `space` says which.
 */
export interface DiffusersManifest extends ManifestBase {
  kind: 'diffusers';
  diffusers: DiffusersFolder;
}

export type ModelManifest = OnnxManifest | AnalyticManifest | GanManifest | DiffusersManifest;

/**
 * A local patch model (denoisers/local.ts): LS, or ELS with a shift window.
 * Its training images are the `images` (and `labels`) of the `stats` file,
 * as for a delta model.
 */
export interface LocalPatchSpec {
  /**
   * JSON file (relative) with the patch side per σ, `sigmas` (ascending) and
   * `patchSizes` (odd), as `painter calibrate-local` writes it.
   */
  calibration: string;
  /** Use only the first `trainingImages` images of the stats file (all when absent). */
  trainingImages?: number;
  /** 0 (default): LS; s > 0: ELS, a patch may come from up to s pixels away in each axis. */
  shiftWindow?: number;
}
