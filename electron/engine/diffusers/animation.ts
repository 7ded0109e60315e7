/**
 * The timeline animation (GIF) of a latent run: every recorded state decoded
 * by the pipeline's VAE, the layers side by side, as `timelineGif` draws a
 * pixel run's states (engine/export.ts). The latents themselves are no
 * picture, so a latent run's animation is always of decodes.
 */
import { encodeGif } from '../gif';
import { imageToRaster, rasterGrid, type Raster } from '../png';
import { PainterError } from '../errors';
import type { RunRecord } from '../runs';
import type { DiffusersPipeline } from './pipeline';

/** States decoded per VAE call: batches bound the memory of a large decode (8 × 3×512×512 floats is 25 MB). */
const DECODE_BATCH = 8;

export async function decodedTimelineGif(pipeline: DiffusersPipeline, run: RunRecord, layer: 'x0Hat' | 'xt' | 'both', frameMs: number): Promise<Uint8Array> {
  const vae = pipeline.vae;
  if (vae === null) throw new PainterError('BAD_ARGUMENT', `Model "${run.summary.modelId}" works on pixels; its animation needs no decoding.`);
  const which: Array<'x0Hat' | 'xt'> = layer === 'both' ? ['x0Hat', 'xt'] : [layer];
  const { stepCount } = run.summary;
  const dim = run.image.channels * run.image.height * run.image.width;
  const decoded = vae.imageOf(run.image);
  const decodedDim = decoded.channels * decoded.height * decoded.width;
  const rasters = new Map<'x0Hat' | 'xt', Raster[]>();
  for (const name of which) {
    const source = name === 'xt' ? run.xt : run.x0Hat;
    const frames: Raster[] = [];
    for (let first = 0; first < stepCount; first += DECODE_BATCH) {
      const count = Math.min(DECODE_BATCH, stepCount - first);
      const values = await vae.decode(source.slice(first * dim, (first + count) * dim), run.image);
      for (let i = 0; i < count; i++) frames.push(imageToRaster(values, i * decodedDim, decoded));
    }
    rasters.set(name, frames);
  }
  const frames = Array.from({ length: stepCount }, (_, index) =>
    rasterGrid(
      which.map((name) => rasters.get(name)![index]!),
      which.length,
      1,
      which.length > 1 ? 2 : 0,
    ),
  );
  return encodeGif(frames, frameMs);
}
