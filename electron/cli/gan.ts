/**
 * The GAN analogy on the command line:
 *
 *   painter analyze gan-analogy --gan ID --model ID [--gaussian ID] [--seed S] [--class N] [--steps N]
 *                   [--sampler euler|heun] [--guidance G] [--k K] [--blocks N] [--fd-step h] [--compare M]
 *                   [--amplitude A] [--gan-seed S] [--gan-class N] --json OUT.json [--png OUT.png]
 *
 * The GAN generator's Jacobian spectrum beside the diffusion network's
 * generator map x_T → x0 and the Gaussian model's exact map (analysis/gan-analogy.ts).
 */
import { resolve } from 'node:path';
import { SAMPLER_NAMES, type SamplerName } from '../api/contract';
import { ganAnalogyAnalysis, ganAnalogyHeadline, ganAnalogyPicture, type GanAnalogyOptions } from '../engine/analysis/gan-analogy';
import { findGaussian, resolveModel } from '../engine/analysis/resources';
import { ganId } from '../engine/gan';
import { PainterError } from '../engine/errors';
import { encodePng } from '../engine/png';
import { writeFileAtomic } from '../engine/safetensors';
import type { Engine } from '../engine/service';
import { integerFlag, numberFlag, parseFlags, requiredFlag } from './args';
import { toJson } from './analyze';

export async function commandGanAnalogy(args: string[], engine: Engine): Promise<void> {
  const flags = parseFlags(
    args,
    {
      values: ['gan', 'model', 'gaussian', 'seed', 'class', 'steps', 'sampler', 'guidance', 'k', 'blocks', 'fd-step', 'compare', 'amplitude', 'gan-seed', 'gan-class', 'json', 'png'],
      switches: [],
    },
    'analyze gan-analogy',
  );
  const jsonPath = resolve(requiredFlag(flags, 'json', 'analyze gan-analogy'));
  const pngPath = flags.values.get('png');
  const started = performance.now();
  const registry = engine.registry;
  const ganModel = await ganId(registry, requiredFlag(flags, 'gan', 'analyze gan-analogy'));
  const generator = await registry.loadGenerator(ganModel);
  const { model, denoiser } = await resolveModel(registry, requiredFlag(flags, 'model', 'analyze gan-analogy'));
  const found = await findGaussian(registry, model, denoiser, flags.values.get('gaussian'));
  const sampler = (flags.values.get('sampler') ?? 'euler') as SamplerName;
  if (!SAMPLER_NAMES.includes(sampler) || sampler === 'ddpm') throw new PainterError('BAD_ARGUMENT', `--sampler must be euler or heun (the generator map needs a deterministic run); got "${sampler}".`);
  const classText = flags.values.get('class');
  const ganClassText = flags.values.get('gan-class');
  const seed = integerFlag(flags, 'seed', 0, 0, 2 ** 31);
  const options: GanAnalogyOptions = {
    sampler,
    steps: integerFlag(flags, 'steps', 50, 2, 1000),
    seeds: [seed],
    classLabel: classText === undefined ? null : integerFlag(flags, 'class', 0, 0, 1_000_000),
    guidance: numberFlag(flags, 'guidance', 1, 0, 50),
    blocks: integerFlag(flags, 'blocks', 3, 1, 100),
    fdStep: numberFlag(flags, 'fd-step', 0.05, 1e-6, 1),
    compare: integerFlag(flags, 'compare', 3, 1, 1000),
    amplitude: numberFlag(flags, 'amplitude', 2, 1e-6, 100),
    ganSeed: integerFlag(flags, 'gan-seed', seed, 0, 2 ** 31),
    ...(flags.values.has('k') ? { k: integerFlag(flags, 'k', 32, 2, 65536) } : {}),
    ...(ganClassText !== undefined ? { ganClass: integerFlag(flags, 'gan-class', 0, 0, 1_000_000) } : {}),
  };
  let last = 0;
  const result = await ganAnalogyAnalysis(generator, denoiser, found.gaussian, options, {
    ...(process.stderr.isTTY
      ? {
          onProgress: (done: number, total: number, message: string) => {
            if (Date.now() - last < 200 && done < total) return;
            last = Date.now();
            process.stderr.write(`\r\x1b[K${Math.round((100 * done) / Math.max(total, 1))}% ${message}`.slice(0, 120));
            if (done >= total) process.stderr.write('\r\x1b[K');
          },
        }
      : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  writeFileAtomic(jsonPath, Buffer.from(toJson({ gan: ganModel, model: model.manifest.id, sources: { gaussian: found.source }, seconds, result })));
  if (pngPath !== undefined) writeFileAtomic(resolve(pngPath), encodePng(ganAnalogyPicture(result, denoiser.image)));
  for (const line of ganAnalogyHeadline(result)) process.stdout.write(`${line}\n`);
  process.stdout.write(`Wrote ${jsonPath}${pngPath !== undefined ? ` and ${resolve(pngPath)}` : ''} (${seconds.toFixed(1)} s)\n`);
}
