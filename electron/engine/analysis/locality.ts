/**
 * How local are local variations (issue 14)? For every seed, injection step
 * and region: the top local direction (local-directions.ts) and the top
 * global Jacobian direction (jacobian.ts) at that step, a kick of ±a along
 * each, the run finished from there, and the share of the final image's
 * squared change that falls inside the region. Then transfer: the local
 * direction found on the first seed, kicked on every other seed at the same
 * step — its share inside there, and the coarse-scale content change it
 * causes (branch.ts's measure) beside the one on its own seed.
 */
import type { Denoiser } from '../denoisers/types';
import { blurImage, contentBlurSigma, contentChange } from '../branch';
import { PainterError } from '../errors';
import { vpAlpha } from '../schedules';
import { type AnalysisContext, ProgressMeter, resolveRunSettings, type ResolvedRunSettings, type RunSettings, sampleBatch } from './context';
import { DEFAULT_TOLERANCE_DEG, jacobianDirections } from './jacobian';
import { meanSd, type MeanSd } from './linalg';
import { localDirections, regionWeights, type LocalSupport, type SupportChoice } from './local-directions';

/** A region of the image: H·W weights in [0, 1]. */
export interface NamedRegion {
  name: string;
  mask: Float32Array;
}

/**
 * Three regions of a garment-sized image, as shares of its height and width: a band near the top (collar,
 * neckline, heel), the centre, and the lower left (a sleeve, a sole).
 */
export function defaultRegions(image: { height: number; width: number }): NamedRegion[] {
  const box = (name: string, top: number, left: number, height: number, width: number): NamedRegion => {
    const mask = new Float32Array(image.height * image.width);
    const y0 = Math.round(top * image.height);
    const y1 = Math.round((top + height) * image.height);
    const x0 = Math.round(left * image.width);
    const x1 = Math.round((left + width) * image.width);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * image.width + x] = 1;
    return { name, mask };
  };
  return [box('top', 0.1, 0.25, 0.25, 0.5), box('centre', 0.36, 0.36, 0.28, 0.28), box('lower left', 0.6, 0.1, 0.32, 0.36)];
}

export interface LocalityOptions extends RunSettings {
  /** Grid indices of the kicks (default: 20 %, 50 % and 80 % of the run, i.e. 10, 25, 40 of 50). */
  injectSteps?: number[];
  regions?: NamedRegion[];
  /** Kick norm in the unit-variance x_t convention, both signs (default 8, the grid's widest column). */
  amplitude?: number;
  /** Forward-pass caps of the local and global searches (defaults 1600 and 800). */
  budget?: number;
  jacobianBudget?: number;
  energyThreshold?: number;
  nullSpaceRank?: number;
  /** Where local directions may live (local-directions.ts; default 'auto': on the region when it fits the budget). */
  support?: SupportChoice;
  /** Region support only: pixels around the region the directions may also use (default 0). */
  halo?: number;
  /** Apply the first seed's local direction to the other seeds (default true). */
  transfer?: boolean;
}

export interface LocalityCase {
  seed: number;
  step: number;
  region: string;
  /** Share of the final change inside the region: top local direction, top global direction. */
  local: number;
  global: number;
  /** First-order share inside (x̂0 at the step) of the local direction, and of LOCO Edit's projected variant. */
  linear: number;
  projectedLinear: number;
  rank: number;
  /** Where the local direction lived (local-directions.ts), and the outside-energy share its null space carried. */
  support: LocalSupport;
  energyThreshold: number;
  converged: boolean;
  convergenceDeg: number;
  forwardPasses: number;
  seconds: number;
  asymmetry: number;
}

export interface LocalityCell {
  step: number;
  sigma: number;
  region: string;
  local: MeanSd;
  global: MeanSd;
  linear: MeanSd;
  rank: MeanSd;
  forwardPasses: MeanSd;
  seconds: MeanSd;
  /** Share of seeds whose local direction converged, and whose final change is ≥ 80 % inside. */
  convergedShare: number;
  insideAtLeast80: number;
}

