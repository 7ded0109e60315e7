/**
 * GAN generators (manifest kind `gan`): a one-step map z → x from a latent
 * z ~ N(0, I) and an optional class, with no noise schedule and no timeline.
 *
 * Their latent directions are the top eigenvectors of the metric tensor JᵀJ
 * of the generator at z (J = ∂G/∂z, a D × k matrix). J is measured in full by
 * central-difference Jacobian-vector products along every latent axis, all in
 * one batch of 2k images (k = 64 for the bundled generator: 128 images), so
 * JᵀJ is exact up to the finite-difference error and its eigenvectors need no
 * iteration: v_j with eigenvalue s_j² (s_j the singular values of J), and the
 * image direction u_j = J v_j / s_j that a step along v_j moves the image by.
 * @see Wang & Ponce 2021, "The geometry of deep generative image models and its applications" (ICLR), §3
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ImageSpec } from './manifest';
import { symmetrizedEigen } from './analysis/eigen';
import { PainterError } from './errors';
import { classAccuracy, classHistogram, featureStatistics, frechetDistance, judgeScore, type Judge } from './judge';
import { Random } from './rng';
import type { OnnxGenerator } from './denoisers/onnx';
import type { ModelRegistry } from './models';

/** What the GAN analyses need of a generator (OnnxGenerator in the app). */
export interface LatentGenerator {
  readonly dim: number;
  readonly latentDim: number;
  readonly image: ImageSpec;
  readonly classes: readonly string[] | null;
  generate(z: Float32Array, labels: ReadonlyArray<number | null>): Promise<Float32Array>;
}

/** Random stream of GAN latents, apart from the diffusion samplers' noise streams. */
export const GAN_LATENT_STREAM = 0x6a4e;

/** The latent z ~ N(0, I) of a seed. */
export function ganLatent(seed: number, latentDim: number): Float32Array {
  return new Random(seed, GAN_LATENT_STREAM).fillNormal(new Float32Array(latentDim));
}

export interface GanDirections {
  /** Singular values s_j of J = ∂G/∂z at z, descending (all latentDim of them). */
  singularValues: number[];
  /** Eigenvectors v_j of JᵀJ: unit latent directions, rows [latentDim][latentDim]. */
  latentDirections: Float64Array;
  /** u_j = J v_j / s_j: unit image directions, rows [latentDim][D]. */
  imageDirections: Float64Array;
  /** Images generated for the Jacobian (2 per latent axis). */
  forwardPasses: number;
  fdStep: number;
  seconds: number;
}

/** Largest latent dimension whose full Jacobian is measured (2·k images). */
export const MAX_GAN_LATENT = 4096;

/**
 * The Jacobian J = ∂G/∂z at z by central differences along each latent axis
 * (step h), columns stored as rows [latentDim][D].
 */
export async function generatorJacobian(generator: LatentGenerator, z: Float32Array, label: number | null, h: number): Promise<Float64Array> {
  const k = generator.latentDim;
  const dim = generator.dim;
  if (z.length !== k) throw new PainterError('BAD_ARGUMENT', `The latent has ${z.length} values; the generator takes ${k}.`);
  if (k > MAX_GAN_LATENT) throw new PainterError('BAD_ARGUMENT', `A latent of ${k} dimensions is too large for the full Jacobian (at most ${MAX_GAN_LATENT}).`);
  if (!(h > 0)) throw new PainterError('BAD_ARGUMENT', `The finite-difference step must be positive; got ${h}.`);
  const latents = new Float32Array(2 * k * k);
  for (let i = 0; i < k; i++) {
    latents.set(z, i * k);
    latents.set(z, (k + i) * k);
    latents[i * k + i]! += h;
    latents[(k + i) * k + i]! -= h;
  }
  const images = await generator.generate(latents, new Array<number | null>(2 * k).fill(label));
  const columns = new Float64Array(k * dim);
  for (let i = 0; i < k; i++) {
    for (let p = 0; p < dim; p++) columns[i * dim + p] = (images[i * dim + p]! - images[(k + i) * dim + p]!) / (2 * h);
  }
  return columns;
}

