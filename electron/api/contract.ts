/**
 * The one API contract between the studio UI and the engine (types only).
 *
 * In Electron the calls travel over IPC through the contextBridge preload; in
 * browser mode (`painter serve`) over a local WebSocket. Both carry the same
 * {@link ApiRequest} / {@link ApiResponse} envelopes; the renderer's client
 * (renderer/lib/api.ts) unwraps `{ok:false}` into a thrown {@link ApiError}.
 */

import type { ImageSpec } from '../engine/manifest';
import type { LinearPreviewMap } from './preview-map';

/** Stable error codes; the message is a sentence a user can act on. */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'MODEL_NOT_FOUND'
  | 'BAD_MANIFEST'
  | 'BAD_MODEL'
  | 'BAD_FILE'
  | 'RUN_NOT_FOUND'
  | 'CANCELLED'
  | 'PROVIDER_FAILED'
  | 'IO_ERROR'
  /** Browser mode: a path outside the workspace and the model folders named on the command line. */
  | 'OUTSIDE_WORKSPACE'
  /** The engine process stopped (crashed, killed, out of memory, hung) during the call; it is restarted. */
  | 'ENGINE_STOPPED'
  | 'INTERNAL';

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type SamplerName = 'euler' | 'heun' | 'ddpm';
export const SAMPLER_NAMES: readonly SamplerName[] = ['euler', 'heun', 'ddpm'];

/** `gan`: a one-step generator z → x (no timeline); see engine/gan.ts. */
export type ModelKind = 'onnx' | 'gaussian' | 'gmm' | 'delta' | 'local' | 'gan' | 'diffusers';

/** ONNX Runtime execution providers the engine knows (DESIGN.md §4: GPU where present, CPU always). */
export type ProviderName = 'webgpu' | 'cuda' | 'dml' | 'coreml' | 'cpu';
/** What the user picks: one provider, or `auto` (the first that works of WebGPU → CUDA → DirectML → CoreML → CPU). */
export type ProviderChoice = 'auto' | ProviderName;
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'webgpu', 'cuda', 'dml', 'coreml', 'cpu'];

/** One provider as this machine's ONNX Runtime build offers it. */
export interface ProviderOption {
  name: ProviderName;
  /** "WebGPU", "CUDA", "DirectML", "CoreML", "CPU". */
  label: string;
  /** Listed by this build of ONNX Runtime (`ort.listSupportedBackends()`), bundled or not. */
  inBuild: boolean;
  /** Listed by this build of ONNX Runtime and (CUDA) its libraries installed; whether a device answers shows at the next load. */
  available: boolean;
  /** Why it is unavailable, or what it needs (a sentence). */
  note: string;
  /** Self-check tolerance: max |output − CPU output| / RMS(CPU output) on a fixed input (0 for CPU, the reference). */
  tolerance: number;
}

export interface ProviderSettings {
  /** The choice in force for networks loaded from now on. */
  choice: ProviderChoice;
  /** Where the choice comes from: the studio's saved setting, or the command line / environment (then the picker cannot change it). */
  source: 'settings' | 'override';
  /** `${process.platform}-${process.arch}` of the engine's machine. */
  platform: string;
  providers: ProviderOption[];
}

export interface ModelInfo {
  id: string;
  name: string;
  description: string;
  kind: ModelKind;
  image: ImageSpec;
  /** Class names, when the model takes a class label. */
  classes: string[] | null;
  /** Whether the model can also run unconditionally (a null label exists, or it is unconditional). */
  unconditional: boolean;
  defaultGuidance: number;
  defaultSteps: number;
  /**
   * Execution provider the model runs on ("cpu", "webgpu", "cuda", …) once loaded; before its first
   * load the choice that will be tried ("auto", …); "analytic" for closed-form models.
   */
  provider: string;
  /** Why the network is not on the provider asked for (one line per provider that fell back), or null. */
  providerNotice?: string | null;
  /** Where the model came from. */
  source: 'bundled' | 'user';
  folder: string;
  /**
   * `latent`: the states are latents (`image` describes the latent grid) and
   * what the user sees is decoded (see `decoded`); absent or `pixel`: the
   * states are the image itself.
   */
  space?: 'pixel' | 'latent';
  /** Latent models: the decoded image at the default size, and the sizes a run may ask for. */
  decoded?: DecodedSpec;
  /** Text-conditional pipelines: the model takes a prompt (and a negative prompt); absent otherwise. */
  prompt?: PromptSpec;
}

