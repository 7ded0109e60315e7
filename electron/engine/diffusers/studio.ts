/**
 * Latent runs in the studio (issue 10): what the engine service does for a
 * diffusers pipeline beyond what it does for any denoiser — the run's
 * denoiser (its size, its prompt pair), previews through the linear map,
 * VAE decodes kept in an LRU cache, brushes painted on the decoded image
 * moved onto the latent grid, and decoded strips and variation cells.
 */
import type { Brush, DecodedState, GenerateRequest, RunSummary, RunTensors, VariationGrid } from '../../api/contract';
import type { DenoiseCondition } from '../denoisers/types';
import { PainterError } from '../errors';
import type { ImageSpec } from '../manifest';
import { filmstripPng, spreadIndices } from '../export';
import type { RunRecord } from '../runs';
import type { DiffusersPipeline, PipelineDenoiser } from './pipeline';
import { applyPreview, latentColourPush, type PreviewMap } from './preview';

/** The denoiser and condition of a new run of `pipeline`, after checking the request's prompt and size. */
export async function prepareRun(pipeline: DiffusersPipeline, request: GenerateRequest): Promise<{ denoiser: PipelineDenoiser; condition: DenoiseCondition }> {
  const id = pipeline.folder.id;
  if (request.classLabel !== null) throw new PainterError('BAD_ARGUMENT', `Model "${id}" takes no class; leave the class empty.`, { classLabel: request.classLabel });
  const grid = pipeline.gridOf(request.width, request.height);
  if (pipeline.folder.conditioning !== 'text') {
    if (request.prompt !== undefined || request.negativePrompt !== undefined) {
      throw new PainterError('BAD_ARGUMENT', `Model "${id}" is unconditional; it takes no prompt.`);
    }
    return { denoiser: pipeline.denoiser(grid), condition: { labels: [null], guidance: 1 } };
  }
  if (request.prompt === undefined) throw new PainterError('BAD_ARGUMENT', `Model "${id}" needs a prompt ('' is the empty prompt).`);
  const text = await pipeline.textCondition(request.prompt, request.negativePrompt ?? '');
  return { denoiser: pipeline.denoiser(grid, text), condition: { labels: [null], guidance: request.guidance, text } };
}

/** The denoiser a recorded run was made with: its grid and its prompt pair (branches, variations, analyses). */
export async function runDenoiser(pipeline: DiffusersPipeline, summary: RunSummary, image: ImageSpec): Promise<PipelineDenoiser> {
  const { prompt, negativePrompt } = summary.settings;
  const text = pipeline.folder.conditioning === 'text' ? await pipeline.textCondition(prompt ?? '', negativePrompt ?? '') : null;
  return pipeline.denoiser({ height: image.height, width: image.width }, text);
}

/** Every recorded state's preview (RGB at the latent grid's size), stacked like the run's tensors. */
export function runPreview(map: PreviewMap, run: RunRecord): NonNullable<RunTensors['preview']> {
  return {
    image: { channels: 3, height: run.image.height, width: run.image.width, range: [-1, 1] },
    xt: applyPreview(map, run.xt, run.image),
    x0Hat: applyPreview(map, run.x0Hat, run.image),
    map: { weights: map.weights, bias: map.bias },
  };
}

/** The VAE decodes of recorded states, most recently used kept, within a byte budget. */
export class DecodeCache {
  private readonly entries = new Map<string, DecodedState>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  async get(key: { runId: string; step: number; which: 'xt' | 'x0Hat' }, decode: () => Promise<{ image: ImageSpec; values: Float32Array }>): Promise<DecodedState> {
    const name = `${key.runId}\0${key.step}\0${key.which}`;
    const hit = this.entries.get(name);
    if (hit !== undefined) {
      this.entries.delete(name);
      this.entries.set(name, hit);
      return hit;
    }
    const { image, values } = await decode();
    const entry: DecodedState = { ...key, image, values };
    this.entries.set(name, entry);
    this.bytes += values.byteLength;
    for (const [oldest, kept] of this.entries) {
      if (this.bytes <= this.budgetBytes || this.entries.size === 1) break;
      this.entries.delete(oldest);
      this.bytes -= kept.values.byteLength;
    }
    return entry;
  }

