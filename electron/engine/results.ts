/**
 * Results computed for runs — variation grids, 3-D trajectory views, theory
 * charts — kept by the engine (the latest of each kind per run; per analysis
 * for charts) and saved with a session, so reopening it does not mean
 * recomputing them.
 *
 * On disk: one safetensors file beside the session's runs,
 * `name-runs/_results.safetensors`. Big arrays are tensors
 * (`variations.{i}.directions` [count, D], `variations.{i}.images`
 * [count, amplitudes, D], `trajectories.{i}.points` [count, states, 3],
 * `trajectories.{i}.ghost`, `trajectories.{i}.plane` [4, 3]); everything else,
 * theory charts included (a few hundred numbers each), is JSON under the
 * metadata key `painter.results`. Every field is checked when read.
 */
import type { SessionResults, TheoryChart, TrajectorySpace, VariationGrid } from '../api/contract';
import { DIRECTION_FAMILIES, THEORY_ANALYSES, TRAJECTORY_BASES } from '../api/contract';
import { PainterError } from './errors';
import { parseSafetensors, readSafetensorsMetadata, serializeSafetensors, type SafeTensor } from './safetensors';

export const RESULTS_FORMAT = 'painter.results/1';
/** Underscore: outside the run-id alphabet, so it can never be a run's file. */
export const RESULTS_FILE = '_results.safetensors';

export function emptyResults(): SessionResults {
  return { variations: [], trajectories: [], charts: [] };
}

export function resultCount(results: SessionResults): number {
  return results.variations.length + results.trajectories.length + results.charts.length;
}

/** The engine's latest results per run. */
export class ResultStore {
  private readonly variations = new Map<string, VariationGrid>();
  private readonly trajectories = new Map<string, TrajectorySpace>();
  private readonly charts = new Map<string, TheoryChart>();

  keepVariations(grid: VariationGrid): void {
    this.variations.set(grid.runId, grid);
  }

  keepTrajectories(space: TrajectorySpace): void {
    this.trajectories.set(space.runId, space);
  }

  keepChart(chart: TheoryChart): void {
    if (chart.runId !== undefined) this.charts.set(`${chart.runId}:${chart.analysis}`, chart);
  }

  /** Everything kept for these runs. */
  forRuns(runIds: readonly string[]): SessionResults {
    const wanted = new Set(runIds);
    return {
      variations: [...this.variations.values()].filter((grid) => wanted.has(grid.runId)),
      trajectories: [...this.trajectories.values()].filter((space) => wanted.has(space.runId)),
      charts: [...this.charts.values()].filter((chart) => chart.runId !== undefined && wanted.has(chart.runId)),
    };
  }

  add(results: SessionResults): void {
    results.variations.forEach((grid) => this.keepVariations(grid));
    results.trajectories.forEach((space) => this.keepTrajectories(space));
    results.charts.forEach((chart) => this.keepChart(chart));
  }

  drop(runIds: readonly string[]): void {
    const doomed = new Set(runIds);
    for (const id of doomed) {
      this.variations.delete(id);
      this.trajectories.delete(id);
    }
    for (const [key, chart] of this.charts) if (chart.runId !== undefined && doomed.has(chart.runId)) this.charts.delete(key);
  }
}

interface VariationEntry {
  runId: string;
  step: number;
  family: VariationGrid['family'];
  amplitudes: number[];
  count: number;
  values: number[];
  valueLabel: string;
  seconds: number;
  search?: VariationGrid['search'];
  /** The local family's search without its mask (a tensor of its own). */
  local?: Omit<NonNullable<VariationGrid['local']>, 'mask'>;
  inside?: VariationGrid['inside'];
  applied?: VariationGrid['applied'];
}

interface TrajectoryEntry {
  runId: string;
  seeds: number[];
  states: number;
  sigmas: number[];
  basis: TrajectorySpace['basis'];
  explained: number[];
  axisLabels?: [string, string, string];
  ghost: boolean;
}

interface ResultsMetadata {
  format: string;
  variations: VariationEntry[];
  trajectories: TrajectoryEntry[];
  charts: TheoryChart[];
}