export interface DecodedSpec {
  /** The decoded image at the model's default width and height. */
  image: ImageSpec;
  /** Pixels per latent cell (8 for Stable Diffusion's VAE). */
  scale: number;
  /** Width and height are multiples of this (8 · the UNet's downsampling, at least `scale`). */
  sizeMultiple: number;
  minSize: number;
  maxSize: number;
}

export interface PromptSpec {
  /** Tokens the text encoder reads, BOS and EOS included (77 for CLIP). */
  maxTokens: number;
  defaultNegativePrompt: string;
}

export interface GenerateRequest {
  modelId: string;
  seed: number;
  steps: number;
  sampler: SamplerName;
  /** Class label, or null for the unconditional model. */
  classLabel: number | null;
  /** Classifier-free guidance scale (1 = plain conditional). */
  guidance: number;
  /**
   * GAN models (kind `gan`) only: the latent z itself, instead of the seed's
   * (a kept variation-grid cell). A GAN run's settings always carry its z here.
   */
  latent?: number[];
  /** GAN models only: the run this one varies (shown as a branch of it), and how. */
  branchOf?: { runId: string; perturbation: string };
  /** Text-conditional models: the prompt (required there; '' is the empty prompt). */
  prompt?: string;
  /**
   * Text-conditional models: what classifier-free guidance steers away from ('' by default).
   * As in diffusers, their `guidance` of 1 or less means no guidance: the prompt alone
   * (SD-Turbo runs at 0), not the unconditional model a class model's guidance 0 gives.
   */
  negativePrompt?: string;
  /** Latent models: the decoded image's size in pixels (multiples of `DecodedSpec.sizeMultiple`); the model's default when absent. */
  width?: number;
  height?: number;
}

export interface BranchInfo {
  parentRunId: string;
  /** Step of the parent at which the branch left it. */
  step: number;
  /** Human-readable description of the perturbation that made the branch. */
  perturbation: string;
  /**
   * How much the content of the final image moved: RMS of (branch final −
   * parent final) at coarse scale (both blurred by a Gaussian of σ = 1/20 of
   * the image side), divided by the width of the data range (0.1 = 10% of
   * black-to-white). Fine detail, which late kicks add, counts little.
   */
  contentChange?: number;
  /** The same RMS without the blur: every pixel's change, detail included. */
  pixelChange?: number;
}

/** The three perturbation brushes (DESIGN.md §1.3). */
export type BrushKind = 'noise' | 'intensity' | 'direction';
export const BRUSH_KINDS: readonly BrushKind[] = ['noise', 'intensity', 'direction'];

/** Where a direction brush's direction comes from. */
export type DirectionSource =
  /** Eigenvector k (0 = largest variance) of the model's Gaussian statistics, times `sign` (default +1). */
  | { kind: 'gaussian-pc'; index: number; sign?: 1 | -1 }
  /** A direction found elsewhere (e.g. a variation-grid cell), C·H·W values. */
  | { kind: 'vector'; label: string; values: Float32Array };

/** A point of a stroke, in pixels of the full (uncropped) image, x right, y down. */
export interface BrushPoint {
  x: number;
  y: number;
}

/**
 * A brush stroke at one step. Its kick δ is masked to the stroke (a soft disc
 * of `radius` around each point) and scaled to norm `strength` in the
 * unit-variance x_t convention: the model's own x_t for VP models, and
 * x/√(1+σ²) for σ-form models (the same state a VP model would hold at that σ,
 * and what the studio draws). A fixed strength is then a fair comparison
 * between early and late steps (DESIGN.md §2, perturbation transfer).
 */
export interface Brush {
  kind: BrushKind;
  /** The stroke; may be empty when `global`. */
  points: BrushPoint[];
  /** Kick the whole image (no stroke mask): a variation-grid cell kept as a branch. */
  global?: boolean;
  /** Radius of the soft disc, in image pixels. */
  radius: number;
  /** ‖δ‖ in the unit-variance x_t convention. */
  strength: number;
  /** noise: seed of the noise patch. */
  seed?: number;
  /** noise: correlation length in pixels (the white noise is blurred by a Gaussian of this σ); 0 or absent: pixel noise. */
  grain?: number;
  /** intensity: push per channel before normalisation, e.g. [1] brighter, [-1] darker, [1, -0.5, -0.5] redder. */
  color?: number[];
  /** direction: the direction to push along (its sign is kept). */
  direction?: DirectionSource;
}

