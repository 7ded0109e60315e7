/**
 * A diffusers pipeline as the engine's Denoiser (DESIGN.md §2, σ form):
 * x̂0 = D(x, σ) over the latent grid (or the pixels of an unconditional
 * pixel pipeline), conditioned on text through {@link TextCondition}.
 *
 * The UNet sees x_t = α_t·x at the discrete timestep whose σ is nearest (the
 * scheduler's own grid, so DDIM and Euler walk exactly diffusers' timesteps),
 * and its ε / v / x0 output becomes x̂0 with that timestep's α_t, σ_t.
 * Classifier-free guidance, D = D_u + g·(D_c − D_u), runs the prompt and the
 * negative prompt in one UNet call when the graph's batch is dynamic; as in
 * diffusers, a guidance of 1 or less means none (the prompt alone, one call).
 */
import type { ProviderChoice } from '../../api/contract';
import type { DenoiseCondition, Denoiser, TextCondition } from '../denoisers/types';
import { combineGuidance } from '../denoisers/guidance';
import { PainterError } from '../errors';
import { quoteText } from '../files';
import type { ImageSpec, PredictionType } from '../manifest';
import { vpAlpha, type NoiseSchedule } from '../schedules';
import type { DiffusersFolder } from './folder';
import { isDynamic, OnnxPart, type Feed } from './onnx-part';
import { parseSchedulerConfig, predictionOf, scheduleFromConfig, type DiffusersSchedule } from './scheduler-config';
import { ClipTokenizer } from './tokenizer';
import { Vae } from './vae';

const FLOATS = ['float32', 'float16'] as const;
/** Latents of Stable Diffusion's VAE, scaled by `scaling_factor`, have about unit variance. */
export const LATENT_RANGE: [number, number] = [-1, 1];
/** Prompts whose text states are kept (a run needs two; a session revisits a few). */
const PROMPTS_KEPT = 64;
/** Latent runs may ask for decoded sizes up to this many pixels a side. */
export const MAX_DECODED_SIZE = 2048;

export interface PipelineLoadOptions {
  provider?: ProviderChoice;
  onNotice?: (message: string) => void;
}

/** The timestep the UNet is fed at σ (diffusers' own, scheduler-config.ts), and the σ it stands for. */
function unetTimestep(schedule: DiffusersSchedule, sigma: number): { timestep: number; sigma: number } {
  return { timestep: schedule.timestepOf(sigma), sigma: schedule.networkSigma(sigma) };
}

export class DiffusersPipeline {
  readonly schedule: DiffusersSchedule;
  readonly prediction: PredictionType;
  /** DDIM / DDPM `clip_sample`: x̂0 is clipped to ±this at every step (null: not clipped). */
  readonly clipSample: number | null;
  /** Channels of the UNet's sample (4 for Stable Diffusion latents, 3 for a pixel pipeline). */
  readonly channels: number;
  /** The UNet's default grid (latent cells, or pixels for a pixel pipeline). */
  readonly defaultSize: { height: number; width: number };
  /** Fixed sizes of the graph, when it has them (then only that size runs). */
  readonly fixedSize: { height: number; width: number } | null;
  /** The UNet's fixed batch, or null for a dynamic one. */
  readonly fixedBatch: number | null;
  /** The UNet's timestep input: one value for the batch, or one per row. */
  private readonly timestepPerRow: boolean;
  private readonly timestepRank: number;
  /** Prompt states by prompt text (the text encoder runs once per prompt). */
  private readonly encoded = new Map<string, Promise<Float32Array>>();
  /** Text states of several rows stacked for one UNet call, by the first row's states (see stackStates). */
  private readonly stacked = new WeakMap<Float32Array, { rows: Float32Array[]; data: Float32Array }[]>();
  /** Text encoder output: tokens × width. */
  textShape: { tokens: number; width: number } | null = null;
  /** UNet calls so far (a guidance pair batched together counts once). */
  forwardCalls = 0;

