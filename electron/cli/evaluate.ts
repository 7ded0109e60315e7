/**
 * `painter evaluate --model ID [--samples N] [--conditional N] [--steps N] [--sampler S]
 *                   [--guidance 1,2,4] [--json OUT.json] [--grid PREFIX]`
 *
 * Scores a model with its judge (manifest field `judge`) and writes sample
 * grids: PREFIX-classes.png (one row per class) and PREFIX-unconditional.png.
 */
import { resolve } from 'node:path';
import { SAMPLER_NAMES, type SamplerName } from '../api/contract';
import { integerFlag, parseFlags, requiredFlag } from './args';
import { PainterError } from '../engine/errors';
import { Judge } from '../engine/judge';
import { encodePng, imageToRaster, rasterGrid } from '../engine/png';
import { evaluateQuality, sampleFinalImages } from '../engine/quality';
import { writeFileAtomic } from '../engine/safetensors';
import type { Engine } from '../engine/service';
import type { Denoiser } from '../engine/denoisers/types';
import { checkOverwrite, JSON_GENERATOR } from './overwrite';

async function writeGrids(denoiser: Denoiser, prefix: string, steps: number, sampler: SamplerName, guidance: number): Promise<string[]> {
  const written: string[] = [];
  const classes = denoiser.classes?.length ?? 0;
  const columns = 10;
  const scale = Math.max(1, Math.floor(64 / denoiser.image.width));
  const grid = (images: Float32Array, count: number): Uint8Array =>
    encodePng(rasterGrid(Array.from({ length: count }, (_, i) => imageToRaster(images, i * denoiser.dim, denoiser.image)), columns, scale));
  if (classes > 0) {
    const count = classes * columns;
    const images = await sampleFinalImages(denoiser, { count, steps, sampler, labelOf: (i) => Math.floor(i / columns), guidance, seedBase: 7 });
    const path = resolve(`${prefix}-classes.png`);
    writeFileAtomic(path, grid(images, count));
    written.push(path);
  }
  if (denoiser.unconditional) {
    const count = 100;
    const images = await sampleFinalImages(denoiser, { count, steps, sampler, labelOf: () => null, guidance: 1, seedBase: 11 });
    const path = resolve(`${prefix}-unconditional.png`);
    writeFileAtomic(path, grid(images, count));
    written.push(path);
  }
  return written;
}

export async function commandEvaluate(args: string[], engine: Engine): Promise<void> {
  const flags = parseFlags(args, { values: ['model', 'samples', 'conditional', 'steps', 'sampler', 'guidance', 'json', 'grid'], switches: ['force'] }, 'evaluate');
  const force = flags.switches.has('force');
  const modelId = requiredFlag(flags, 'model', 'evaluate');
  const sampler = (flags.values.get('sampler') ?? 'euler') as SamplerName;
  if (!SAMPLER_NAMES.includes(sampler)) throw new PainterError('BAD_ARGUMENT', `--sampler must be one of ${SAMPLER_NAMES.join(', ')}.`);
  const guidances = (flags.values.get('guidance') ?? '1,2,4').split(',').map((text) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new PainterError('BAD_ARGUMENT', `--guidance must be a comma-separated list of numbers; got "${text}".`);
    return value;
  });
  const steps = integerFlag(flags, 'steps', 50, 1, 1000);
  const grid = flags.values.get('grid');
  const json = flags.values.get('json');
  const gridGuidance = guidances.includes(2) ? 2 : (guidances[0] ?? 1);
  if (json !== undefined) checkOverwrite(resolve(json), 'json', '--json', force, JSON_GENERATOR.evaluate);
  if (grid !== undefined) for (const suffix of ['classes', 'unconditional']) checkOverwrite(resolve(`${grid}-${suffix}.png`), 'png', '--grid', force);
  const emit = (result: object): void => {
    const text = JSON.stringify({ generator: JSON_GENERATOR.evaluate, model: modelId, ...result }, null, 2);
    if (json !== undefined) writeFileAtomic(resolve(json), Buffer.from(`${text}\n`));
    process.stdout.write(`${text}\n`);
  };
  const judgeFolder = engine.registry.judgePath(modelId);
  if (judgeFolder === null) {
    // A model without a judge (the emoji network) can still get its engine-made sample grids.
    if (grid === undefined) {
      throw new PainterError('BAD_ARGUMENT', `Model "${modelId}" names no judge network (manifest field "judge"); only --grid works without one.`);
    }
    emit({ judge: null, grids: await writeGrids(await engine.registry.load(modelId), grid, steps, sampler, gridGuidance) });
    return;
  }
  const denoiser = await engine.registry.load(modelId);
  const judge = await Judge.load(judgeFolder);
  try {
    const report = await evaluateQuality(denoiser, judge, {
      steps,
      sampler,
      conditionalCount: integerFlag(flags, 'conditional', 1000, 0, 100000),
      guidances,
      unconditionalCount: integerFlag(flags, 'samples', 10000, 0, 100000),
      onProgress: (message, done, total) => process.stderr.write(`\r${message}: ${done}/${total}   `),
    });
    process.stderr.write('\n');
    emit({ ...report, grids: grid === undefined ? [] : await writeGrids(denoiser, grid, steps, sampler, gridGuidance) });
  } finally {
    await judge.dispose();
  }
}