/**
 * Where the variation grid's directions come from (DESIGN.md §1.4); `local`:
 * the directions that change a painted region of x̂0 and leave the rest
 * (LOCO Edit, Chen et al. NeurIPS 2024; engine/analysis/local-directions.ts).
 */
export type DirectionFamily = 'jacobian' | 'x0-pcs' | 'generator' | 'local' | 'gan-latent';
/** `gan-latent`: eigenvectors of JᵀJ of a GAN generator at the run's z (GAN runs only; engine/gan.ts). */
export const DIRECTION_FAMILIES: readonly DirectionFamily[] = ['jacobian', 'x0-pcs', 'generator', 'local', 'gan-latent'];

/** Directions found elsewhere (e.g. kept on another run of the same model) to kick along instead of finding new ones. */
export interface AppliedDirections {
  /** Unit directions, [count][C·H·W]. */
  directions: Float32Array;
  /** One label per direction, e.g. "L1 (seed 4, step 25)". */
  labels: string[];
  sourceRunId: string;
  sourceStep: number;
}

export interface VariationRequest {
  jobId: string;
  runId: string;
  /** Step of the kicks (the generator map always kicks x_T, step 0). */
  step: number;
  family: DirectionFamily;
  /** Directions (rows of the grid), 1 … 8. */
  directions: number;
  /** Kick norms (columns), unit-variance convention like a brush's strength; 0 re-makes the run. */
  amplitudes: number[];
  /**
   * The region painted on x̂0: one weight in [0, 1] per pixel (H·W, row-major, all channels alike).
   * Needed by the `local` family; with any family (and `apply`) the grid reports each cell's share of change inside it.
   */
  mask?: Float32Array;
  /** `local`: how many of the outside's top Jacobian directions to project out (default: chosen by explained energy). */
  nullSpaceRank?: number;
  /** Kick along these directions instead of finding new ones (then `family` only names where they came from). */
  apply?: AppliedDirections;
}

/** How the search for Jacobian or local directions went (issue 13 part 2: only converged directions are shown). */
export interface DirectionSearch {
  /** Per direction shown: degrees its estimate moved between the search space at half its final size and at the end. */
  convergenceDeg: number[];
  /** A direction counts as found below this. */
  toleranceDeg: number;
  /** Directions asked for that did not converge within the budget, so are not shown. */
  notConverged: number;
  /** Per direction shown, the other rows tied with it (equal strength: only their span is defined). */
  tiedWith: number[][];
  forwardPasses: number;
  /** The cap on forward passes. */
  budget: number;
  /** Skew share of the Jacobian on the search space (0 for an exact denoiser, whose Jacobian is symmetric). */
  asymmetry: number;
}

/** The `local` family's region and how the rest is kept fixed. */
export interface LocalSearch {
  /** Region weights used, H·W. */
  mask: Float32Array;
  /**
   * Where the directions live: on the region's own values, where J was applied to each and the problem solved
   * exactly ('region'), or anywhere, by a converging search ('free'). Absent in runs saved before it was reported: free.
   */
  support?: 'free' | 'region';
  /** How many values that is (C·H·W for free directions). */
  supportSize?: number;
  /** Top directions of the outside's Jacobian (I − M)J projected out of each direction. */
  nullSpaceRank: number;
  rankChosenBy: 'energy' | 'user';
  /** The share of the outside's Jacobian energy the projected-out directions had to carry. */
  energyThreshold: number;
  /** …and the share they do carry. */
  explainedEnergy: number;
  /** Per direction: share of x̂0's squared change (to first order, at this step) that falls inside the region. */
  insideShare: number[];
}

export interface VariationGrid {
  runId: string;
  step: number;
  family: DirectionFamily;
  amplitudes: number[];
  /** Directions found (may be fewer than asked). */
  count: number;
  /** Unit directions, [count][C·H·W]. */
  directions: Float32Array;
  /** What ranks each direction (eigenvalue, explained share, singular value). */
  values: number[];
  valueLabel: string;
  /** Final image of each cell, [count][amplitudes][C·H·W]. */
  images: Float32Array;
  seconds: number;
  /** gan-latent only: the unit latent directions v_j, [count][latent dim] (a cell is z + a·v_j). */
  latentDirections?: Float32Array;
  /** Jacobian and local families: convergence and budget of the search. */
  search?: DirectionSearch;
  /** The local family: the region and the null-space projection. */
  local?: LocalSearch;
  /**
   * When a region was given: per cell [direction][amplitude], the share of the final image's squared change
   * (against the run's own final image) that falls inside it; null for amplitude 0.
   */
  inside?: Array<number | null>;
  /** Row labels when the directions were applied from elsewhere. */
  applied?: { sourceRunId: string; sourceStep: number; labels: string[] };
  /**
   * Latent runs: the directions and `images` stay in latent space (where the
   * model varies), and each cell's final latent is also given decoded by the
   * VAE, at the run's decoded size (the display size): [count][amplitudes][3·H·W].
   * Decoding in the engine keeps the studio free of the VAE, and one decode per
   * cell is what the grid shows anyway.
   */
  decoded?: { image: ImageSpec; images: Float32Array };
}