  private constructor(
    readonly folder: DiffusersFolder,
    private readonly unet: OnnxPart,
    private readonly textEncoder: OnnxPart | null,
    readonly tokenizer: ClipTokenizer | null,
    readonly vae: Vae | null,
  ) {
    const config = parseSchedulerConfig(folder.schedulerJson, folder.parts.schedulerConfig);
    this.schedule = scheduleFromConfig(config);
    this.prediction = predictionOf(config.predictionType);
    this.clipSample = config.clipSample ? config.clipSampleRange : null;
    const sample = unet.expect('input', 'sample', FLOATS, [4], 'the noisy sample [batch, channels, height, width]');
    const [batch, channels, height, width] = sample.shape;
    this.channels = typeof channels === 'number' && channels > 0 ? channels : (folder.unetChannels ?? (folder.conditioning === 'text' ? 4 : 3));
    const latentChannels = folder.latentChannels ?? (folder.parts.vaeDecoder !== null ? 4 : null);
    if (latentChannels !== null && this.channels !== latentChannels) {
      throw new PainterError(
        'BAD_MODEL',
        `${quoteText(unet.path)} takes ${this.channels}-channel samples but the VAE's latents have ${latentChannels} channels (an inpainting or image-conditioned UNet?); Painter runs text-to-image UNets whose sample is the latent itself.`,
        { path: unet.path, channels: this.channels, latentChannels },
      );
    }
    this.fixedBatch = isDynamic(batch) ? null : (batch as number);
    this.fixedSize = isDynamic(height) || isDynamic(width) ? null : { height: height as number, width: width as number };
    const fallback = folder.sampleSize ?? (folder.parts.vaeDecoder !== null ? 64 : 32);
    this.defaultSize = this.fixedSize ?? { height: fallback, width: fallback };
    const timestep = unet.expect('input', 'timestep', ['int64', 'int32', 'float32', 'float16', 'float64'], [0, 1], 'the timestep ([] , [1] or [batch])');
    this.timestepRank = timestep.shape.length;
    this.timestepPerRow = timestep.shape.length === 1 && isDynamic(timestep.shape[0]);
    unet.expect('output', 'out_sample', FLOATS, [4], 'the UNet output [batch, channels, height, width]');
    const described = new Set(['sample', 'timestep']);
    let unetTextWidth: number | null = null;
    if (folder.conditioning === 'text') {
      const hidden = unet.expect('input', 'encoder_hidden_states', FLOATS, [3], "the text encoder's states [batch, tokens, width]");
      if (!isDynamic(hidden.shape[2])) unetTextWidth = hidden.shape[2] as number;
      described.add('encoder_hidden_states');
    }
    const extra = unet.inputs().filter((entry) => !described.has(entry.name));
    if (extra.length > 0) {
      throw new PainterError(
        'BAD_MODEL',
        `${quoteText(unet.path)} has input${extra.length > 1 ? 's' : ''} ${extra.map((e) => `"${e.name}"`).join(', ')} that a ${folder.conditioning === 'text' ? 'text-to-image' : 'unconditional'} diffusers UNet does not take; expected ${[...described].map((n) => `"${n}"`).join(', ')}.`,
        { path: unet.path, inputs: extra.map((e) => e.name) },
      );
    }
    if (textEncoder !== null) {
      textEncoder.expect('input', 'input_ids', ['int64', 'int32'], [2], 'the token ids [batch, tokens]');
      const states = textEncoder.expect('output', 'last_hidden_state', FLOATS, [3], 'the text states [batch, tokens, width]');
      const extraText = textEncoder.inputs().filter((entry) => entry.name !== 'input_ids');
      if (extraText.length > 0) {
        throw new PainterError('BAD_MODEL', `${quoteText(textEncoder.path)} has input${extraText.length > 1 ? 's' : ''} ${extraText.map((e) => `"${e.name}"`).join(', ')}; expected only "input_ids".`, {
          path: textEncoder.path,
        });
      }
      const [, tokens, stateWidth] = states.shape;
      if (!isDynamic(tokens) && !isDynamic(stateWidth)) this.textShape = { tokens: tokens as number, width: stateWidth as number };
      if (unetTextWidth !== null && !isDynamic(stateWidth) && stateWidth !== unetTextWidth) {
        throw new PainterError(
          'BAD_MODEL',
          `${quoteText(textEncoder.path)} gives ${String(stateWidth)}-wide states but ${quoteText(unet.path)} reads ${unetTextWidth}-wide encoder_hidden_states; the text encoder and the UNet are not from the same pipeline.`,
          { path: textEncoder.path, width: stateWidth, expected: unetTextWidth },
        );
      }
    }
  }

