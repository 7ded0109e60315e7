/**
 * A run that starts from an image instead of pure noise (SDEdit: Meng et al.,
 * "SDEdit: Guided Image Synthesis and Editing with Stochastic Differential
 * Equations", ICLR 2022): the image is noised to the level of `startStep`
 * with the seed's own start noise, x(σ_s) = x0 + σ_s·ε in σ form
 * (DESIGN.md §2), and the model denoises from there. The earlier states are
 * recorded as that same image under the same noise at each level, with the
 * image as their x̂0, so the run scrubs from noise to the image and on to
 * what the model made of it.
 */
import { randomUUID } from 'node:crypto';
import type { ImageStartRequest, RunSummary } from '../api/contract';
import type { Denoiser } from './denoisers/types';
import { PainterError } from './errors';
import { INITIAL_NOISE_STREAM, seededNormal } from './rng';
import type { RunRecord } from './runs';
import { sample, toModelConvention } from './samplers';

export interface ImageStartOptions {
  request: Omit<ImageStartRequest, 'jobId'>;
  denoiser: Denoiser;
  manifestHash: string;
  signal?: AbortSignal;
  onStep?: (done: number, total: number, x0Hat: Float32Array) => void;
}

export async function runFromImage(options: ImageStartOptions): Promise<RunRecord> {
  const started = performance.now();
  const { request, denoiser } = options;
  const dim = denoiser.dim;
  if (request.image.length !== dim) {
    throw new PainterError('BAD_ARGUMENT', `The image has ${request.image.length} values; model "${request.modelId}" takes ${dim} (${denoiser.image.channels}×${denoiser.image.height}×${denoiser.image.width}).`);
  }
  const sigmas = denoiser.schedule.samplingSigmas(request.steps, request.sampler);
  const steps = sigmas.length - 1;
  const start = request.startStep;
  if (!Number.isInteger(start) || start < 0 || start >= steps) {
    throw new PainterError('BAD_ARGUMENT', `A run from an image starts at step 0 to ${steps - 1}; got ${start}.`, { startStep: start });
  }
  const noise = seededNormal(request.seed, INITIAL_NOISE_STREAM, dim);
  // σ-form state at grid index j: the image under the same noise, x0 + σ_j ε.
  const noised = (j: number): Float32Array => Float32Array.from(request.image, (value, i) => value + sigmas[j]! * noise[i]!);
  const trajectory = await sample({
    denoiser,
    sampler: request.sampler,
    sigmas,
    seeds: [request.seed],
    condition: { labels: [request.classLabel], guidance: request.guidance },
    start: { step: start, state: noised(start) },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });

  const statesSigmaForm = new Float32Array(sigmas.length * dim);
  const x0Hat = new Float32Array(sigmas.length * dim);
  for (let j = 0; j < start; j++) {
    statesSigmaForm.set(noised(j), j * dim);
    x0Hat.set(request.image, j * dim);
  }
  statesSigmaForm.set(trajectory.states, start * dim);
  x0Hat.set(trajectory.x0Hat, start * dim);
  const evaluations = [...Array.from({ length: start }, () => 0), ...Array.from(trajectory.evaluations)];

  const { image: _image, name, startStep: _start, ...settings } = request;
  const summary: RunSummary = {
    runId: randomUUID(),
    modelId: request.modelId,
    settings,
    stepCount: sigmas.length,
    sigmas: Array.from(sigmas),
    evaluations,
    seconds: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
    branch: null,
    convention: denoiser.schedule.kind === 'vp' ? 'vp' : 'sigma',
    origin: { kind: 'image', name: name.slice(0, 255), step: start },
  };
  return {
    summary,
    manifestHash: options.manifestHash,
    image: denoiser.image,
    xt: toModelConvention(statesSigmaForm, sigmas, dim, denoiser),
    x0Hat,
  };
}