export interface BranchRequest {
  jobId: string;
  runId: string;
  /** The recorded state the brush is applied to, 0 … stepCount − 2. */
  step: number;
  brush: Brush;
}

/** The Gaussian theory's prediction for a run: same x_T, same σ grid (DESIGN.md §2). */
export type GaussianGhost =
  | {
      available: true;
      runId: string;
      /** Closed-form states, same layout and convention as the run's `xt`. */
      xt: Float32Array;
      /** The Gaussian denoiser's x̂0 along its own closed-form trajectory. */
      x0Hat: Float32Array;
      /**
       * Per state: the fraction of this run's final-image power (about μ) that
       * the Gaussian theory has committed at that σ, Σ c_k² λ_k/(λ_k+σ²) / Σ c_k².
       */
      decided: number[];
      /** Per state: RMS of (run's x̂0 − ghost's x̂0), in data units. */
      deviation: number[];
    }
  | { available: false; runId: string; reason: string };

/**
 * The local patch model's run from the same x_T on the same σ grid, with the
 * same sampler, seed and class (engine/local-ghost.ts).
 */
export type LocalGhost =
  | {
      available: true;
      runId: string;
      /** The local patch model that painted it. */
      modelId: string;
      /** Its states, same layout and convention as the run's `xt`. */
      xt: Float32Array;
      /** Its x̂0 along its own trajectory. */
      x0Hat: Float32Array;
      /** Per state: RMS of (run's x̂0 − local ghost's x̂0), in data units. */
      deviation: number[];
      seconds: number;
    }
  | { available: false; runId: string; reason: string };

/**
 * The axes of the 3-D view:
 * - `plane`: each path in its own rotation plane (DESIGN.md §2): its final
 *   image's direction, its start noise's direction orthogonal to that, and
 *   its largest residual outside the plane. Every path then reads as the arc
 *   the theory predicts, and the Gaussian ghost's arc sits beside it.
 * - `run`: the top principal components of the run's own trajectory.
 * - `all`: the top principal components of all the trajectories together.
 */
export type TrajectoryBasis = 'plane' | 'run' | 'all';
export const TRAJECTORY_BASES: readonly TrajectoryBasis[] = ['plane', 'run', 'all'];

export interface TrajectorySpaceRequest {
  jobId: string;
  runId: string;
  /** Trajectories to draw, the run's own seed first, then seed+1, …; 1 … 32. */
  count: number;
  basis: TrajectoryBasis;
}

/**
 * Trajectories of several seeds in the 3-D space of their top principal
 * components. States are taken in the unit-variance convention (as drawn).
 * Point arrays are [trajectory][state][3] row-major.
 */
export interface TrajectorySpace {
  runId: string;
  seeds: number[];
  states: number;
  sigmas: number[];
  points: Float32Array;
  /** The Gaussian closed form from the same x_T, when the model has statistics. */
  ghost: Float32Array | null;
  /**
   * The plane through the origin spanned by the first trajectory's x_T and
   * final image, as 4 corners [4][3] (a·x0 + b·x_T, a, b ∈ {−0.1, 1.1}).
   */
  plane: Float32Array;
  basis: TrajectoryBasis;
  /**
   * Fraction of the basis states' variance each of the 3 axes explains; for
   * the `plane` basis, the mean fraction of each state's squared norm along
   * each of its path's own axes.
   */
  explained: number[];
  /** What each axis is, for the view's labels (absent in files saved before it existed). */
  axisLabels?: [string, string, string];
}