/** Singular values and vectors of a Jacobian given as columns [k][D], from the k × k metric tensor JᵀJ. */
export function metricEigen(columns: Float64Array, k: number, dim: number): Omit<GanDirections, 'forwardPasses' | 'fdStep' | 'seconds'> {
  const gram = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let sum = 0;
      for (let p = 0; p < dim; p++) sum += columns[a * dim + p]! * columns[b * dim + p]!;
      gram[a * k + b] = sum;
      gram[b * k + a] = sum;
    }
  }
  const { values, vectors } = symmetrizedEigen(gram, k);
  const singularValues: number[] = [];
  const latentDirections = new Float64Array(k * k);
  const imageDirections = new Float64Array(k * dim);
  for (let j = 0; j < k; j++) {
    const s = Math.sqrt(Math.max(values[j]!, 0));
    singularValues.push(s);
    for (let a = 0; a < k; a++) latentDirections[j * k + a] = vectors[a * k + j]!;
    if (s === 0) continue;
    for (let a = 0; a < k; a++) {
      const w = vectors[a * k + j]! / s;
      if (w === 0) continue;
      for (let p = 0; p < dim; p++) imageDirections[j * dim + p]! += w * columns[a * dim + p]!;
    }
  }
  return { singularValues, latentDirections, imageDirections };
}

/** The latent directions of a generator at z: all eigenvectors of JᵀJ, strongest first. */
export async function ganLatentDirections(generator: LatentGenerator, z: Float32Array, label: number | null, options: { fdStep?: number } = {}): Promise<GanDirections> {
  const started = performance.now();
  const fdStep = options.fdStep ?? 0.05;
  const columns = await generatorJacobian(generator, z, label, fdStep);
  const eigen = metricEigen(columns, generator.latentDim, generator.dim);
  return { ...eigen, forwardPasses: 2 * generator.latentDim, fdStep, seconds: (performance.now() - started) / 1000 };
}

/** Images G(z + a·v) for each direction v (rows of `directions`, unit) and amplitude a: [direction][amplitude][D]. */
export async function ganVariationGrid(
  generator: LatentGenerator,
  z: Float32Array,
  label: number | null,
  directions: ArrayLike<number>,
  count: number,
  amplitudes: readonly number[],
): Promise<Float32Array> {
  const k = generator.latentDim;
  const cells = count * amplitudes.length;
  const latents = new Float32Array(cells * k);
  for (let d = 0; d < count; d++) {
    amplitudes.forEach((a, j) => {
      const offset = (d * amplitudes.length + j) * k;
      for (let i = 0; i < k; i++) latents[offset + i] = z[i]! + a * directions[d * k + i]!;
    });
  }
  return generator.generate(latents, new Array<number | null>(cells).fill(label));
}

/**
 * Share of an image change's energy at coarse scale: the projection onto
 * images constant on `block` × `block` pixel blocks (per channel; partial
 * blocks at the edges), ‖P v‖² / ‖v‖². 1 for a change that is constant on
 * every block, 0 for one that averages to zero on every block (a checkerboard).
 */
export function coarseShare(v: ArrayLike<number>, offset: number, image: ImageSpec, block = 4): number {
  const { channels, height, width } = image;
  let total = 0;
  let coarse = 0;
  for (let c = 0; c < channels; c++) {
    const base = offset + c * height * width;
    for (let top = 0; top < height; top += block) {
      for (let left = 0; left < width; left += block) {
        let sum = 0;
        let n = 0;
        for (let y = top; y < Math.min(top + block, height); y++) {
          for (let x = left; x < Math.min(left + block, width); x++) {
            const value = v[base + y * width + x]!;
            sum += value;
            total += value * value;
            n++;
          }
        }
        coarse += (sum * sum) / n;
      }
    }
  }
  return total > 0 ? coarse / total : 0;
}

