/**
 * `painter stats`: Gaussian statistics of a diffusers pipeline's latents
 * (engine/diffusers/stats.ts), saved in Painter's data folder beside the
 * model's registration, where the Gaussian ghost and the theory lab find them.
 *
 *   painter stats --model ID|FOLDER --images DIR [--rank K]
 *   painter stats --model ID|FOLDER --from-samples N [--prompt P] [--negative-prompt P]
 *                 [--guidance G] [--steps N] [--sampler S] [--seed S] [--rank K]
 */
import { resolve } from 'node:path';
import { SAMPLER_NAMES, type SamplerName } from '../api/contract';
import { resolveModel } from '../engine/analysis/resources';
import {
  gaussianStatistics,
  imageFiles,
  latentStatsPath,
  latentsOfImages,
  latentsOfSamples,
  MAX_STATS_SAMPLES,
  writeLatentStats,
} from '../engine/diffusers/stats';
import { PainterError, quoteText } from '../engine/errors';
import type { Engine } from '../engine/service';
import { integerFlag, numberFlag, parseFlags, requiredFlag } from './args';

function progress(what: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (!process.stderr.isTTY) return;
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    process.stderr.write(`\r\x1b[K${what} ${done}/${total}`);
    if (done >= total) process.stderr.write('\r\x1b[K');
  };
}

export async function commandStats(args: string[], engine: Engine): Promise<void> {
  const flags = parseFlags(
    args,
    { values: ['model', 'images', 'from-samples', 'rank', 'prompt', 'negative-prompt', 'guidance', 'steps', 'sampler', 'seed'], switches: [] },
    'stats',
  );
  const images = flags.values.get('images');
  const fromSamples = flags.values.get('from-samples');
  if ((images === undefined) === (fromSamples === undefined)) {
    throw new PainterError('BAD_ARGUMENT', 'stats needs exactly one of --images DIR (encode your images) or --from-samples N (generate N samples).');
  }
  const dataDir = engine.registry.dataDir;
  if (dataDir === undefined) throw new PainterError('INTERNAL', 'stats: this engine has no data folder to save statistics in.');
  const { model } = await resolveModel(engine.registry, requiredFlag(flags, 'model', 'stats'));
  if (model.manifest.kind !== 'diffusers') {
    throw new PainterError('BAD_ARGUMENT', `Model "${model.manifest.id}" is a ${model.manifest.kind} model; stats computes the statistics of diffusers pipelines (other models name theirs in their manifest).`, {
      id: model.manifest.id,
    });
  }
  const pipeline = await engine.registry.loadPipeline(model.manifest.id);
  const grid = pipeline.gridImage();
  const dim = grid.channels * grid.height * grid.width;
  const rank = integerFlag(flags, 'rank', 64, 1, dim);

  let latents: Float32Array;
  let count: number;
  let source: string;
  if (images !== undefined) {
    const folder = resolve(images);
    const files = imageFiles(folder);
    if (files.length > MAX_STATS_SAMPLES) throw new PainterError('BAD_ARGUMENT', `--images: ${quoteText(folder)} holds ${files.length} PNG images; stats reads at most ${MAX_STATS_SAMPLES}.`);
    count = files.length;
    source = `images: ${folder}`;
    latents = await latentsOfImages(pipeline, files, { onProgress: progress('encoding image') });
  } else {
    count = integerFlag(flags, 'from-samples', 0, 2, MAX_STATS_SAMPLES);
    const sampler = (flags.values.get('sampler') ?? 'euler') as SamplerName;
    if (!SAMPLER_NAMES.includes(sampler)) throw new PainterError('BAD_ARGUMENT', `--sampler must be one of ${SAMPLER_NAMES.join(', ')}; got "${sampler}".`);
    const text = pipeline.folder.conditioning === 'text';
    const options = {
      count,
      steps: integerFlag(flags, 'steps', 30, 1, 1000),
      sampler,
      seed: integerFlag(flags, 'seed', 0, 0, 2 ** 31 - MAX_STATS_SAMPLES),
      prompt: flags.values.get('prompt') ?? '',
      negativePrompt: flags.values.get('negative-prompt') ?? '',
      guidance: numberFlag(flags, 'guidance', text ? 7.5 : 1, 0, 100),
    };
    source = `samples: ${count} × ${options.steps} ${sampler} steps, seeds ${options.seed}…${options.seed + count - 1}${text ? `, prompt ${JSON.stringify(options.prompt)}, negative ${JSON.stringify(options.negativePrompt)}, guidance ${options.guidance}` : ''}`;
    latents = await latentsOfSamples(pipeline, { ...options, onProgress: progress('sample') });
  }

  const stats = gaussianStatistics(latents, count, dim, rank);
  const path = latentStatsPath(dataDir, model.manifest.id);
  writeLatentStats(path, stats, { folder: model.folder, registration: model.manifestHash, source, image: grid });
  const captured = stats.eigvals.reduce((sum, v) => sum + v, 0);
  const space = pipeline.vae !== null ? 'latents' : 'pixels';
  process.stdout.write(`Wrote ${path}\n`);
  process.stdout.write(`${count} ${space} of ${grid.channels}×${grid.height}×${grid.width} (D = ${dim}) from ${source}\n`);
  process.stdout.write(`mean |μ| ${Math.sqrt(stats.mean.reduce((s, v) => s + v * v, 0) / dim).toPrecision(3)} (rms), variance per dimension ${(stats.totalVariance / dim).toPrecision(3)}\n`);
  process.stdout.write(
    `top ${stats.eigvals.length} eigenvalues hold ${((100 * captured) / Math.max(stats.totalVariance, 1e-300)).toFixed(1)} % of the variance (λ1 = ${stats.eigvals[0]?.toPrecision(3) ?? '—'}); residual variance ${stats.residualVariance.toPrecision(3)}\n`,
  );
  process.stdout.write(`The Gaussian ghost and the theory lab of "${model.manifest.id}" now use these statistics.\n`);
}