/** The theory lab's analyses the studio charts (DESIGN.md §1.5, §3). */
export type TheoryAnalysisName = 'emergence' | 'perturbation' | 'agreement' | 'teleport' | 'gan-analogy';
export const THEORY_ANALYSES: readonly TheoryAnalysisName[] = ['emergence', 'perturbation', 'agreement', 'teleport', 'gan-analogy'];

export interface TheoryRequest {
  jobId: string;
  /** The run whose model and settings (sampler, steps, class, guidance) the analysis uses; its seed first. */
  runId: string;
  analysis: TheoryAnalysisName;
  /** Trajectories averaged over, 1 … 32 (teleportation needs at least 4). */
  seeds: number;
}

/** Chart-ready results of the theory lab's analyses (electron/engine/analysis/), means over seeds. */
export type TheoryChart = {
  /** The run whose settings the analysis used (absent in results made before it was recorded). */
  runId?: string;
  modelId: string;
  seeds: number[];
  seconds: number;
} & (
  | {
      analysis: 'emergence';
      /** σ of each state (σ form), descending to 0. */
      sigmas: number[];
      /** Along data PC k: x̂0's component relative to its final value, pooled over seeds, and the Gaussian theory 1/√(1+σ²/λ_k). */
      directions: Array<{ index: number; sqrtLambda: number; commitment: number; curve: number[]; theory: number[] }>;
      /** Spearman correlation of commitment σ_k with √λ_k (DESIGN.md §3: strong). */
      rankCorrelation: number;
    }
  | {
      analysis: 'perturbation';
      injectSteps: number[];
      injectSigmas: number[];
      /** Kick norms, the model's own x_t convention. */
      strengths: number[];
      /** ‖Δ final image‖ per [injection step][strength]. */
      change: number[][];
      /** The Gaussian theory's ‖Δx0‖ for the same kicks. */
      theory: number[][];
      /** Spearman trends of the change with step (expected < 0) and with strength (expected > 0). */
      changeWithStep: number;
      changeWithStrength: number;
    }
  | {
      analysis: 'agreement';
      /** σ (σ form) the network was evaluated at. */
      sigmas: number[];
      /**
       * EV(σ) of each reference denoiser ("gaussian", mixtures, the training
       * set, the local patch model) and the median r²(σ) of its x̂0 against
       * the network's over the probe images; `kind`: gaussian, gmm, delta or local.
       */
      references: Array<{ name: string; kind: string; ev: number[]; r2: number[] }>;
      probeSource: string;
    }
  | {
      analysis: 'teleport';
      rows: Array<{ skip: number; startStep: number; sigmaSkip: number; evaluations: number; saved: number; difference: number; pcFrechet: number; withinNoise: boolean }>;
      /** Bootstrap sd of the full run's Fréchet distance: the noise a skip must stay within. */
      noise: number;
      largestSafe: { skip: number; saved: number; savedFraction: number };
    }
  | {
      analysis: 'gan-analogy';
      /** The GAN generator compared (a registered model of the run's image size). */
      gan: string;
      /** Directions compared in each map. */
      k: number;
      /** GAN, the run's generator map x_T → x0, the Gaussian's exact map: s_j/s_1, effective rank, coarse share of top vs bottom directions. */
      maps: Array<{ name: 'gan' | 'diffusion' | 'gaussian'; title: string; normalized: number[]; effectiveRank: number; coarseTop: number; coarseBottom: number }>;
      compare: number;
    }
);

export interface SessionRun {
  runId: string;
  /** File of the run, relative to the session file's folder. */
  file: string;
}

/** What a session file (`*.painter`, JSON) holds; the runs sit beside it as safetensors. */
export interface SessionSummary {
  path: string;
  name: string;
  savedAt: string;
  runs: RunSummary[];
  /** The run and step on screen when it was saved. */
  current: { runId: string; step: number } | null;
  /** Results saved with the session (variation grids, 3-D views, theory charts); absent in older files. */
  results?: SessionResults;
}

/**
 * Results computed for a session's runs, saved beside it so that reopening
 * does not mean recomputing: the engine keeps the latest of each kind per run
 * (per analysis for charts), and a session save writes those of its runs.
 */
export interface SessionResults {
  variations: VariationGrid[];
  trajectories: TrajectorySpace[];
  charts: TheoryChart[];
}

export interface RecentSession {
  path: string;
  name: string;
  savedAt: string;
  runCount: number;
}

export interface SaveSessionRequest {
  path: string;
  name: string;
  runIds: string[];
  current: { runId: string; step: number } | null;
}