export interface TransferCell {
  step: number;
  region: string;
  sourceSeed: number;
  /** On the source seed: share inside and coarse content change of the final image. */
  source: { local: number; change: number };
  /** On the other seeds. */
  others: { local: MeanSd; change: MeanSd; seeds: number[] };
}

export interface LocalityResult {
  analysis: 'locality';
  settings: ResolvedRunSettings & { injectSteps: number[]; sigmas: number[]; amplitude: number; budget: number; jacobianBudget: number; energyThreshold: number | null; support: SupportChoice; halo: number; nullSpaceRank: number | null; toleranceDeg: number };
  regions: Array<{ name: string; mask: Float32Array; area: number }>;
  cells: LocalityCell[];
  cases: LocalityCase[];
  transfer: TransferCell[];
  asymmetry: MeanSd;
  /** First seed, middle step, first region: the final image, then −a/+a along the local direction and along the global one. */
  example: { step: number; region: string; mask: Float32Array; images: Float32Array };
  seconds: number;
}

export async function localityAnalysis(denoiser: Denoiser, options: LocalityOptions = {}, context: AnalysisContext = {}): Promise<LocalityResult> {
  const started = performance.now();
  const run = resolveRunSettings(options, denoiser, { seeds: 8 });
  const dim = denoiser.dim;
  const image = denoiser.image;
  const steps = run.steps;
  const injectSteps = options.injectSteps ?? [0.2, 0.5, 0.8].map((f) => Math.round(f * steps));
  for (const s of injectSteps) {
    if (!Number.isInteger(s) || s < 0 || s >= steps) throw new PainterError('BAD_ARGUMENT', `Injection steps must be integers from 0 to ${steps - 1}; got ${s}.`, { step: s });
  }
  const regions = options.regions ?? defaultRegions(image);
  if (regions.length === 0) throw new PainterError('BAD_ARGUMENT', 'The locality analysis needs at least one region.');
  const weights = regions.map((r) => regionWeights(r.mask, image));
  const amplitude = options.amplitude ?? 8;
  if (!(amplitude > 0)) throw new PainterError('BAD_ARGUMENT', `The kick amplitude must be positive; got ${amplitude}.`);
  const budget = options.budget ?? 1600;
  const jacobianBudget = options.jacobianBudget ?? 800;
  const energyThreshold = options.energyThreshold ?? null;
  const support = options.support ?? 'auto';
  const halo = options.halo ?? 0;
  const transfer = (options.transfer ?? true) && run.seeds.length > 1;
  const seeds = run.seeds;
  const searchOptions = { blockSize: 4, fdStep: 0.05, maxBatch: 64, toleranceDeg: DEFAULT_TOLERANCE_DEG };

  const kickSteps = injectSteps.reduce((n, s) => n + (steps - s) * (transfer ? 2 : 1), 0);
  const meter = new ProgressMeter(context, steps + injectSteps.length * seeds.length * (1 + regions.length) + kickSteps);
  const base = await sampleBatch(denoiser, run, seeds, meter, 'sampling', context);
  const lastIndex = base.sigmas.length - 1;
  const finals = base.x0Hat.subarray(lastIndex * seeds.length * dim);
  const coarse = contentBlurSigma(image);

  const cases: LocalityCase[] = [];
  const transferCells: TransferCell[] = [];
  let example: LocalityResult['example'] | null = null;
  const middle = injectSteps[Math.floor(injectSteps.length / 2)]!;

  for (const step of injectSteps) {
    const sigma = base.sigmas[step]!;
    // Kicks are unit-variance norms (as the brushes' strength): VP states as they are, σ-form states ×1/α.
    const scale = denoiser.schedule.kind === 'vp' ? 1 : 1 / vpAlpha(sigma);
    const state = (b: number): Float32Array => base.states.slice((step * seeds.length + b) * dim, (step * seeds.length + b + 1) * dim);
    const localFound: Array<Array<Awaited<ReturnType<typeof localDirections>>>> = [];
    const globalFound: Float32Array[] = [];
    for (const [b, seed] of seeds.entries()) {
      const x = state(b);
      const global = await jacobianDirections(denoiser, x, sigma, run, { ...searchOptions, k: 1, budget: jacobianBudget, seed });
      globalFound.push(global.directions.slice(0, dim));
      meter.advance(1, `step ${step}: global direction of seed ${seed}`);
      const perRegion = [];
      for (const [r, w] of weights.entries()) {
        perRegion.push(
          await localDirections(denoiser, x, sigma, run, w, {
            ...searchOptions,
            k: 1,
            budget,
            seed,
            support,
            halo,
            ...(energyThreshold !== null ? { energyThreshold } : {}),
            ...(options.nullSpaceRank !== undefined ? { nullSpaceRank: options.nullSpaceRank } : {}),
          }),
        );
        meter.advance(1, `step ${step}: local direction of seed ${seed}, ${regions[r]!.name}`);
      }
      localFound.push(perRegion);
    }

    // Every kick of this step in one batch: per seed, ±a along the global direction, then ±a along each region's local one.
    const perSeed = 2 + 2 * regions.length;
    const cells = seeds.length * perSeed;
    const start = new Float32Array(cells * dim);
    const delta = new Float32Array(cells * dim);
    const put = (cell: number, b: number, direction: Float32Array, sign: number): void => {
      start.set(state(b), cell * dim);
      for (let i = 0; i < dim; i++) delta[cell * dim + i] = sign * amplitude * scale * direction[i]!;
    };
    for (let b = 0; b < seeds.length; b++) {
      put(b * perSeed, b, globalFound[b]!, -1);
      put(b * perSeed + 1, b, globalFound[b]!, 1);
      for (let r = 0; r < regions.length; r++) {
        const direction = localFound[b]![r]!.directions.subarray(0, dim);
        put(b * perSeed + 2 + 2 * r, b, direction, -1);
        put(b * perSeed + 3 + 2 * r, b, direction, 1);
      }
    }
    const kicked = await sampleBatch(denoiser, run, Array.from({ length: cells }, (_, c) => seeds[Math.floor(c / perSeed)]!), meter, `kicks at step ${step}`, context, {
      sigmas: base.sigmas,
      start: { step, state: start },
      perturbation: { step, delta },
    });
    const out = kicked.x0Hat.subarray((kicked.sigmas.length - 1) * cells * dim);
    const pairShare = (cell: number, b: number, w: Float64Array): number => {
      // Both signs pooled: Σ inside / Σ total over the two final images.
      let inside = 0;
      let total = 0;
      for (const c of [cell, cell + 1]) {
        for (let i = 0; i < dim; i++) {
          const change = (out[c * dim + i]! - finals[b * dim + i]!) ** 2;
          inside += w[i]! * change;
          total += change;
        }
      }
      return total > 0 ? inside / total : Number.NaN;
    };
    for (const [b, seed] of seeds.entries()) {
      for (const [r, region] of regions.entries()) {
        const found = localFound[b]![r]!;
        cases.push({
          seed,
          step,
          region: region.name,
          local: pairShare(b * perSeed + 2 + 2 * r, b, weights[r]!),
          global: pairShare(b * perSeed, b, weights[r]!),
          linear: found.insideShare[0] ?? Number.NaN,
          projectedLinear: found.projectedInsideShare[0] ?? Number.NaN,
          rank: found.nullSpaceRank,
          support: found.support,
          energyThreshold: found.energyThreshold,
          converged: found.found >= 1,
          convergenceDeg: found.convergenceDeg[0] ?? Number.NaN,
          forwardPasses: found.forwardPasses,
          seconds: found.seconds,
          asymmetry: found.asymmetry,
        });
      }
    }
    if (step === middle && example === null) {
      const images = new Float32Array(5 * dim);
      images.set(finals.subarray(0, dim), 0);
      images.set(out.subarray(2 * dim, 4 * dim), dim); // local −a, +a (first region)
      images.set(out.subarray(0, 2 * dim), 3 * dim); // global −a, +a
      example = { step, region: regions[0]!.name, mask: regions[0]!.mask, images };
    }

    if (transfer) {
      // The first seed's local direction of each region, ±a on every other seed.
      const others = seeds.slice(1);
      const perRegion = 2 * others.length;
      const count = regions.length * perRegion;
      const tStart = new Float32Array(count * dim);
      const tDelta = new Float32Array(count * dim);
      for (let r = 0; r < regions.length; r++) {
        const direction = localFound[0]![r]!.directions.subarray(0, dim);
        others.forEach((_, o) => {
          for (const [s, sign] of [-1, 1].entries()) {
            const cell = r * perRegion + 2 * o + s;
            tStart.set(state(o + 1), cell * dim);
            for (let i = 0; i < dim; i++) tDelta[cell * dim + i] = sign * amplitude * scale * direction[i]!;
          }
        });
      }
      const moved = await sampleBatch(denoiser, run, Array.from({ length: count }, (_, c) => others[Math.floor((c % perRegion) / 2)]!), meter, `transfer at step ${step}`, context, {
        sigmas: base.sigmas,
        start: { step, state: tStart },
        perturbation: { step, delta: tDelta },
      });
      const movedFinals = moved.x0Hat.subarray((moved.sigmas.length - 1) * count * dim);
      const blurredFinal = seeds.map((_, b) => blurImage(finals, b * dim, image, coarse));
      const changeOf = (images: Float32Array, cell: number, b: number): number => contentChange(blurImage(images, cell * dim, image, coarse), 0, blurredFinal[b]!, 0, dim, image.range);
      for (const [r, region] of regions.entries()) {
        const sourceCell = 2 + 2 * r;
        const shares: number[] = [];
        const changes: number[] = [];
        others.forEach((_, o) => {
          const b = o + 1;
          let inside = 0;
          let total = 0;
          for (const s of [0, 1]) {
            const cell = r * perRegion + 2 * o + s;
            for (let i = 0; i < dim; i++) {
              const change = (movedFinals[cell * dim + i]! - finals[b * dim + i]!) ** 2;
              inside += weights[r]![i]! * change;
              total += change;
            }
            changes.push(changeOf(movedFinals, cell, b));
          }
          shares.push(total > 0 ? inside / total : Number.NaN);
        });
        transferCells.push({
          step,
          region: region.name,
          sourceSeed: seeds[0]!,
          source: {
            local: pairShare(sourceCell, 0, weights[r]!),
            change: (changeOf(out, sourceCell, 0) + changeOf(out, sourceCell + 1, 0)) / 2,
          },
          others: { local: meanSd(shares), change: meanSd(changes), seeds: others },
        });
      }
    }
  }

  const cells: LocalityCell[] = [];
  for (const step of injectSteps) {
    for (const region of regions) {
      const group = cases.filter((c) => c.step === step && c.region === region.name);
      cells.push({
        step,
        sigma: base.sigmas[step]!,
        region: region.name,
        local: meanSd(group.map((c) => c.local)),
        global: meanSd(group.map((c) => c.global)),
        linear: meanSd(group.map((c) => c.linear)),
        rank: meanSd(group.map((c) => c.rank)),
        forwardPasses: meanSd(group.map((c) => c.forwardPasses)),
        seconds: meanSd(group.map((c) => c.seconds)),
        convergedShare: group.filter((c) => c.converged).length / group.length,
        insideAtLeast80: group.filter((c) => c.local >= 0.8).length / group.length,
      });
    }
  }
  return {
    analysis: 'locality',
    settings: {
      ...run,
      injectSteps,
      sigmas: injectSteps.map((s) => base.sigmas[s]!),
      amplitude,
      budget,
      jacobianBudget,
      energyThreshold,
      support,
      halo,
      nullSpaceRank: options.nullSpaceRank ?? null,
      toleranceDeg: DEFAULT_TOLERANCE_DEG,
    },
    regions: regions.map((r) => ({ name: r.name, mask: r.mask, area: r.mask.reduce((a, b) => a + b, 0) / r.mask.length })),
    cells,
    cases,
    transfer: transferCells,
    asymmetry: meanSd(cases.map((c) => c.asymmetry)),
    example: example!,
    seconds: (performance.now() - started) / 1000,
  };
}