export function serializeResults(results: SessionResults): Uint8Array {
  const tensors: Record<string, SafeTensor> = {};
  const variations = results.variations.map((grid, i): VariationEntry => {
    const dim = grid.count > 0 ? grid.directions.length / grid.count : 0;
    tensors[`variations.${i}.directions`] = { dtype: 'F32', shape: [grid.count, dim], data: grid.directions };
    tensors[`variations.${i}.images`] = { dtype: 'F32', shape: [grid.count, grid.amplitudes.length, dim], data: grid.images };
    const { runId, step, family, amplitudes, count, values, valueLabel, seconds, search, local, inside, applied } = grid;
    const entry: VariationEntry = { runId, step, family, amplitudes, count, values, valueLabel, seconds };
    if (search !== undefined) entry.search = search;
    if (inside !== undefined) entry.inside = inside;
    if (applied !== undefined) entry.applied = applied;
    if (local !== undefined) {
      const { mask, ...rest } = local;
      tensors[`variations.${i}.mask`] = { dtype: 'F32', shape: [mask.length], data: mask };
      entry.local = rest;
    }
    return entry;
  });
  const trajectories = results.trajectories.map((space, i): TrajectoryEntry => {
    const count = space.seeds.length;
    tensors[`trajectories.${i}.points`] = { dtype: 'F32', shape: [count, space.states, 3], data: space.points };
    if (space.ghost !== null) tensors[`trajectories.${i}.ghost`] = { dtype: 'F32', shape: [count, space.states, 3], data: space.ghost };
    tensors[`trajectories.${i}.plane`] = { dtype: 'F32', shape: [4, 3], data: space.plane };
    const { runId, seeds, states, sigmas, basis, explained, axisLabels } = space;
    return { runId, seeds, states, sigmas, basis, explained, ghost: space.ghost !== null, ...(axisLabels ? { axisLabels } : {}) };
  });
  const metadata: ResultsMetadata = { format: RESULTS_FORMAT, variations, trajectories, charts: results.charts };
  return serializeSafetensors(tensors, { 'painter.results': JSON.stringify(metadata), format: RESULTS_FORMAT });
}

/** Whether a file's header says it is a Painter results file (so a save may replace or remove it). */
export function isResultsFile(path: string): boolean {
  return readSafetensorsMetadata(path)?.['format'] === RESULTS_FORMAT;
}

/**
 * Reads a results file. `dims` gives each run of the session its C·H·W;
 * results of runs not in it, or that do not fit their run, are refused.
 */