  static async load(folder: DiffusersFolder, options: PipelineLoadOptions = {}): Promise<DiffusersPipeline> {
    let provider: ProviderChoice = options.provider ?? 'cpu';
    const opened: OnnxPart[] = [];
    const open = async (path: string, role: string): Promise<OnnxPart> => {
      const part = await OnnxPart.open(path, `the ${role} of "${folder.id}"`, provider, options.onNotice);
      opened.push(part);
      // The other parts run where the first one could (one fallback notice per pipeline, not per graph).
      provider = part.provider as ProviderChoice;
      return part;
    };
    try {
      // The tokenizer first: a broken one is refused before any large graph loads.
      const tokenizer = folder.parts.tokenizer !== null ? ClipTokenizer.load(folder.parts.tokenizer) : null;
      const unet = await open(folder.parts.unet, 'UNet');
      const textEncoder = folder.parts.textEncoder !== null ? await open(folder.parts.textEncoder, 'text encoder') : null;
      const decoder = folder.parts.vaeDecoder !== null ? await open(folder.parts.vaeDecoder, 'VAE decoder') : null;
      const encoder = folder.parts.vaeEncoder !== null ? await open(folder.parts.vaeEncoder, 'VAE encoder') : null;
      const vae = decoder !== null ? new Vae(decoder, encoder, folder.scalingFactor, folder.vaeScale) : null;
      return new DiffusersPipeline(folder, unet, textEncoder, tokenizer, vae);
    } catch (error) {
      await Promise.all(opened.map((part) => part.dispose()));
      throw error;
    }
  }

  get provider(): string {
    return this.unet.provider;
  }

  get notices(): string[] {
    return [this.unet, this.textEncoder, this.vae?.decoder, this.vae?.encoder].flatMap((part) => (part ? [...part.notices] : []));
  }

  /** Grid cells per unit of size a run may ask for: the UNet's coarsest level must be whole. */
  get gridMultiple(): number {
    return this.fixedSize === null ? this.folder.unetDownsampling : 1;
  }

  /** The spec of the UNet's grid at `size` (latent cells, or pixels). */
  gridImage(size: { height: number; width: number } = this.defaultSize): ImageSpec {
    return { channels: this.channels, height: size.height, width: size.width, range: LATENT_RANGE };
  }

  /** The text states of one prompt ([tokens·width] float32), encoded once and kept. */
  encodePrompt(prompt: string): Promise<Float32Array> {
    let pending = this.encoded.get(prompt);
    if (pending === undefined) {
      pending = this.runTextEncoder(prompt);
      pending.catch(() => this.encoded.delete(prompt));
      // The most recently used prompts are kept (SD's states are 236 KB each).
      if (this.encoded.size >= PROMPTS_KEPT) this.encoded.delete(this.encoded.keys().next().value!);
    } else {
      this.encoded.delete(prompt);
    }
    this.encoded.set(prompt, pending);
    return pending;
  }

  private async runTextEncoder(prompt: string): Promise<Float32Array> {
    if (this.textEncoder === null || this.tokenizer === null) throw new PainterError('BAD_ARGUMENT', `Model "${this.folder.id}" takes no prompt.`);
    const { ids } = this.tokenizer.encode(prompt);
    const { data, dims } = await this.textEncoder.run({ input_ids: { values: ids, dims: [1, ids.length] } }, 'last_hidden_state');
    this.textShape = { tokens: dims[1]!, width: dims[2]! };
    return data;
  }

  /** The prompt and negative prompt's states, for a whole run. */
  async textCondition(prompt: string, negativePrompt: string): Promise<TextCondition> {
    const [cond, uncond] = await Promise.all([this.encodePrompt(prompt), this.encodePrompt(negativePrompt)]);
    return { cond, uncond, tokens: this.textShape!.tokens, width: this.textShape!.width };
  }

  /** Checks a run's size (in pixels of the decoded image) and returns its grid. */
  gridOf(width: number | undefined, height: number | undefined): { height: number; width: number } {
    const scale = this.folder.vaeScale;
    const multiple = scale * this.gridMultiple;
    const pixels = { height: height ?? this.defaultSize.height * scale, width: width ?? this.defaultSize.width * scale };
    for (const [name, value] of Object.entries(pixels)) {
      if (!Number.isInteger(value) || value < multiple || value > MAX_DECODED_SIZE || value % multiple !== 0) {
        throw new PainterError('BAD_ARGUMENT', `The ${name} must be a multiple of ${multiple} from ${multiple} to ${MAX_DECODED_SIZE} pixels for model "${this.folder.id}"; got ${value}.`, { [name]: value, multiple });
      }
    }
    const grid = { height: pixels.height / scale, width: pixels.width / scale };
    if (this.fixedSize !== null && (grid.height !== this.fixedSize.height || grid.width !== this.fixedSize.width)) {
      throw new PainterError(
        'BAD_ARGUMENT',
        `Model "${this.folder.id}" was exported at ${this.fixedSize.width * scale}×${this.fixedSize.height * scale} only; got ${pixels.width}×${pixels.height}.`,
        { width: pixels.width, height: pixels.height },
      );
    }
    return grid;
  }

