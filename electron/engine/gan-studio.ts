/**
 * GAN generators in the studio (manifest kind `gan`): a run is one network
 * evaluation x = G(z, y), recorded as a single state (no timeline), with its
 * latent z kept in the run's settings; its variation grid kicks z along the
 * eigenvectors of JᵀJ at z, and a kept cell is a new run from z + a·v,
 * recorded as a branch of the first.
 */
import { randomUUID } from 'node:crypto';
import type { GenerateRequest, RunSummary, VariationGrid } from '../api/contract';
import { PainterError, throwIfCancelled } from './errors';
import { ganLatent, ganLatentDirections, ganVariationGrid, type LatentGenerator } from './gan';
import type { RunRecord } from './runs';

/** Checks a GAN request's class and latent before the generator runs. */
function checkGanRequest(request: GenerateRequest, generator: LatentGenerator & { unconditional: boolean }, modelId: string): void {
  const classes = generator.classes;
  const { classLabel } = request;
  if (classLabel === null) {
    if (!generator.unconditional) throw new PainterError('BAD_ARGUMENT', `Model "${modelId}" needs a class (0–${(classes?.length ?? 1) - 1}).`);
  } else if (classes === null || !Number.isInteger(classLabel) || classLabel < 0 || classLabel >= classes.length) {
    throw new PainterError('BAD_ARGUMENT', classes === null ? `Model "${modelId}" takes no class; leave the class empty.` : `Class ${classLabel} is not one of model "${modelId}"'s classes 0–${classes.length - 1} (${classes.join(', ')}).`, { classLabel });
  }
  if (request.latent !== undefined && request.latent.length !== generator.latentDim) {
    throw new PainterError('BAD_ARGUMENT', `Model "${modelId}" takes a latent of ${generator.latentDim} values; got ${request.latent.length}.`, { length: request.latent.length });
  }
}

/** One GAN run: z from the request (or the seed), x = G(z, y), recorded as a single final state. */
export async function ganRun(
  generator: LatentGenerator & { unconditional: boolean },
  request: GenerateRequest,
  manifestHash: string,
  signal?: AbortSignal,
): Promise<RunRecord> {
  const started = performance.now();
  checkGanRequest(request, generator, request.modelId);
  throwIfCancelled(signal);
  const z = request.latent !== undefined ? Float32Array.from(request.latent) : ganLatent(request.seed, generator.latentDim);
  const image = await generator.generate(z, [request.classLabel]);
  const { branchOf, ...rest } = request;
  const summary: RunSummary = {
    runId: randomUUID(),
    modelId: request.modelId,
    settings: { ...rest, steps: 1, sampler: 'euler', guidance: 1, latent: Array.from(z) },
    stepCount: 1,
    sigmas: [0],
    evaluations: [1],
    seconds: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
    branch: branchOf === undefined ? null : { parentRunId: branchOf.runId, step: 0, perturbation: branchOf.perturbation },
    convention: 'sigma',
  };
  return { summary, manifestHash, image: generator.image, xt: image, x0Hat: Float32Array.from(image) };
}

/** The latent z of a GAN run (its settings), checked against the generator. */
export function runLatent(run: RunRecord, generator: LatentGenerator): Float32Array {
  const latent = run.summary.settings.latent;
  if (latent === undefined || latent.length !== generator.latentDim) {
    throw new PainterError('BAD_ARGUMENT', `Run ${run.summary.runId} holds no ${generator.latentDim}-value latent; it is not a run of this GAN.`, { runId: run.summary.runId });
  }
  return Float32Array.from(latent);
}

/**
 * The variation grid of a GAN run: the top `directions` eigenvectors of JᵀJ
 * at its z and G(z + a·v) for each amplitude a (in latent units, z ~ N(0, I)).
 */
export async function ganVariationGridForRun(
  generator: LatentGenerator,
  run: RunRecord,
  directions: number,
  amplitudes: readonly number[],
  signal?: AbortSignal,
  onProgress?: (done: number, total: number, message: string) => void,
): Promise<VariationGrid> {
  const started = performance.now();
  const z = runLatent(run, generator);
  const label = run.summary.settings.classLabel;
  const count = Math.min(directions, generator.latentDim);
  onProgress?.(0, 2, 'Jacobian of the generator');
  const found = await ganLatentDirections(generator, z, label);
  throwIfCancelled(signal);
  onProgress?.(1, 2, 'variation grid');
  const latentDirections = Float32Array.from(found.latentDirections.subarray(0, count * generator.latentDim));
  const images = await ganVariationGrid(generator, z, label, latentDirections, count, amplitudes);
  onProgress?.(2, 2, 'done');
  return {
    runId: run.summary.runId,
    step: 0,
    family: 'gan-latent',
    amplitudes: [...amplitudes],
    count,
    directions: Float32Array.from(found.imageDirections.subarray(0, count * generator.dim)),
    values: found.singularValues.slice(0, count),
    valueLabel: 'singular value of ∂G/∂z',
    images,
    seconds: (performance.now() - started) / 1000,
    latentDirections,
  };
}