/** Which recorded image of each state an export draws. */
export type ExportLayer = 'x0Hat' | 'xt' | 'both';

export interface ExportStripRequest {
  runId: string;
  path: string;
  layer: ExportLayer;
  /** At most this many states, evenly spaced, first and last always in. */
  frames: number;
  /** Integer upscale of each image. */
  scale: number;
}

export interface ExportAnimationRequest {
  runId: string;
  path: string;
  layer: ExportLayer;
  /** Delay between frames, milliseconds. */
  frameMs: number;
  scale: number;
}

export interface ExportTrajectoriesRequest {
  runIds: string[];
  path: string;
  /** Also write each run's Gaussian ghost, where the model has statistics. */
  includeGhost: boolean;
}

export interface ExportResult {
  path: string;
  bytes: number;
  /**
   * Browser mode only: a same-origin URL (token-checked, short-lived) that
   * downloads the exported file to the browser's machine.
   */
  download?: string;
}

/**
 * The storage budgets (issue 9): open runs beyond `runMemoryMB` of tensors
 * move to disk (least recently used first) and come back when asked for;
 * autosaved runs beyond `autosaveDiskMB` are removed, oldest unopened first.
 */
export interface StorageSettings {
  runMemoryMB: number;
  autosaveDiskMB: number;
}

export interface StorageStatus extends StorageSettings {
  /** Tensors of open runs held in memory now, MB. */
  residentMB: number;
  /** Autosaved run files on disk now, MB. */
  autosaveMB: number;
  openRuns: number;
  residentRuns: number;
  /** Runs moved out of memory so far. */
  evictions: number;
}

/** Where the studio suggests files go on the engine's machine. */
export interface StudioPaths {
  dataDir: string;
  sessionsDir: string;
  exportsDir: string;
}

/** A recorded run without its tensors. */
export interface RunSummary {
  runId: string;
  modelId: string;
  settings: GenerateRequest;
  /** Number of recorded states: steps + 1 (the last one is the final image at σ = 0). */
  stepCount: number;
  /** σ of each recorded state (σ form, DESIGN.md §2). */
  sigmas: number[];
  /** Cumulative network evaluations at each recorded state. */
  evaluations: number[];
  seconds: number;
  createdAt: string;
  branch: BranchInfo | null;
  /** Execution provider the run's network ran on ("cpu", "webgpu", …; "analytic"); absent in runs saved before it was recorded. */
  provider?: string;
  /**
   * How `xt` is stored: `vp` (x_t = α_t x0 + σ_t ε, unit variance) or `sigma`
   * (x0 + σ ε, the EDM and analytic models' own convention).
   */
  convention: StateConvention;
  /**
   * A run started from an image instead of pure noise: the image, noised to
   * `step`'s level with the seed's noise, then denoised by the model (SDEdit,
   * Meng et al. 2022). States before `step` are that image under the same
   * noise at each level; their x̂0 is the image itself.
   */
  origin?: { kind: 'image'; name: string; step: number };
  /**
   * Sentences for the user about the run's settings, e.g. a sampler and step
   * count whose result is far from converged (engine/sampler-accuracy.ts).
   * Absent when there is nothing to say; kept in run files (metadata `warnings`).
   */
  warnings?: string[];
}

export type StateConvention = 'vp' | 'sigma';

/**
 * The tensors of a run, NCHW row-major per state, states stacked first:
 * xt and x0Hat have length stepCount · C·H·W. `xt` is in the model's own
 * convention (VP: x_t = α_t x0 + σ_t ε; EDM: x0 + σ ε).
 */
export interface RunTensors {
  summary: RunSummary;
  image: ImageSpec;
  xt: Float32Array;
  x0Hat: Float32Array;
  /**
   * Latent runs: a preview of every recorded state as an RGB image at the
   * latent grid's size (the model's linear latent→RGB map), stacked like
   * `xt` and `x0Hat`, with the map itself (the studio draws other latents of
   * the run through it); the full VAE decode of a state comes from `decodeState`.
   */
  preview?: { image: ImageSpec; xt: Float32Array; x0Hat: Float32Array; map: LinearPreviewMap };
}

/** The VAE decode of one recorded state of a latent run. */
export interface DecodedState {
  runId: string;
  step: number;
  which: 'xt' | 'x0Hat';
  image: ImageSpec;
  values: Float32Array;
}