/**
 * Effective rank of a spectrum (Roy & Vetterli 2007): exp of the entropy of
 * p_j = s_j / Σ s. k for a flat spectrum of k values, 1 for a single one.
 */
export function effectiveRank(singularValues: readonly number[]): number {
  const total = singularValues.reduce((sum, s) => sum + Math.max(s, 0), 0);
  if (!(total > 0)) return 0;
  let entropy = 0;
  for (const s of singularValues) {
    const p = Math.max(s, 0) / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

export interface GeneratorQuality {
  count: number;
  /** Judge accuracy of class-balanced samples (label i mod classes); null for an unconditional generator. */
  accuracy: number | null;
  /** Judge score of the same samples beside the test set's. */
  judgeScore: number;
  testSetJudgeScore: number;
  scoreRatio: number;
  classHistogram: number[];
  frechetToTest: number;
  frechetFloor: number;
  seconds: number;
}

/**
 * Scores a generator with a judge: `count` samples from seeds seedBase…, class
 * i mod classes for sample i (so a class-conditional GAN is scored on the
 * data's class balance, the counterpart of a diffusion model's unconditional
 * samples), or unconditional.
 */
export async function evaluateGenerator(
  generator: LatentGenerator,
  judge: Judge,
  options: { count: number; seedBase?: number; onImages?: (images: Float32Array, labels: Array<number | null>) => void },
): Promise<GeneratorQuality> {
  const started = performance.now();
  const seedBase = options.seedBase ?? 1_000_000;
  const classes = generator.classes?.length ?? 0;
  const k = generator.latentDim;
  const z = new Float32Array(options.count * k);
  for (let n = 0; n < options.count; n++) z.set(ganLatent(seedBase + n, k), n * k);
  const labels = Array.from({ length: options.count }, (_, n) => (classes > 0 ? n % classes : null));
  const images = await generator.generate(z, labels);
  options.onImages?.(images, labels);
  const output = await judge.classify(images);
  const score = judgeScore(output);
  return {
    count: output.count,
    accuracy: classes > 0 ? classAccuracy(output, labels as number[]) : null,
    judgeScore: score,
    testSetJudgeScore: judge.testScore,
    scoreRatio: score / judge.testScore,
    classHistogram: classHistogram(output),
    frechetToTest: frechetDistance(featureStatistics(output.features, output.featureDim), judge.testStats),
    frechetFloor: judge.floor,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A GAN model id, or a GAN model folder (registered on the fly). */
export async function ganId(registry: ModelRegistry, idOrFolder: string): Promise<string> {
  if (registry.list().some((m) => m.manifest.id === idOrFolder)) return idOrFolder;
  if (!existsSync(idOrFolder) || !statSync(idOrFolder).isDirectory()) return idOrFolder; // registry.loadGenerator names the known ones
  const folder = resolve(idOrFolder);
  return (registry.list().find((m) => m.folder === folder) ?? (await registry.addFolder(folder))).manifest.id;
}

/**
 * The GAN generator to compare a model with: `override` (an id, or "none"),
 * else the first registered `gan` model whose images have the model's size.
 */
export async function findGanGenerator(registry: ModelRegistry, image: ImageSpec, override?: string): Promise<{ generator: OnnxGenerator; id: string } | null> {
  if (override === 'none') return null;
  const same = (other: ImageSpec): boolean => other.channels === image.channels && other.height === image.height && other.width === image.width;
  if (override !== undefined) {
    const id = await ganId(registry, override);
    const generator = await registry.loadGenerator(id);
    if (!same(generator.image)) {
      throw new PainterError('BAD_ARGUMENT', `GAN "${override}" makes ${generator.image.channels}×${generator.image.height}×${generator.image.width} images; the model's are ${image.channels}×${image.height}×${image.width}.`);
    }
    return { generator, id };
  }
  const candidate = registry.list().find((m) => m.manifest.kind === 'gan' && same(m.manifest.image));
  return candidate === undefined ? null : { generator: await registry.loadGenerator(candidate.manifest.id), id: candidate.manifest.id };
}