  /** A Denoiser over the grid at `size`; `text` conditions calls that bring none (branches, analyses of a run). */
  denoiser(size: { height: number; width: number } = this.defaultSize, text: TextCondition | null = null): PipelineDenoiser {
    return new PipelineDenoiser(this, this.gridImage(size), text);
  }

  /**
   * x̂0 of a batch: row b is x's row b mod B (x in σ form, [B·C·H·W], at
   * σ = sigmas[b mod B]) under the text state `states[b]` (null for an
   * unconditional pipeline). More states than rows of x run x again under the
   * other states: guidance's prompt pair without a copy of x.
   */
  async predict(x: Float32Array, sigmas: ArrayLike<number>, image: ImageSpec, states: ReadonlyArray<Float32Array | null>): Promise<Float32Array> {
    const dim = image.channels * image.height * image.width;
    const batch = states.length;
    const out = new Float32Array(batch * dim);
    const given = x.length / dim;
    let start = 0;
    while (start < batch) {
      let end = this.fixedBatch === null ? batch : Math.min(batch, start + this.fixedBatch);
      if (!this.timestepPerRow) {
        // One timestep for the call: rows that share σ.
        let same = start + 1;
        while (same < end && sigmas[same % given] === sigmas[start % given]) same++;
        end = same;
      }
      const { feeds, used, rows } = this.unetFeeds(x, sigmas, image, states, start, end);
      const { data } = await this.unet.run(feeds, 'out_sample');
      if (data.length !== rows * dim) {
        throw new PainterError('BAD_MODEL', `${quoteText(this.folder.parts.unet)}: out_sample has ${data.length} values; expected ${rows}×${dim}.`, { path: this.folder.parts.unet });
      }
      this.toX0(feeds['sample']!.values as Float32Array, data, used, end - start, dim, out.subarray(start * dim, end * dim));
      start = end;
    }
    this.forwardCalls++;
    return out;
  }

  /**
   * The UNet's inputs for rows `start` to `end` of {@link predict}'s batch (padded
   * to a fixed batch with the last row) and the σ each row stands for. The
   * benchmark feeds its bare UNet calls these same inputs (bench/diffusers-bench.ts).
   */
  unetFeeds(
    x: Float32Array,
    sigmas: ArrayLike<number>,
    image: ImageSpec,
    states: ReadonlyArray<Float32Array | null>,
    start: number,
    end: number,
  ): { feeds: Record<string, Feed>; used: Float64Array; rows: number } {
    const dim = image.channels * image.height * image.width;
    const given = x.length / dim;
    const count = end - start;
    const rows = this.fixedBatch ?? count;
    const input = new Float32Array(rows * dim);
    const used = new Float64Array(rows);
    const timesteps = new Array<number>(rows);
    const rowStates = new Array<Float32Array | null>(rows);
    for (let r = 0; r < rows; r++) {
      const b = start + Math.min(r, count - 1);
      const source = b % given;
      const { timestep, sigma } = unetTimestep(this.schedule, sigmas[source]!);
      used[r] = sigma;
      timesteps[r] = timestep;
      rowStates[r] = states[b]!;
      const alpha = vpAlpha(sigma);
      for (let i = 0, k = r * dim, j = source * dim; i < dim; i++) input[k + i] = x[j + i]! * alpha;
    }
    const feeds: Record<string, Feed> = {
      sample: { values: input, dims: [rows, image.channels, image.height, image.width] },
      timestep: this.timestepRank === 0 ? { values: [timesteps[0]!], dims: [] } : this.timestepPerRow ? { values: timesteps, dims: [rows] } : { values: [timesteps[0]!], dims: [1] },
    };
    if (this.folder.conditioning === 'text') {
      const shape = this.textShape!;
      feeds['encoder_hidden_states'] = { values: this.stackStates(rowStates as Float32Array[]), dims: [rows, shape.tokens, shape.width], constant: true };
    }
    return { feeds, used, rows };
  }

