/**
 * fast-check arbitraries for API calls (the fuzzers in tests/cli/api-fuzz.test.ts):
 * for every method of the contract, arguments that are mostly well-formed
 * but with any field replaced, dropped or added, and paths aimed inside the
 * workspace, just outside it, through links and at the system.
 */
import fc from 'fast-check';
import type { ApiMethod } from '../../electron/api/contract';

export interface FuzzTargets {
  /** Run ids that exist (so valid calls reach the engine, not just the validators). */
  runIds: () => string[];
  /** Names to write and read inside the workspace (allowed), without their extension. */
  inside: string[];
  /** Paths outside it, through a link out, relative escapes, system files, special files. */
  paths: string[];
  /** Model folders: one valid inside, others outside or bogus. */
  folders: string[];
}

/** The valid value most of the time; otherwise any JSON value (a wrong type, a wrong shape). */
function mostly<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | fc.JsonValue> {
  return fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** An object with these fields, each possibly missing, sometimes with an unexpected extra key. */
function params(model: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const mostlyModel = Object.fromEntries(Object.entries(model).map(([key, arbitrary]) => [key, mostly(arbitrary)]));
  return fc.oneof(
    { weight: 6, arbitrary: fc.record(mostlyModel, { requiredKeys: Object.keys(model) }) },
    { weight: 2, arbitrary: fc.record(mostlyModel, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.tuple(fc.record(mostlyModel), fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })).map(([p, key, v]) => ({ ...p, [key]: v })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

const float32 = (max: number): fc.Arbitrary<Float32Array> => fc.float32Array({ maxLength: max, noDefaultInfinity: false });

export function callArbitrary(targets: FuzzTargets): fc.Arbitrary<{ method: string; params: unknown }> {
  const runId = fc.oneof({ weight: 3, arbitrary: fc.constant(null).map(() => targets.runIds()).chain((ids) => (ids.length > 0 ? fc.constantFrom(...ids) : fc.uuid())) }, { weight: 1, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.string({ maxLength: 140 }) });
  const runIds = fc.array(runId, { minLength: 0, maxLength: 4 });
  /** A path for a file of this extension: mostly inside the workspace, else anywhere (or any other string). */
  const pathFor = (extension: string): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...targets.inside).map((name) => `${name}${extension}`) },
      { weight: 3, arbitrary: fc.constantFrom(...targets.paths) },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
    );
  const jobId = fc.oneof(fc.uuid(), fc.constantFrom('job-a', 'job-b'));
  const point = fc.record({ x: fc.double({ min: -50, max: 80 }), y: fc.double({ min: -50, max: 80 }) });
  const brush = params({
    kind: fc.constantFrom('noise', 'intensity', 'direction'),
    points: fc.array(point, { maxLength: 6 }),
    radius: fc.double({ min: 0, max: 40 }),
    strength: fc.double({ min: 0, max: 50 }),
    seed: fc.nat(),
    grain: fc.double({ min: 0, max: 8 }),
    color: fc.array(fc.double({ min: -1.5, max: 1.5 }), { maxLength: 4 }),
    direction: fc.oneof(
      params({ kind: fc.constant('gaussian-pc'), index: fc.nat({ max: 40 }), sign: fc.constantFrom(1, -1) }),
      params({ kind: fc.constant('vector'), label: fc.string({ maxLength: 10 }), values: float32(40) }),
    ),
  });
  const steps = fc.integer({ min: 0, max: 30 });
  const droppedFile = params({ name: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('run.safetensors', '../x.painter', 'a/b.png')), bytes: fc.uint8Array({ maxLength: 64 }) });
  const byMethod: Record<ApiMethod, fc.Arbitrary<unknown>> = {
    listModels: params({}),
    listRuns: params({}),
    recentSessions: params({}),
    studioPaths: params({}),
    storage: params({}),
    providerSettings: params({}),
    // Mostly CPU (a provider switch reloads every model); the rest are refused or fall back with a notice.
    setProvider: params({ provider: fc.oneof({ weight: 6, arbitrary: fc.constant('cpu') }, { weight: 1, arbitrary: fc.constantFrom('auto', 'webgpu', 'cuda', 'gpu', '') }) }),
    setStorage: params({ runMemoryMB: fc.integer({ min: 0, max: 4096 }), autosaveDiskMB: fc.integer({ min: 0, max: 8192 }) }),
    addModelFolder: params({ folder: fc.oneof(fc.constantFrom(...targets.folders), fc.string({ maxLength: 100 })) }),
    generate: params({
      jobId,
      modelId: fc.constantFrom('fixture-gaussian', 'fixture-gmm', 'fixture-delta', 'fixture-eps-int64', 'fixture-eps-class', 'no-such-model'),
      seed: fc.nat(),
      steps,
      sampler: fc.constantFrom('euler', 'heun', 'ddpm', 'rk4'),
      classLabel: fc.oneof(fc.constant(null), fc.integer({ min: -1, max: 12 })),
      guidance: fc.double({ min: -1, max: 8 }),
      // Prompt fields on models that take none are refused by name; odd sizes by their multiple.
      prompt: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
      negativePrompt: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      width: fc.option(fc.integer({ min: -8, max: 80 }), { nil: undefined }),
      height: fc.option(fc.integer({ min: -8, max: 80 }), { nil: undefined }),
    }),
    cancel: params({ jobId }),
    decodeState: params({ runId, step: fc.integer({ min: -1, max: 40 }), which: fc.constantFrom('xt', 'x0Hat', 'both') }),
    // Only ids that are not added folders: a bundled model is refused, an unknown one named.
    removeModel: params({ modelId: fc.constantFrom('fixture-gaussian', 'fixture-eps-int64', 'no-such-model', '') }),
    getRun: params({ runId }),
    saveRun: params({ runId, path: pathFor('.safetensors') }),
    openRun: params({ path: pathFor('.safetensors') }),
    branch: params({ jobId, runId, step: fc.integer({ min: -1, max: 25 }), brush }),
    // Heavy jobs: only ever on run ids that do not exist (their validators and the lookup are what is fuzzed).
    variations: fc.oneof(
      params({ jobId, runId: fc.uuid(), step: fc.nat({ max: 30 }), family: fc.constantFrom('jacobian', 'x0-pcs', 'generator', 'none'), directions: fc.integer({ min: 0, max: 9 }), amplitudes: fc.array(fc.double(), { maxLength: 10 }) }),
      params({
        jobId,
        runId: fc.uuid(),
        step: fc.nat({ max: 30 }),
        family: fc.constantFrom('jacobian', 'x0-pcs'),
        directions: fc.integer({ min: 1, max: 8 }),
        amplitudes: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 9 }),
        mask: float32(40),
        nullSpaceRank: fc.integer({ min: -1, max: 70000 }),
        apply: params({ directions: float32(40), labels: fc.array(fc.string({ maxLength: 12 }), { maxLength: 9 }), sourceRunId: runId, sourceStep: fc.nat({ max: 30 }) }),
      }),
    ),
    theory: params({ jobId, runId: fc.uuid(), analysis: fc.constantFrom('emergence', 'perturbation', 'agreement', 'teleport', 'nope'), seeds: fc.integer({ min: 0, max: 40 }) }),
    localGhost: params({ jobId, runId: fc.uuid() }),
    trajectorySpace: params({ jobId, runId: fc.uuid(), count: fc.integer({ min: 0, max: 40 }), basis: fc.constantFrom('run', 'all', 'x') }),
    deleteRuns: params({ runIds }),
    restoreRuns: params({ runIds }),
    runThumbnails: params({ runIds }),
    // Dropped files: real run/session bytes are not at hand here, so random bytes (refused as files) and names with paths.
    importRun: params({ file: droppedFile }),
    importSession: params({ session: droppedFile, runs: fc.array(droppedFile, { maxLength: 3 }) }),
    // Heavy job: only on models that do not exist or images of the wrong size (the validators and checks are what is fuzzed).
    generateFromImage: params({
      jobId,
      modelId: fc.constantFrom('no-such-model', 'fixture-gaussian'),
      seed: fc.nat(),
      steps,
      sampler: fc.constantFrom('euler', 'heun', 'ddpm'),
      classLabel: fc.constant(null),
      guidance: fc.constant(1),
      image: float32(15),
      startStep: fc.integer({ min: -1, max: 40 }),
      name: fc.string({ maxLength: 40 }),
    }),
    gaussianGhost: params({ runId }),
    saveSession: params({ path: pathFor('.painter'), name: fc.string({ maxLength: 30 }), runIds, current: fc.oneof(fc.constant(null), params({ runId, step: fc.nat({ max: 30 }) })) }),
    openSession: params({ path: pathFor('.painter') }),
    exportStrip: params({ runId, path: pathFor('.png'), layer: fc.constantFrom('x0Hat', 'xt', 'both', 'z'), frames: fc.integer({ min: 0, max: 30 }), scale: fc.integer({ min: 0, max: 4 }) }),
    exportAnimation: params({ runId, path: pathFor('.gif'), layer: fc.constantFrom('x0Hat', 'xt', 'both'), frameMs: fc.integer({ min: 0, max: 200 }), scale: fc.integer({ min: 0, max: 3 }) }),
    exportTrajectories: params({ runIds, path: pathFor('.safetensors'), includeGhost: fc.boolean() }),
  };
  const known = Object.keys(byMethod) as ApiMethod[];
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...known).chain((method) => byMethod[method].map((p) => ({ method: method as string, params: p }))) },
    { weight: 1, arbitrary: fc.record({ method: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty')), params: fc.jsonValue({ maxDepth: 2 }) }) },
  );
}