export interface JobProgress {
  jobId: string;
  done: number;
  total: number;
  /** What is being done, a short sentence ("step 12 of 50", "Jacobian directions: 3 of 6"). */
  message: string;
  /** Seconds left, from the pace so far; absent until it can be estimated. */
  etaSeconds?: number;
  /** Waiting for other work to finish: its place in line (1 = next). */
  queued?: number;
  /** Generation and branch: the latest x̂0, for a live preview. */
  preview?: JobPreview;
}

/**
 * The latest estimate x̂0 of a run in progress, as an image (at most
 * {@link PREVIEW_MAX_VALUES} values; larger images come downsampled, with
 * `image` describing what is sent).
 */
export interface JobPreview {
  /** Recorded state the estimate belongs to (0 … stepCount − 1), counted in the run's own steps. */
  step: number;
  stepCount: number;
  image: ImageSpec;
  values: Float32Array;
}
export const PREVIEW_MAX_VALUES = 3 * 128 * 128;

/** A run's final image, small: for lists of runs. */
export interface RunThumbnail {
  runId: string;
  image: ImageSpec;
  values: Float32Array;
}

export interface ImageStartRequest extends GenerateRequest {
  jobId: string;
  /** The image in the model's data layout and range: C·H·W values, NCHW. */
  image: Float32Array;
  /** Recorded state the run starts from, 0 … steps − 1 (0: pure noise, nothing of the image is kept). */
  startStep: number;
  /** The image file's name, kept in the run. */
  name: string;
}

/** A file the user dropped on the studio (browser mode has no path for it). */
export interface DroppedFile {
  name: string;
  bytes: Uint8Array;
}

/** Every call: name → [params, result]. */
export interface ApiMethods {
  listModels: [Record<string, never>, ModelInfo[]];
  addModelFolder: [{ folder: string }, ModelInfo];
  generate: [GenerateRequest & { jobId: string }, RunSummary];
  cancel: [{ jobId: string }, { cancelled: boolean }];
  listRuns: [Record<string, never>, RunSummary[]];
  getRun: [{ runId: string }, RunTensors];
  saveRun: [{ runId: string; path: string }, { path: string }];
  openRun: [{ path: string }, RunSummary];
  /** Re-runs a run from `step` with a brush's kick added there; the new run is a branch. */
  branch: [BranchRequest, RunSummary];
  variations: [VariationRequest, VariationGrid];
  theory: [TheoryRequest, TheoryChart];
  /** Forgets runs (and their autosaved files); the caller decides which, e.g. a branch and its descendants. */
  deleteRuns: [{ runIds: string[] }, { deleted: string[] }];
  /** Brings back runs deleted in this session (undo), as long as the engine still holds them. */
  restoreRuns: [{ runIds: string[] }, RunSummary[]];
  /** Final images of runs, small, for the list of runs. */
  runThumbnails: [{ runIds: string[] }, RunThumbnail[]];
  /** A run that starts from an image (a dropped file) noised to `startStep`, then denoised by the model. */
  generateFromImage: [ImageStartRequest, RunSummary];
  /** Opens a run file the user dropped (its bytes). */
  importRun: [{ file: DroppedFile }, RunSummary];
  /** Opens a session file the user dropped, with the run files dropped beside it (or its folder). */
  importSession: [{ session: DroppedFile; runs: DroppedFile[] }, SessionSummary];
  gaussianGhost: [{ runId: string }, GaussianGhost];
  /** A job: the local patch model's own run from the run's x_T (seconds, with progress). */
  localGhost: [{ jobId: string; runId: string }, LocalGhost];
  trajectorySpace: [TrajectorySpaceRequest, TrajectorySpace];
  saveSession: [SaveSessionRequest, { path: string }];
  openSession: [{ path: string }, SessionSummary];
  recentSessions: [Record<string, never>, RecentSession[]];
  exportStrip: [ExportStripRequest, ExportResult];
  exportAnimation: [ExportAnimationRequest, ExportResult];
  exportTrajectories: [ExportTrajectoriesRequest, ExportResult];
  studioPaths: [Record<string, never>, StudioPaths];
  /** The execution provider choice and what this machine offers. */
  providerSettings: [Record<string, never>, ProviderSettings];
  /** Saves the provider choice; loaded networks are released and reload on it at their next use. */
  setProvider: [{ provider: ProviderChoice }, ProviderSettings];
  /** The storage budgets and their use. */
  storage: [Record<string, never>, StorageStatus];
  /** Changes the storage budgets (the desktop keeps them in its settings file; browser mode for the launch). */
  setStorage: [StorageSettings, StorageStatus];
  /** Latent runs: the VAE decode of one recorded state (decoded in the engine, cached). */
  decodeState: [{ runId: string; step: number; which: 'xt' | 'x0Hat' }, DecodedState];
  /** Forgets a model folder the user added (never deletes the folder or anything in it). */
  removeModel: [{ modelId: string }, { removed: string }];
}