export function parseResults(bytes: Uint8Array, path: string, dims: ReadonlyMap<string, number>): SessionResults {
  const file = parseSafetensors(bytes, path);
  const bad = (reason: string): PainterError => new PainterError('BAD_FILE', `${path} is not a Painter results file: ${reason}.`, { path });
  const text = file.metadata['painter.results'];
  if (text === undefined) throw bad('it has no "painter.results" metadata');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('its metadata is not JSON');
  }
  if (!isRecord(json) || json['format'] !== RESULTS_FORMAT) throw bad(`it is not in format ${RESULTS_FORMAT}`);
  const check = new Checker(bad);
  const floats = (name: string, shape: number[]): Float32Array => {
    const tensor = file.tensors.get(name);
    if (tensor === undefined) throw bad(`tensor "${name}" is missing`);
    if (tensor.dtype !== 'F32' || tensor.shape.join() !== shape.join()) {
      throw bad(`tensor "${name}" is ${tensor.dtype} [${tensor.shape.join(', ')}]; expected F32 [${shape.join(', ')}]`);
    }
    return tensor.data as Float32Array;
  };
  const dimOf = (runId: string, where: string): number => {
    const dim = dims.get(runId);
    if (dim === undefined) throw bad(`${where} belongs to run ${runId}, which the session does not hold`);
    return dim;
  };

  const variations = check.list(json['variations'], 'variations', 256).map((entry, i): VariationGrid => {
    const where = `variations[${i}]`;
    const record = check.record(entry, where);
    const runId = check.text(record['runId'], `${where}.runId`);
    const dim = dimOf(runId, where);
    const count = check.integer(record['count'], `${where}.count`, 0, 64);
    const amplitudes = check.numbers(record['amplitudes'], `${where}.amplitudes`, 1, 16);
    const values = check.numbers(record['values'], `${where}.values`, count, count);
    const family = check.oneOf(record['family'], `${where}.family`, DIRECTION_FAMILIES);
    const grid: VariationGrid = {
      runId,
      step: check.integer(record['step'], `${where}.step`, 0, 100000),
      family,
      amplitudes,
      count,
      directions: floats(`variations.${i}.directions`, [count, dim]),
      values,
      valueLabel: check.text(record['valueLabel'], `${where}.valueLabel`),
      images: floats(`variations.${i}.images`, [count, amplitudes.length, dim]),
      seconds: check.number(record['seconds'], `${where}.seconds`),
    };
    // Optional extras of the Jacobian and local families (issue 13/14): checked field by field.
    const search = record['search'];
    if (search !== undefined) {
      const entry = check.record(search, `${where}.search`);
      grid.search = {
        convergenceDeg: check.numbers(entry['convergenceDeg'], `${where}.search.convergenceDeg`, 0, 64),
        toleranceDeg: check.number(entry['toleranceDeg'], `${where}.search.toleranceDeg`),
        notConverged: check.integer(entry['notConverged'], `${where}.search.notConverged`, 0, 1 << 20),
        tiedWith: check.list(entry['tiedWith'], `${where}.search.tiedWith`, 64).map((row, k) => check.numbers(row, `${where}.search.tiedWith[${k}]`, 0, 64)),
        forwardPasses: check.integer(entry['forwardPasses'], `${where}.search.forwardPasses`, 0, Number.MAX_SAFE_INTEGER),
        budget: check.integer(entry['budget'], `${where}.search.budget`, 0, Number.MAX_SAFE_INTEGER),
        asymmetry: check.number(entry['asymmetry'], `${where}.search.asymmetry`),
      };
    }
    const local = record['local'];
    if (local !== undefined) {
      const entry = check.record(local, `${where}.local`);
      const tensor = file.tensors.get(`variations.${i}.mask`);
      if (tensor === undefined || tensor.dtype !== 'F32' || tensor.shape.length !== 1) throw bad(`tensor "variations.${i}.mask" is missing or not F32 [H·W]`);
      grid.local = {
        mask: tensor.data as Float32Array,
        ...(entry['support'] !== undefined ? { support: check.oneOf(entry['support'], `${where}.local.support`, ['free', 'region'] as const) } : {}),
        ...(entry['supportSize'] !== undefined ? { supportSize: check.integer(entry['supportSize'], `${where}.local.supportSize`, 0, 1 << 30) } : {}),
        nullSpaceRank: check.integer(entry['nullSpaceRank'], `${where}.local.nullSpaceRank`, 0, 1 << 20),
        rankChosenBy: check.oneOf(entry['rankChosenBy'], `${where}.local.rankChosenBy`, ['energy', 'user'] as const),
        energyThreshold: check.number(entry['energyThreshold'], `${where}.local.energyThreshold`),
        explainedEnergy: check.number(entry['explainedEnergy'], `${where}.local.explainedEnergy`),
        insideShare: check.numbers(entry['insideShare'], `${where}.local.insideShare`, 0, 64),
      };
    }
    const inside = record['inside'];
    if (inside !== undefined) grid.inside = check.list(inside, `${where}.inside`, 1024).map((v, k) => (v === null ? null : check.number(v, `${where}.inside[${k}]`)));
    const applied = record['applied'];
    if (applied !== undefined) {
      const entry = check.record(applied, `${where}.applied`);
      grid.applied = {
        sourceRunId: check.text(entry['sourceRunId'], `${where}.applied.sourceRunId`),
        sourceStep: check.integer(entry['sourceStep'], `${where}.applied.sourceStep`, 0, 100000),
        labels: check.list(entry['labels'], `${where}.applied.labels`, 64).map((label, k) => check.text(label, `${where}.applied.labels[${k}]`)),
      };
    }
    return grid;
  });

  const trajectories = check.list(json['trajectories'], 'trajectories', 256).map((entry, i): TrajectorySpace => {
    const where = `trajectories[${i}]`;
    const record = check.record(entry, where);
    const runId = check.text(record['runId'], `${where}.runId`);
    dimOf(runId, where);
    const seeds = check.numbers(record['seeds'], `${where}.seeds`, 1, 64);
    const states = check.integer(record['states'], `${where}.states`, 2, 100001);
    const sigmas = check.numbers(record['sigmas'], `${where}.sigmas`, states, states);
    const ghost = record['ghost'] === true;
    const labels = record['axisLabels'];
    const space: TrajectorySpace = {
      runId,
      seeds,
      states,
      sigmas,
      points: floats(`trajectories.${i}.points`, [seeds.length, states, 3]),
      ghost: ghost ? floats(`trajectories.${i}.ghost`, [seeds.length, states, 3]) : null,
      plane: floats(`trajectories.${i}.plane`, [4, 3]),
      basis: check.oneOf(record['basis'], `${where}.basis`, TRAJECTORY_BASES),
      explained: check.numbers(record['explained'], `${where}.explained`, 3, 3),
    };
    if (labels !== undefined) {
      const texts = check.list(labels, `${where}.axisLabels`, 3).map((label, k) => check.text(label, `${where}.axisLabels[${k}]`));
      if (texts.length !== 3) throw bad(`${where}.axisLabels must name 3 axes`);
      space.axisLabels = texts as [string, string, string];
    }
    return space;
  });

  const charts = check.list(json['charts'], 'charts', 1024).map((entry, i): TheoryChart => {
    const where = `charts[${i}]`;
    const chart = checkChart(check, entry, where);
    dimOf(chart.runId!, where);
    return chart;
  });
  return { variations, trajectories, charts };
}