  /**
   * The text states of a call's rows, one after the other: a prompt's own
   * states for one row, otherwise made once per combination (guidance's
   * [prompt; negative prompt]) and kept while the prompt's states live, so
   * neither the copy nor its float16 conversion is repeated at every step.
   */
  private stackStates(rows: readonly Float32Array[]): Float32Array {
    const first = rows[0]!;
    if (rows.length === 1) return first;
    let stacks = this.stacked.get(first);
    if (stacks === undefined) {
      stacks = [];
      this.stacked.set(first, stacks);
    }
    const found = stacks.find((stack) => stack.rows.length === rows.length && stack.rows.every((state, r) => state === rows[r]));
    if (found !== undefined) return found.data;
    const data = new Float32Array(rows.length * first.length);
    rows.forEach((state, r) => data.set(state, r * first.length));
    stacks.push({ rows: [...rows], data });
    return data;
  }

  /**
   * x̂0 into `x0` ([count·dim]) from the UNet's output: VP x_t = α x0 + s ε with
   * α = 1/sqrt(1+σ²), s = σα (DESIGN.md §2).
   */
  private toX0(modelInput: Float32Array, output: Float32Array, sigmas: Float64Array, count: number, dim: number, x0: Float32Array): void {
    for (let r = 0; r < count; r++) {
      const alpha = vpAlpha(sigmas[r]!);
      const s = sigmas[r]! * alpha;
      const begin = r * dim;
      const stop = begin + dim;
      if (this.prediction === 'x0') x0.set(output.subarray(begin, stop), begin);
      else if (this.prediction === 'epsilon') for (let k = begin; k < stop; k++) x0[k] = (modelInput[k]! - s * output[k]!) / alpha;
      else for (let k = begin; k < stop; k++) x0[k] = alpha * modelInput[k]! - s * output[k]!;
    }
    const clip = this.clipSample;
    if (clip !== null) for (let k = 0; k < x0.length; k++) x0[k] = Math.min(clip, Math.max(-clip, x0[k]!));
  }

  async dispose(): Promise<void> {
    await Promise.all([this.unet, this.textEncoder, this.vae?.decoder, this.vae?.encoder].map((part) => part?.dispose()));
  }
}

/** The pipeline at one grid size, optionally bound to a run's prompt pair. */
export class PipelineDenoiser implements Denoiser {
  readonly dim: number;
  readonly classes = null;
  readonly unconditional = true;

  constructor(
    readonly pipeline: DiffusersPipeline,
    readonly image: ImageSpec,
    readonly text: TextCondition | null,
  ) {
    this.dim = image.channels * image.height * image.width;
  }

  get schedule(): NoiseSchedule {
    return this.pipeline.schedule;
  }

  get provider(): string {
    return this.pipeline.provider;
  }

  /** The same pipeline at another grid size (the denoiser of a run of that size). */
  withImage(image: ImageSpec, text: TextCondition | null = this.text): PipelineDenoiser {
    return new PipelineDenoiser(this.pipeline, image, text);
  }

  async denoise(x: Float32Array, sigmas: ArrayLike<number>, condition?: DenoiseCondition): Promise<Float32Array> {
    const batch = x.length / this.dim;
    if (!Number.isInteger(batch)) throw new PainterError('BAD_ARGUMENT', `A batch for this ${this.image.height}×${this.image.width} grid needs a multiple of ${this.dim} values; got ${x.length}.`);
    if (this.pipeline.folder.conditioning !== 'text') return this.pipeline.predict(x, sigmas, this.image, new Array<null>(batch).fill(null));
    const text = condition?.text ?? this.text;
    if (text === undefined || text === null) throw new PainterError('BAD_ARGUMENT', `Model "${this.pipeline.folder.id}" needs a prompt ('' is the empty prompt).`);
    const guidance = condition?.guidance ?? 1;
    // As diffusers' pipelines: guidance ≤ 1 is no guidance, the prompt alone in one call (SD-Turbo runs at 0).
    if (guidance <= 1) return this.pipeline.predict(x, sigmas, this.image, new Array<Float32Array>(batch).fill(text.cond));
    // Prompt and negative prompt in one call ([cond; uncond]), as diffusers batches them.
    const both = await this.pipeline.predict(x, sigmas, this.image, [...new Array<Float32Array>(batch).fill(text.cond), ...new Array<Float32Array>(batch).fill(text.uncond)]);
    return combineGuidance(both.subarray(x.length), both.subarray(0, x.length), guidance);
  }

  async dispose(): Promise<void> {
    // Views share the pipeline's sessions; the registry disposes the pipeline.
  }
}