export type ApiMethod = keyof ApiMethods;
export type ApiParams<M extends ApiMethod> = ApiMethods[M][0];
export type ApiResult<M extends ApiMethod> = ApiMethods[M][1];

export type ApiResponse<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

/**
 * The engine process's health, from its supervisor (EngineHost): it stopped
 * and is restarting, it is back (with the runs it re-opened), or it stays
 * down after repeated failures. `message` is a sentence for the user.
 */
export interface EngineStatus {
  state: 'restarting' | 'ready' | 'failed';
  message: string;
  restoredRuns?: string[];
  lostRuns?: string[];
}

/** Events pushed from the engine to the UI. */
export interface ApiEvents {
  progress: JobProgress;
  engine: EngineStatus;
}
export type ApiEventName = keyof ApiEvents;

/** WebSocket wire format for browser mode (one JSON text frame per message). */
export type WireMessage =
  | { type: 'request'; id: number; method: ApiMethod; params: unknown }
  | { type: 'response'; id: number; response: ApiResponse<unknown> }
  | { type: 'event'; name: ApiEventName; payload: unknown };

/** IPC channel names (Electron). */
export const IPC_INVOKE_CHANNEL = 'painter:invoke';
export const IPC_EVENT_CHANNEL = 'painter:event';

/**
 * The studio's actions a menu, a shortcut or the desktop shell can invoke
 * (renderer/lib/commands.ts runs them).
 */
export type StudioCommand =
  | 'undo'
  | 'redo'
  | 'save'
  | 'save-as'
  | 'open'
  | 'new-session'
  | 'export'
  | 'add-model-folder'
  | 'toggle-theme'
  | 'shortcuts'
  | 'glossary';
export const STUDIO_COMMANDS: readonly StudioCommand[] = [
  'undo',
  'redo',
  'save',
  'save-as',
  'open',
  'new-session',
  'export',
  'add-model-folder',
  'toggle-theme',
  'shortcuts',
  'glossary',
];

/** What a file or folder opened from outside the studio holds (File → Open…, Open Recent, a drop, a double-click, the command line). */
export type OpenedFileKind = 'session' | 'run' | 'model-folder';

export interface OpenedFile {
  path: string;
  kind: OpenedFileKind;
}

export interface FileFilter {
  name: string;
  extensions: string[];
}

export interface FileDialogRequest {
  title: string;
  /** Absolute path: the folder to start in, or the file name to suggest (save). */
  defaultPath?: string;
  filters: FileFilter[];
}

/** What the preload exposes on `window.painter`. */
export interface PainterBridge {
  invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>>;
  onEvent(listener: (name: ApiEventName, payload: unknown) => void): () => void;
  /** Native folder picker (Electron only). */
  pickFolder?(): Promise<string | null>;
  /** Menu commands from the shell (Electron): the renderer runs them. */
  onCommand?(listener: (command: StudioCommand) => void): () => void;
  /** The renderer tells the shell whether closing would lose work (for the close prompt). */
  setUnsavedChanges?(unsaved: boolean): void;
  /** The file system path of a dropped file (Electron's webUtils.getPathForFile); null when it has none. */
  pathForFile?(file: unknown): string | null;
  /** Files and folders opened from outside the page (menu, Open Recent, double-click, command line, a drop); Electron only. */
  onOpenFile?(listener: (file: OpenedFile) => void): () => void;
  /** Paths dropped on the window: the shell sorts them and answers through `onOpenFile` (or says what it cannot open). */
  openPaths?(paths: string[]): void;
  /** The close prompt's "Save…": save (asking where if never saved), then call `closeAfterSave()`; a cancelled save keeps the window. */
  onSaveBeforeClose?(listener: () => void): () => void;
  closeAfterSave?(): void;
  /** Native save dialog: the chosen absolute path, or null when cancelled (Electron only). */
  showSaveDialog?(request: FileDialogRequest): Promise<string | null>;
  /** Native open dialog for one file (Electron only). */
  showOpenDialog?(request: FileDialogRequest): Promise<string | null>;
}