/** A theory chart read from a file: every array a list of finite numbers of the right length. */
function checkChart(check: Checker, value: unknown, where: string): TheoryChart {
  const record = check.record(value, where);
  const analysis = check.oneOf(record['analysis'], `${where}.analysis`, THEORY_ANALYSES);
  const base = {
    runId: check.text(record['runId'], `${where}.runId`),
    modelId: check.text(record['modelId'], `${where}.modelId`),
    seeds: check.numbers(record['seeds'], `${where}.seeds`, 1, 64),
    seconds: check.number(record['seconds'], `${where}.seconds`),
  };
  const table = (name: string, rows: number, columns: number): number[][] =>
    check.list(record[name], `${where}.${name}`, rows, rows).map((row, r) => check.numbers(row, `${where}.${name}[${r}]`, columns, columns));
  switch (analysis) {
    case 'emergence': {
      const sigmas = check.numbers(record['sigmas'], `${where}.sigmas`, 2, 100001);
      const directions = check.list(record['directions'], `${where}.directions`, 256).map((d, k) => {
        const entry = check.record(d, `${where}.directions[${k}]`);
        return {
          index: check.integer(entry['index'], `${where}.directions[${k}].index`, 0, 1 << 24),
          sqrtLambda: check.number(entry['sqrtLambda'], `${where}.directions[${k}].sqrtLambda`),
          commitment: check.number(entry['commitment'], `${where}.directions[${k}].commitment`),
          curve: check.numbers(entry['curve'], `${where}.directions[${k}].curve`, sigmas.length, sigmas.length),
          theory: check.numbers(entry['theory'], `${where}.directions[${k}].theory`, sigmas.length, sigmas.length),
        };
      });
      return { ...base, analysis, sigmas, directions, rankCorrelation: check.number(record['rankCorrelation'], `${where}.rankCorrelation`) };
    }
    case 'perturbation': {
      const injectSteps = check.numbers(record['injectSteps'], `${where}.injectSteps`, 1, 1000);
      const strengths = check.numbers(record['strengths'], `${where}.strengths`, 1, 1000);
      return {
        ...base,
        analysis,
        injectSteps,
        injectSigmas: check.numbers(record['injectSigmas'], `${where}.injectSigmas`, injectSteps.length, injectSteps.length),
        strengths,
        change: table('change', injectSteps.length, strengths.length),
        theory: table('theory', injectSteps.length, strengths.length),
        changeWithStep: check.number(record['changeWithStep'], `${where}.changeWithStep`),
        changeWithStrength: check.number(record['changeWithStrength'], `${where}.changeWithStrength`),
      };
    }
    case 'agreement': {
      const sigmas = check.numbers(record['sigmas'], `${where}.sigmas`, 1, 10000);
      const references = check.list(record['references'], `${where}.references`, 64).map((r, k) => {
        const entry = check.record(r, `${where}.references[${k}]`);
        return {
          name: check.text(entry['name'], `${where}.references[${k}].name`),
          // Older results (before the local model) had no kind or r²: read as their Gaussian kind, r² unknown.
          kind: entry['kind'] === undefined ? 'gaussian' : check.text(entry['kind'], `${where}.references[${k}].kind`),
          ev: check.numbers(entry['ev'], `${where}.references[${k}].ev`, sigmas.length, sigmas.length),
          r2: entry['r2'] === undefined ? sigmas.map(() => Number.NaN) : check.numbers(entry['r2'], `${where}.references[${k}].r2`, sigmas.length, sigmas.length),
        };
      });
      return { ...base, analysis, sigmas, references, probeSource: check.text(record['probeSource'], `${where}.probeSource`) };
    }
    case 'teleport': {
      const rows = check.list(record['rows'], `${where}.rows`, 1000).map((r, k) => {
        const entry = check.record(r, `${where}.rows[${k}]`);
        const n = (key: string): number => check.number(entry[key], `${where}.rows[${k}].${key}`);
        return {
          skip: n('skip'),
          startStep: n('startStep'),
          sigmaSkip: n('sigmaSkip'),
          evaluations: n('evaluations'),
          saved: n('saved'),
          difference: n('difference'),
          pcFrechet: n('pcFrechet'),
          withinNoise: entry['withinNoise'] === true,
        };
      });
      const safe = check.record(record['largestSafe'], `${where}.largestSafe`);
      return {
        ...base,
        analysis,
        rows,
        noise: check.number(record['noise'], `${where}.noise`),
        largestSafe: {
          skip: check.number(safe['skip'], `${where}.largestSafe.skip`),
          saved: check.number(safe['saved'], `${where}.largestSafe.saved`),
          savedFraction: check.number(safe['savedFraction'], `${where}.largestSafe.savedFraction`),
        },
      };
    }
    case 'gan-analogy': {
      const k = check.integer(record['k'], `${where}.k`, 1, 4096);
      const maps = check.list(record['maps'], `${where}.maps`, 3, 1).map((m, j) => {
        const entry = check.record(m, `${where}.maps[${j}]`);
        const n = (key: string): number => check.number(entry[key], `${where}.maps[${j}].${key}`);
        return {
          name: check.oneOf(entry['name'], `${where}.maps[${j}].name`, ['gan', 'diffusion', 'gaussian'] as const),
          title: check.text(entry['title'], `${where}.maps[${j}].title`),
          normalized: check.numbers(entry['normalized'], `${where}.maps[${j}].normalized`, 1, k),
          effectiveRank: n('effectiveRank'),
          coarseTop: n('coarseTop'),
          coarseBottom: n('coarseBottom'),
        };
      });
      return { ...base, analysis, gan: check.text(record['gan'], `${where}.gan`), k, maps, compare: check.number(record['compare'], `${where}.compare`) };
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Field checks that name the offending field in their error. */
class Checker {
  constructor(private readonly bad: (reason: string) => PainterError) {}

  record(value: unknown, where: string): Record<string, unknown> {
    if (!isRecord(value)) throw this.bad(`${where} is not an object`);
    return value;
  }

  list(value: unknown, where: string, max: number, min = 0): unknown[] {
    if (!Array.isArray(value) || value.length < min || value.length > max) throw this.bad(`${where} must be a list of ${min} to ${max} items`);
    return value;
  }

  text(value: unknown, where: string): string {
    if (typeof value !== 'string' || value.length === 0 || value.length > 4096) throw this.bad(`${where} must be a non-empty string`);
    return value;
  }

  number(value: unknown, where: string): number {
    // JSON has no NaN or Infinity: a chart cell that was NaN arrives as null and is kept as NaN (drawn as a gap).
    if (value === null) return Number.NaN;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.bad(`${where} must be a number`);
    return value;
  }

  integer(value: unknown, where: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw this.bad(`${where} must be an integer from ${min} to ${max}`);
    return value;
  }

  numbers(value: unknown, where: string, min: number, max: number): number[] {
    return this.list(value, where, max, min).map((v, k) => this.number(v, `${where}[${k}]`));
  }

  oneOf<T extends string>(value: unknown, where: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw this.bad(`${where} must be one of ${allowed.join(', ')}`);
    return value as T;
  }
}
