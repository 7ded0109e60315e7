/**
 * `painter calibrate-local`: the patch size per noise level of a local patch
 * model, measured on a trained network (analysis/local-calibration.ts), written
 * as the JSON a `local` manifest names.
 *
 *   painter calibrate-local --model ID|FOLDER --out CALIBRATION.json [--delta ID] [--training N]
 *                           [--probes M] [--sigmas a,b,…] [--sizes 1,3,…] [--shift S] [--seed S]
 *
 * The training images come from the delta (training-set) model of the same
 * images: the first N are the local model's, the probes are taken from the rest.
 */
import { resolve } from 'node:path';
import { calibrateLocalPatches } from '../engine/analysis/local-calibration';
import { findAnalytic, resolveModel } from '../engine/analysis/resources';
import { PainterError } from '../engine/errors';
import { writeFileAtomic } from '../engine/safetensors';
import type { Engine } from '../engine/service';
import { progressContext, toJson } from './analyze';
import { integerFlag, parseFlags, requiredFlag, type ParsedFlags } from './args';
import { checkOverwrite, JSON_GENERATOR } from './overwrite';

function numbers(flags: ParsedFlags, name: string): number[] | undefined {
  const text = flags.values.get(name);
  if (text === undefined) return undefined;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (text.trim() === '' || values.some((v) => !Number.isFinite(v))) throw new PainterError('BAD_ARGUMENT', `--${name} must be a comma-separated list of numbers; got "${text}".`);
  return values;
}

export async function commandCalibrateLocal(args: string[], engine: Engine): Promise<void> {
  const flags = parseFlags(args, { values: ['model', 'out', 'delta', 'training', 'probes', 'sigmas', 'sizes', 'shift', 'seed'], switches: ['force'] }, 'calibrate-local');
  const out = resolve(requiredFlag(flags, 'out', 'calibrate-local'));
  if (!out.endsWith('.json')) throw new PainterError('BAD_ARGUMENT', `--out must end in .json; got "${out}".`);
  checkOverwrite(out, 'json', '--out', flags.switches.has('force'), JSON_GENERATOR.calibrate);
  const { model, denoiser } = await resolveModel(engine.registry, requiredFlag(flags, 'model', 'calibrate-local'));
  const delta = await findAnalytic(engine.registry, model, 'delta', flags.values.get('delta'));
  if (delta === null || delta.denoiser.delta === null) {
    throw new PainterError('BAD_ARGUMENT', `No training set (delta model) of ${model.manifest.id}'s image size is registered; pass --delta ID.`);
  }
  const training = delta.denoiser.delta;
  const probes = integerFlag(flags, 'probes', 48, 1, 10_000);
  const sizes = numbers(flags, 'sizes');
  const sigmas = numbers(flags, 'sigmas');
  const result = await calibrateLocalPatches(
    denoiser,
    model.manifest.id,
    training,
    `the first images of ${delta.id}`,
    {
      trainingImages: integerFlag(flags, 'training', Math.min(training.count - probes, 4000), 1, training.count),
      probes,
      shiftWindow: integerFlag(flags, 'shift', 0, 0, 8),
      seed: integerFlag(flags, 'seed', 0, 0, 2 ** 31),
      ...(sizes ? { candidates: sizes } : {}),
      ...(sigmas ? { sigmas } : {}),
    },
    progressContext(),
  );
  const command = ['painter', 'calibrate-local', ...args].join(' ');
  writeFileAtomic(out, Buffer.from(`${toJson({ generator: JSON_GENERATOR.calibrate, command, ...result })}\n`));
  process.stdout.write(`Wrote ${out} (${result.seconds.toFixed(0)} s)\n`);
  result.sigmas.forEach((sigma, s) => {
    process.stdout.write(`σ = ${sigma.toPrecision(3).padStart(7)}: patch ${String(result.patchSizes[s]).padStart(2)}, median r² ${result.bestR2[s]!.toFixed(3)}\n`);
  });
}