  /** Forgets a run's decodes (deleted runs). */
  drop(runId: string): void {
    for (const [name, kept] of this.entries) {
      if (kept.runId !== runId) continue;
      this.entries.delete(name);
      this.bytes -= kept.values.byteLength;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** One recorded state of a latent run decoded by the VAE. */
export async function decodeRunState(pipeline: DiffusersPipeline, run: RunRecord, step: number, which: 'xt' | 'x0Hat'): Promise<{ image: ImageSpec; values: Float32Array }> {
  if (pipeline.vae === null) throw new PainterError('BAD_ARGUMENT', `Model "${run.summary.modelId}" works on pixels; its states need no decoding.`);
  const dim = run.image.channels * run.image.height * run.image.width;
  if (!Number.isInteger(step) || step < 0 || step >= run.summary.stepCount) {
    throw new PainterError('BAD_ARGUMENT', `Run ${run.summary.runId} has states 0 to ${run.summary.stepCount - 1}; got ${step}.`, { step });
  }
  const source = which === 'xt' ? run.xt : run.x0Hat;
  const values = await pipeline.vae.decode(source.slice(step * dim, (step + 1) * dim), run.image);
  return { image: pipeline.vae.imageOf(run.image), values };
}

/**
 * A brush painted on the decoded image, moved onto the latent grid: points
 * and radius divided by the VAE's scale; a colour push (1 or 3 values) becomes
 * the latent push with that preview colour (the map's pseudo-inverse).
 */
export function latentBrush(brush: Brush, scale: number, map: PreviewMap | null): Brush {
  const moved: Brush = {
    ...brush,
    points: brush.points.map(({ x, y }) => ({ x: x / scale, y: y / scale })),
    radius: brush.radius / scale,
    ...(brush.grain !== undefined ? { grain: brush.grain / scale } : {}),
  };
  if (brush.kind === 'intensity') {
    if (map === null) throw new PainterError('BAD_ARGUMENT', 'A colour push on a latent run needs the preview map, which this model has none of.');
    moved.color = latentColourPush(map, brush.color ?? [1]);
  }
  return moved;
}

/** A variation grid's cells decoded at the run's decoded size (contract.ts, VariationGrid.decoded). */
export async function decodeVariationGrid(pipeline: DiffusersPipeline, grid: VariationGrid, latent: ImageSpec): Promise<VariationGrid> {
  if (pipeline.vae === null) return grid;
  const images = await pipeline.vae.decode(grid.images, latent);
  return { ...grid, decoded: { image: pipeline.vae.imageOf(latent), images } };
}

/**
 * A latent run as decoded images, for the exports (strips, animations): the
 * same run with `image` the decoded size and the states at `indices` of each
 * layer decoded by `decode` (the others left black, never shown). States are
 * stored as what is shown, so x_t is marked VP (drawn without rescaling).
 */
export async function decodedRecord(
  run: RunRecord,
  layers: ReadonlyArray<'xt' | 'x0Hat'>,
  indices: readonly number[],
  decode: (step: number, which: 'xt' | 'x0Hat') => Promise<{ image: ImageSpec; values: Float32Array }>,
): Promise<RunRecord> {
  let image: ImageSpec | null = null;
  const tensors: Record<'xt' | 'x0Hat', Float32Array | null> = { xt: null, x0Hat: null };
  for (const which of layers) {
    for (const step of indices) {
      const decoded = await decode(step, which);
      image ??= decoded.image;
      tensors[which] ??= new Float32Array(run.summary.stepCount * decoded.values.length);
      tensors[which]!.set(decoded.values, step * decoded.values.length);
    }
  }
  if (image === null) throw new PainterError('BAD_ARGUMENT', 'An export needs at least one state.');
  const empty = new Float32Array(run.summary.stepCount * image.channels * image.height * image.width);
  return { ...run, summary: { ...run.summary, convention: 'vp' }, image, xt: tensors.xt ?? empty, x0Hat: tensors.x0Hat ?? empty };
}

/**
 * A PNG strip of decoded states: `frames` states spread over the run (first
 * and last included), x̂0 above x_t when `layer` is `both`.
 */
export async function decodedStripPng(pipeline: DiffusersPipeline, run: RunRecord, layer: 'x0Hat' | 'xt' | 'both', frames: number, scale = 1): Promise<Uint8Array> {
  const indices = spreadIndices(run.summary.stepCount, frames);
  const record = await decodedRecord(run, layer === 'both' ? ['x0Hat', 'xt'] : [layer], indices, (step, which) => decodeRunState(pipeline, run, step, which));
  return filmstripPng(record, layer, frames, scale);
}
