/**
 * `painter evaluate --model ID [--samples N] [--conditional N] [--steps N] [--sampler S]
 *                   [--guidance 1,2,4] [--json OUT.json] [--grid PREFIX]`
 *
 * With class means from the model's training images (its delta-mixture
 * model), also the orientation agreement per class: the share of the
 * conditional samples that face like their class mean rather than mirrored,
 * beside the same share in the data. A GAN generator (kind `gan`) is scored on
 * --samples class-balanced samples (no steps, no guidance).
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
import { findAnalytic } from '../engine/analysis/resources';
import { evaluateGenerator, ganLatent, type LatentGenerator } from '../engine/gan';
import { classMeans, orientationAgreement, type OrientationReport } from '../engine/orientation';
import type { ModelRegistry } from '../engine/models';
import type { ImageSpec } from '../engine/manifest';

/**
 * The orientation measure's reference: class means and the data's own
 * agreement, from the training images of the model's delta-mixture model
 * (null when none is registered for its image size and classes).
 */
async function orientationReference(registry: ModelRegistry, modelId: string, classes: number): Promise<{ source: string; means: Float64Array[]; data: OrientationReport; image: ImageSpec } | null> {
  const found = await findAnalytic(registry, registry.get(modelId), 'delta');
  const delta = found?.denoiser.delta ?? null;
  if (found === null || delta === null || delta.labels === null || (found.denoiser.classes?.length ?? 0) !== classes) return null;
  const means = classMeans(delta.images, delta.labels, classes, delta.dim);
  return { source: found.id, means, data: orientationAgreement(delta.images, delta.labels, means, found.denoiser.image), image: found.denoiser.image };
}

function orientationSummary(report: OrientationReport, classes: readonly string[] | null): Record<string, number | null> {
  return Object.fromEntries(report.perClass.map((entry, k) => [classes?.[k] ?? String(k), entry.agreement === null ? null : Number(entry.agreement.toFixed(4))]));
}

async function gridOfGenerator(generator: LatentGenerator, prefix: string): Promise<string[]> {
  const classes = generator.classes?.length ?? 0;
  const columns = 10;
  const count = Math.max(classes, 10) * columns;
  const z = new Float32Array(count * generator.latentDim);
  for (let n = 0; n < count; n++) z.set(ganLatent(7 + n, generator.latentDim), n * generator.latentDim);
  const images = await generator.generate(z, Array.from({ length: count }, (_, n) => (classes > 0 ? Math.floor(n / columns) % classes : null)));
  const scale = Math.max(1, Math.floor(64 / generator.image.width));
  const path = resolve(`${prefix}-classes.png`);
  writeFileAtomic(path, encodePng(rasterGrid(Array.from({ length: count }, (_, i) => imageToRaster(images, i * generator.dim, generator.image)), columns, scale)));
  return [path];
}
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
  if (engine.registry.get(modelId).manifest.kind === 'gan') {
    // A GAN generator: one step per image, class-balanced samples, no guidance.
    const generator = await engine.registry.loadGenerator(modelId);
    const grids = grid === undefined ? [] : await gridOfGenerator(generator, grid);
    if (judgeFolder === null) {
      if (grid === undefined) throw new PainterError('BAD_ARGUMENT', `Model "${modelId}" names no judge network (manifest field "judge"); only --grid works without one.`);
      emit({ judge: null, grids });
      return;
    }
    const judge = await Judge.load(judgeFolder);
    try {
      const reference = await orientationReference(engine.registry, modelId, generator.classes?.length ?? 0);
      let orientation: object | null = null;
      const report = await evaluateGenerator(generator, judge, {
        count: integerFlag(flags, 'samples', 10000, 2, 100000),
        onImages: (images, labels) => {
          if (reference === null || labels.some((l) => l === null)) return;
          orientation = { classMeansFrom: reference.source, data: orientationSummary(reference.data, generator.classes), samples: orientationSummary(orientationAgreement(images, labels as number[], reference.means, generator.image), generator.classes) };
        },
      });
      emit({ kind: 'gan', ...report, orientation, grids });
    } finally {
      await judge.dispose();
    }
    return;
  }
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
    // Which way the conditional samples face, beside the training data (issue 13 part 5: mirrored shoes).
    const reference = denoiser.classes !== null ? await orientationReference(engine.registry, modelId, denoiser.classes.length) : null;
    const orientationSamples: Array<{ guidance: number; perClass: Record<string, number | null> }> = [];
    const report = await evaluateQuality(denoiser, judge, {
      ...(reference !== null
        ? { onConditionalImages: (guidance: number, images: Float32Array, labels: number[]) => orientationSamples.push({ guidance, perClass: orientationSummary(orientationAgreement(images, labels, reference.means, denoiser.image), denoiser.classes) }) }
        : {}),
      steps,
      sampler,
      conditionalCount: integerFlag(flags, 'conditional', 1000, 0, 100000),
      guidances,
      unconditionalCount: integerFlag(flags, 'samples', 10000, 0, 100000),
      onProgress: (message, done, total) => process.stderr.write(`\r${message}: ${done}/${total}   `),
    });
    process.stderr.write('\n');
    const orientation = reference === null ? null : { classMeansFrom: reference.source, data: orientationSummary(reference.data, denoiser.classes), samples: orientationSamples };
    emit({ ...report, orientation, grids: grid === undefined ? [] : await writeGrids(denoiser, grid, steps, sampler, gridGuidance) });
  } finally {
    await judge.dispose();
  }
}
