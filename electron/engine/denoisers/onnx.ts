/**
 * The ONNX network denoiser — the only module that touches ONNX Runtime.
 * Driven entirely by the manifest: tensor names and dtypes, timestep encoding,
 * prediction type and schedule. The manifest is checked against the session's
 * own input/output metadata at load, so a mismatch is reported by name before
 * any sampling starts.
 *
 * Sessions open on an execution provider through {@link openCheckedSession}:
 * the fallback chain and self-check of ../providers.ts.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ProviderChoice, ProviderName, ProviderOption } from '../../api/contract';
import { PainterError, quoteText } from '../errors';
import { checkRegularFile } from '../files';
import type { GanManifest, OnnxManifest, TensorDtype } from '../manifest';
import {
  notInBuildNotice,
  passesSelfCheck,
  providerChain,
  providerFailureReason,
  providerOptions,
  relativeMaxDifference,
  selfCheckNotice,
  startFailureNotice,
} from '../providers';
import { seededNormal } from '../rng';
import { ContinuousVpSchedule, DiscreteVpSchedule, scheduleFromSpec, vpAlpha, type NoiseSchedule } from '../schedules';
import { combineGuidance, needsGuidancePair } from './guidance';
import { imageDim, type DenoiseCondition, type Denoiser } from './types';

/**
 * ONNX Runtime ≥ 1.2x sends telemetry and, on Linux and macOS, writes a device
 * id and an event cache to ~/.cache/Microsoft/DeveloperTools/.onnxruntime/.
 * ORT_DISABLE_TELEMETRY=1 turns all of it off (no uploader, no device id, no
 * cache) when set before the runtime's environment is created, which happens
 * with the first session; setting it here, when this module loads, is early
 * enough (checked by tests/cli/telemetry.test.ts with a temporary HOME).
 * A value the user set in the environment is left as it is.
 */
process.env['ORT_DISABLE_TELEMETRY'] ??= '1';

export type { ProviderName } from '../../api/contract';

export interface OnnxLoadOptions {
  /** `auto` or one provider; CPU when absent (the engine passes the user's choice). */
  provider?: ProviderChoice;
  /** Called with a one-line notice for each provider that could not be used. */
  onProviderFallback?: (message: string) => void;
}

/** `${platform}-${arch}` of this process, as the notices and settings name it. */
export function platformName(): string {
  return `${process.platform}-${process.arch}`;
}

/**
 * The folder of onnxruntime-node's native binding for this platform, found in
 * the module cache (whatever bundle or asar the engine runs from), or null
 * before ONNX Runtime has loaded.
 */
function ortBinaryFolder(): string | null {
  const cache = createRequire(join(process.cwd(), 'painter.cjs')).cache;
  const binding = Object.keys(cache).find((path) => basename(path) === 'onnxruntime_binding.node');
  return binding === undefined ? null : dirname(binding);
}

/** CUDA's provider library, which onnxruntime-node's installer fetches (`npm run gpu:cuda`) rather than bundles. */
const CUDA_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

function libraryInstalled(provider: ProviderName): boolean {
  if (provider !== 'cuda') return true;
  const folder = ortBinaryFolder();
  const library = CUDA_LIBRARY[process.platform];
  return folder !== null && library !== undefined && existsSync(join(folder, library));
}

/** Each execution provider as this machine's ONNX Runtime build offers it. */
export function providerOptionsHere(): ProviderOption[] {
  return providerOptions(ort.listSupportedBackends(), libraryInstalled, platformName());
}

let ortConfigured = false;
/** ONNX Runtime's own log lines repeat the errors that become one-line notices; keep only fatal ones. */
function configureOrt(): void {
  if (ortConfigured) return;
  ort.env.logLevel = 'fatal';
  ortConfigured = true;
}

/** A fixed forward pass used to check a provider against CPU. */
export interface SessionSelfCheck {
  feeds(): Record<string, ort.Tensor>;
  /** The output compared. */
  output: string;
}

export interface OpenSessionOptions {
  provider: ProviderChoice;
  /** Names the network in notices and errors, e.g. `model "fashion-mnist"`. */
  subject: string;
  /** Checks the graph once, on the first session made; throws to refuse it. */
  validate?: (session: ort.InferenceSession) => void;
  /** Without one, a provider that starts is used unchecked. */
  selfCheck?: SessionSelfCheck;
  onNotice?: (message: string) => void;
  sessionOptions?: Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;
}

export interface CheckedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** One line per provider that was skipped, failed to start or failed its self-check. */
  notices: string[];
  /** The self-check's max |y − y_cpu| / RMS(y_cpu) on the provider used (0 on CPU; null when not checked). */
  selfCheckDifference: number | null;
}

async function runSelfCheck(session: ort.InferenceSession, check: SessionSelfCheck): Promise<Float32Array> {
  const result = await session.run(check.feeds());
  const output = result[check.output];
  const data = output?.data instanceof Float32Array ? output.data.slice() : null;
  for (const tensor of Object.values(result)) tensor.dispose();
  if (data === null) throw new Error(`output "${check.output}" is missing or not float32`);
  return data;
}

/**
 * Opens a session on the first provider of the choice's chain that starts and
 * agrees with CPU on a fixed input ({@link SELF_CHECK_TOLERANCE}); each
 * provider passed over leaves one notice. A model ONNX Runtime cannot read at
 * all is BAD_MODEL, whatever the provider.
 */
export async function openCheckedSession(modelPath: string, options: OpenSessionOptions): Promise<CheckedSession> {
  configureOrt();
  const offered = providerOptionsHere();
  const chain = providerChain(options.provider, offered);
  const notices: string[] = [];
  const notice = (message: string): void => {
    notices.push(message);
    options.onNotice?.(message);
  };
  const create = async (provider: ProviderName): Promise<ort.InferenceSession> =>
    ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all', ...options.sessionOptions, executionProviders: [provider] });
  let validated = false;
  const validate = async (session: ort.InferenceSession): Promise<void> => {
    if (validated) return;
    try {
      options.validate?.(session);
    } catch (error) {
      await session.release();
      throw error;
    }
    validated = true;
  };

  let cpu: ort.InferenceSession | null = null;
  const openCpu = async (): Promise<ort.InferenceSession> => {
    if (cpu !== null) return cpu;
    let session: ort.InferenceSession;
    try {
      session = await create('cpu');
    } catch (error) {
      throw new PainterError('BAD_MODEL', `${capitalise(options.subject)}: ONNX Runtime cannot load ${modelPath}: ${providerFailureReason(error)}`, { path: modelPath });
    }
    await validate(session);
    cpu = session;
    return session;
  };

  const accelerated = chain.filter((provider) => provider !== 'cpu');
  let reference: Float32Array | null = null;
  if (accelerated.length > 0 && options.selfCheck !== undefined) {
    // The model must load on CPU anyway (the reference, and the last resort); a broken file fails here, named.
    reference = await runSelfCheck(await openCpu(), options.selfCheck);
  }
  for (const [index, provider] of chain.entries()) {
    if (provider === 'cpu') break;
    const next = chain[index + 1] ?? 'cpu';
    if (!offered.find((option) => option.name === provider)!.inBuild) {
      notice(notInBuildNotice(provider, options.subject, platformName(), next));
      continue;
    }
    let session: ort.InferenceSession;
    try {
      session = await create(provider);
    } catch (error) {
      if (cpu === null && isUnreadableModel(error)) await openCpu(); // throws BAD_MODEL, named
      notice(startFailureNotice(provider, options.subject, providerFailureReason(error), next));
      continue;
    }
    await validate(session);
    let difference: number | null = null;
    if (reference !== null && options.selfCheck !== undefined) {
      try {
        difference = relativeMaxDifference(await runSelfCheck(session, options.selfCheck), reference);
      } catch (error) {
        await session.release();
        notice(startFailureNotice(provider, options.subject, `its first forward pass failed: ${providerFailureReason(error)}`, next));
        continue;
      }
      if (!passesSelfCheck(provider, difference)) {
        await session.release();
        notice(selfCheckNotice(provider, options.subject, difference, next));
        continue;
      }
    }
    if (cpu !== null) await (cpu as ort.InferenceSession).release();
    return { session, provider, notices, selfCheckDifference: difference };
  }
  return { session: await openCpu(), provider: 'cpu', notices, selfCheckDifference: reference !== null ? 0 : null };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

type TensorMetadata = { name: string; type: string; shape: ReadonlyArray<number | string> };

function badModel(manifest: OnnxManifest, message: string, details: Record<string, unknown> = {}): PainterError {
  return new PainterError('BAD_MODEL', `Model "${manifest.id}": ${message}`, { model: manifest.id, ...details });
}

function tensorMetadata(list: readonly ort.InferenceSession.ValueMetadata[], name: string): TensorMetadata | undefined {
  const found = list.find((entry) => entry.name === name);
  if (found === undefined || !found.isTensor) return undefined;
  return { name: found.name, type: found.type, shape: found.shape };
}

/** Checks the manifest against the graph; returns the graph's fixed batch size, if any. */
export function checkSessionAgainstManifest(
  manifest: OnnxManifest,
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  outputs: readonly ort.InferenceSession.ValueMetadata[],
): number | undefined {
  const io = manifest.onnx;
  const inputNames = inputs.map((entry) => entry.name);
  const require = (name: string, role: string, list: readonly ort.InferenceSession.ValueMetadata[], listNames: string[]): TensorMetadata => {
    const meta = tensorMetadata(list, name);
    if (meta === undefined) {
      throw badModel(manifest, `the manifest's ${role} tensor "${name}" is not in the graph; the graph has ${listNames.map((n) => `"${n}"`).join(', ')}.`, {
        tensor: name,
        available: listNames,
      });
    }
    return meta;
  };
  const checkDtype = (meta: TensorMetadata, expected: TensorDtype, role: string): void => {
    if (meta.type !== expected) {
      throw badModel(manifest, `${role} tensor "${meta.name}" is ${meta.type} in the graph but the manifest says ${expected}.`, {
        tensor: meta.name,
        expected,
        actual: meta.type,
      });
    }
  };

  const sample = require(io.sample.name, 'sample', inputs, inputNames);
  checkDtype(sample, 'float32', 'sample');
  const { channels, height, width } = manifest.image;
  const expectedChw = [channels, height, width];
  if (sample.shape.length !== 4 || sample.shape.slice(1).some((dim, i) => typeof dim === 'number' && dim !== expectedChw[i])) {
    throw badModel(manifest, `sample tensor "${sample.name}" has shape [${sample.shape.join(', ')}]; the manifest's image needs [batch, ${expectedChw.join(', ')}].`, {
      tensor: sample.name,
      shape: sample.shape,
      expected: ['batch', ...expectedChw],
    });
  }
  const batchDim = sample.shape[0];
  const graphFixedBatch = typeof batchDim === 'number' && batchDim > 0 ? batchDim : undefined;
  if (graphFixedBatch !== io.fixedBatch) {
    throw badModel(
      manifest,
      graphFixedBatch === undefined
        ? `the manifest says fixedBatch ${io.fixedBatch} but the graph's batch dimension is dynamic.`
        : `the graph has a fixed batch of ${graphFixedBatch}; set "fixedBatch": ${graphFixedBatch} in the manifest's onnx section.`,
      { tensor: sample.name, graphBatch: batchDim, manifestFixedBatch: io.fixedBatch ?? null },
    );
  }

  const timestep = require(io.timestep.name, 'timestep', inputs, inputNames);
  checkDtype(timestep, io.timestep.dtype, 'timestep');
  const scalarShape = timestep.shape.length === 0 || (timestep.shape.length === 1 && timestep.shape[0] === 1 && graphFixedBatch !== 1);
  if (io.timestep.shape === 'scalar' && !scalarShape) {
    throw badModel(manifest, `timestep tensor "${timestep.name}" has shape [${timestep.shape.join(', ')}] but the manifest says scalar.`, {
      tensor: timestep.name,
      shape: timestep.shape,
    });
  }
  if (io.timestep.shape === 'batch' && timestep.shape.length !== 1) {
    throw badModel(manifest, `timestep tensor "${timestep.name}" has shape [${timestep.shape.join(', ')}] but the manifest says one value per batch item ([batch]).`, {
      tensor: timestep.name,
      shape: timestep.shape,
    });
  }

  const described = new Set([io.sample.name, io.timestep.name]);
  if (io.classLabel !== undefined) {
    const label = require(io.classLabel.name, 'class label', inputs, inputNames);
    checkDtype(label, io.classLabel.dtype, 'class label');
    described.add(io.classLabel.name);
  }
  const undescribed = inputNames.filter((name) => !described.has(name));
  if (undescribed.length > 0) {
    throw badModel(manifest, `graph input${undescribed.length > 1 ? 's' : ''} ${undescribed.map((n) => `"${n}"`).join(', ')} not described by the manifest.`, {
      tensors: undescribed,
    });
  }

  const output = require(io.output.name, 'output', outputs, outputs.map((entry) => entry.name));
  checkDtype(output, 'float32', 'output');
  return graphFixedBatch;
}

export class OnnxDenoiser implements Denoiser {
  readonly dim: number;
  readonly schedule: NoiseSchedule;
  readonly classes: readonly string[] | null;
  readonly unconditional: boolean;
  /** Forward calls made so far (a guidance pair batched together counts once). */
  forwardCalls = 0;

  private constructor(
    readonly manifest: OnnxManifest,
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    /** Why the network is not on the provider asked for (one line per provider passed over). */
    readonly providerNotices: readonly string[] = [],
    /** The provider's self-check difference from CPU (null when not checked). */
    readonly selfCheckDifference: number | null = null,
  ) {
    this.dim = imageDim(manifest.image);
    this.schedule = scheduleFromSpec(manifest.schedule, manifest.onnx.timestep.encoding === 'continuous');
    this.classes = manifest.conditioning?.classes ?? null;
    this.unconditional = manifest.onnx.classLabel === undefined || manifest.conditioning?.nullLabel !== undefined;
  }

  get image(): OnnxManifest['image'] {
    return this.manifest.image;
  }

  static async load(manifest: OnnxManifest, modelPath: string, options: OnnxLoadOptions = {}): Promise<OnnxDenoiser> {
    checkRegularFile(modelPath, 'onnx'); // ONNX Runtime opens it by path: a FIFO or device would hang it
    const schedule = scheduleFromSpec(manifest.schedule, manifest.onnx.timestep.encoding === 'continuous');
    const opened = await openCheckedSession(modelPath, {
      provider: options.provider ?? 'cpu',
      subject: `model "${manifest.id}"`,
      validate: (session) => checkSessionAgainstManifest(manifest, session.inputMetadata, session.outputMetadata),
      selfCheck: { feeds: () => selfCheckFeeds(manifest, schedule), output: manifest.onnx.output.name },
      ...(options.onProviderFallback ? { onNotice: options.onProviderFallback } : {}),
    });
    return new OnnxDenoiser(manifest, opened.session, opened.provider, opened.notices, opened.selfCheckDifference);
  }

  /**
   * x̂0 = D(x, σ). VP models: the network sees x_t = α_t x at the discrete t
   * nearest σ, and its ε/v/x0 output is converted with that t's α_t, σ_t.
   */
  async denoise(x: Float32Array, sigmas: ArrayLike<number>, condition?: DenoiseCondition): Promise<Float32Array> {
    const batch = x.length / this.dim;
    const labels = condition?.labels ?? new Array<number | null>(batch).fill(null);
    if (!needsGuidancePair(condition)) return this.forward(x, sigmas, labels);
    // Conditional and unconditional passes batched into one forward call.
    const doubled = new Float32Array(2 * x.length);
    doubled.set(x);
    doubled.set(x, x.length);
    const doubledSigmas = [...Array.from(sigmas), ...Array.from(sigmas)];
    const both = await this.forward(doubled, doubledSigmas, [...labels, ...labels.map(() => null)]);
    const conditional = both.subarray(0, x.length);
    const unconditional = both.subarray(x.length);
    const out = combineGuidance(unconditional, conditional, condition!.guidance);
    // Unconditional samples in a mixed batch keep their plain output.
    labels.forEach((label, b) => {
      if (label === null) out.set(unconditional.subarray(b * this.dim, (b + 1) * this.dim), b * this.dim);
    });
    return out;
  }

  private labelValue(label: number | null): number {
    if (label === null) {
      const nullLabel = this.manifest.conditioning?.nullLabel;
      if (nullLabel === undefined) throw new PainterError('BAD_ARGUMENT', `Model "${this.manifest.id}" is class-conditional only; choose a class.`);
      return nullLabel;
    }
    return label;
  }

  private async forward(x: Float32Array, sigmas: ArrayLike<number>, labels: ReadonlyArray<number | null>): Promise<Float32Array> {
    const io = this.manifest.onnx;
    const batch = x.length / this.dim;
    const out = new Float32Array(x.length);
    // Chunks: the graph's fixed batch, or groups sharing one σ for a scalar timestep.
    let start = 0;
    while (start < batch) {
      let end = batch;
      if (io.fixedBatch !== undefined) end = Math.min(batch, start + io.fixedBatch);
      if (io.timestep.shape === 'scalar') {
        end = start + 1;
        while (end < batch && sigmas[end] === sigmas[start] && (io.fixedBatch === undefined || end - start < io.fixedBatch)) end++;
      }
      const chunk = await this.forwardChunk(x, sigmas, labels, start, end);
      out.set(chunk, start * this.dim);
      start = end;
    }
    this.forwardCalls++;
    return out;
  }

  private async forwardChunk(
    x: Float32Array,
    sigmas: ArrayLike<number>,
    labels: ReadonlyArray<number | null>,
    start: number,
    end: number,
  ): Promise<Float32Array> {
    const io = this.manifest.onnx;
    const { dim } = this;
    const count = end - start;
    const rows = io.fixedBatch ?? count; // pad a short chunk to the fixed batch
    const input = new Float32Array(rows * dim);
    const effective = new Float64Array(rows);
    const timesteps = new Float64Array(rows);
    const schedule = this.schedule;
    let previousSigma = Number.NaN;
    let sigmaUsed = 0;
    let timestep = 0;
    let scale = 1;
    for (let r = 0; r < rows; r++) {
      const b = start + (r < count ? r : count - 1);
      const sigma = sigmas[b]!;
      if (sigma !== previousSigma) {
        previousSigma = sigma;
        ({ timestep, sigma: sigmaUsed } = this.timestepInput(sigma));
        scale = schedule.modelScale(sigmaUsed);
      }
      effective[r] = sigmaUsed;
      timesteps[r] = timestep;
      const offset = b * dim;
      const target = r * dim;
      for (let i = 0; i < dim; i++) input[target + i] = x[offset + i]! * scale;
    }
    const { channels, height, width } = this.manifest.image;
    const feeds: Record<string, ort.Tensor> = {
      [io.sample.name]: new ort.Tensor('float32', input, [rows, channels, height, width]),
      [io.timestep.name]: timestepTensor(io.timestep.shape === 'scalar' ? timesteps.subarray(0, 1) : timesteps, io.timestep.dtype, io.timestep.shape === 'scalar'),
    };
    if (io.classLabel !== undefined) {
      const values = Array.from({ length: rows }, (_, r) => this.labelValue(labels[start + Math.min(r, count - 1)] ?? null));
      feeds[io.classLabel.name] = intTensor(values, io.classLabel.dtype, [rows]);
    }
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds);
    } catch (error) {
      throw badModel(this.manifest, `the network failed to run: ${firstLine(error)}`);
    }
    const output = result[io.output.name];
    if (output === undefined || !(output.data instanceof Float32Array) || output.data.length !== rows * dim) {
      throw badModel(this.manifest, `output "${io.output.name}" did not have ${rows}×${dim} float32 values.`);
    }
    const x0 = this.toX0(input, output.data, effective, count);
    for (const tensor of Object.values(result)) tensor.dispose();
    return x0;
  }

  /**
   * The timestep value fed for σ, and the σ it stands for (a discrete
   * network's nearest timestep; a continuous one's float32 time).
   */
  private timestepInput(sigma: number): { timestep: number; sigma: number } {
    return timestepInput(this.manifest, this.schedule, sigma);
  }

  private toX0(modelInput: Float32Array, output: Float32Array, sigmas: Float64Array, count: number): Float32Array {
    const { dim } = this;
    const prediction = this.manifest.prediction;
    const vp = this.schedule.kind === 'vp';
    const x0 = new Float32Array(count * dim);
    for (let r = 0; r < count; r++) {
      const sigma = sigmas[r]!;
      // VP: x_t = α x0 + s ε with α = 1/sqrt(1+σ²), s = σ α. EDM: x = x0 + σ ε.
      const alpha = vp ? vpAlpha(sigma) : 1;
      const s = vp ? sigma * alpha : sigma;
      const begin = r * dim;
      const stop = begin + dim;
      if (prediction === 'x0') {
        x0.set(output.subarray(begin, stop), begin);
      } else if (prediction === 'epsilon') {
        const inverseAlpha = 1 / alpha;
        for (let k = begin; k < stop; k++) x0[k] = (modelInput[k]! - s * output[k]!) * inverseAlpha;
      } else {
        for (let k = begin; k < stop; k++) x0[k] = alpha * modelInput[k]! - s * output[k]!;
      }
    }
    return x0;
  }

  /**
   * Seconds per bare `session.run` at batch `batch` (inputs prepared once,
   * mid-schedule timestep): the denominator of the engine-overhead benchmark.
   */
  async timeBareForward(batch: number, repeats: number): Promise<number> {
    const rows = this.manifest.onnx.fixedBatch ?? batch;
    const feeds = fixedFeeds(this.manifest, this.schedule, new Float32Array(rows * this.dim).fill(0.1));
    const run = async (): Promise<void> => {
      const result = await this.session.run(feeds);
      for (const tensor of Object.values(result)) tensor.dispose();
    };
    for (let i = 0; i < 3; i++) await run();
    const started = performance.now();
    for (let i = 0; i < repeats; i++) await run();
    return (performance.now() - started) / 1000 / repeats;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The network's timestep input for σ, and the σ it stands for (the nearest grid σ for a discrete schedule). */
function timestepInput(manifest: OnnxManifest, schedule: NoiseSchedule, sigma: number): { timestep: number; sigma: number } {
  switch (manifest.onnx.timestep.encoding) {
    case 'index':
    case 'fraction': {
      const discrete = schedule as DiscreteVpSchedule;
      const t = discrete.timestepOf(sigma);
      return { timestep: manifest.onnx.timestep.encoding === 'index' ? t : t / discrete.timesteps, sigma: discrete.sigmas[t]! };
    }
    case 'continuous': {
      const continuous = schedule as ContinuousVpSchedule;
      const u = Math.fround(continuous.timeOf(sigma));
      return { timestep: u, sigma: continuous.sigmaAt(u) };
    }
    case 'sigma':
      return { timestep: sigma, sigma };
    case 'edm-cnoise':
      return { timestep: Math.log(sigma) / 4, sigma };
  }
}

function timestepTensor(values: Float64Array, dtype: TensorDtype, scalar: boolean): ort.Tensor {
  const dims = scalar ? [] : [values.length];
  if (dtype === 'int64') {
    const data = new BigInt64Array(values.length);
    let previous = Number.NaN;
    let big = 0n;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== previous) {
        previous = values[i]!;
        big = BigInt(Math.round(previous));
      }
      data[i] = big;
    }
    return new ort.Tensor('int64', data, dims);
  }
  return new ort.Tensor('float32', Float32Array.from(values), dims);
}

function intTensor(values: number[], dtype: TensorDtype, dims: number[]): ort.Tensor {
  if (dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
  return new ort.Tensor('float32', Float32Array.from(values), dims);
}

/**
 * Feeds for one forward pass of `sample` ([rows·C·H·W]) at a mid-schedule
 * timestep (σ a tenth of σ_max, on the model's own grid) with class 0 where
 * the graph takes a label: the benchmark's and the self-check's input.
 */
function fixedFeeds(manifest: OnnxManifest, schedule: NoiseSchedule, sample: Float32Array): Record<string, ort.Tensor> {
  const io = manifest.onnx;
  const { channels, height, width } = manifest.image;
  const rows = sample.length / (channels * height * width);
  const { timestep } = timestepInput(manifest, schedule, schedule.sigmaMax / 10);
  const feeds: Record<string, ort.Tensor> = {
    [io.sample.name]: new ort.Tensor('float32', sample, [rows, channels, height, width]),
    [io.timestep.name]: timestepTensor(new Float64Array(io.timestep.shape === 'scalar' ? 1 : rows).fill(timestep), io.timestep.dtype, io.timestep.shape === 'scalar'),
  };
  if (io.classLabel !== undefined) feeds[io.classLabel.name] = intTensor(new Array<number>(rows).fill(0), io.classLabel.dtype, [rows]);
  return feeds;
}

/** The self-check's fixed input: standard normal values (seed 0), two images or the graph's fixed batch. */
function selfCheckFeeds(manifest: OnnxManifest, schedule: NoiseSchedule): Record<string, ort.Tensor> {
  const rows = manifest.onnx.fixedBatch ?? 2;
  return fixedFeeds(manifest, schedule, seededNormal(0, 0, rows * imageDim(manifest.image)));
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}

function isUnreadableModel(error: unknown): boolean {
  const text = firstLine(error);
  return /protobuf|no such file|load model|INVALID_PROTOBUF|NO_SUCHFILE/i.test(text);
}

/**
 * A feed-forward ONNX network with one float32 image input and named float32
 * outputs (the judge classifier). Dynamic batch; run in chunks.
 */
export class OnnxImageNetwork {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly inputShape: readonly [number, number, number],
  ) {}

  static async load(path: string, inputName: string, outputNames: readonly string[], inputShape: readonly [number, number, number]): Promise<OnnxImageNetwork> {
    checkRegularFile(path, 'onnx');
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new PainterError('BAD_MODEL', `ONNX Runtime cannot load ${path}: ${firstLine(error)}`, { path });
    }
    const missing = [inputName, ...outputNames].filter((name) => !session.inputNames.includes(name) && !session.outputNames.includes(name));
    if (missing.length > 0) {
      await session.release();
      throw new PainterError('BAD_MODEL', `${path} has no tensor ${missing.map((n) => `"${n}"`).join(', ')}; it has inputs ${session.inputNames.join(', ')} and outputs ${session.outputNames.join(', ')}.`, {
        path,
        missing,
      });
    }
    return new OnnxImageNetwork(session, inputName, inputShape);
  }

  /** Runs `images` ([N·C·H·W]) through the network in chunks; returns each named output, concatenated. */
  async run(images: Float32Array, outputs: readonly string[], chunk = 256): Promise<Record<string, Float32Array>> {
    const [c, h, w] = this.inputShape;
    const dim = c * h * w;
    const count = images.length / dim;
    const parts: Record<string, Float32Array[]> = Object.fromEntries(outputs.map((name) => [name, []]));
    for (let start = 0; start < count; start += chunk) {
      const rows = Math.min(chunk, count - start);
      const input = new ort.Tensor('float32', images.slice(start * dim, (start + rows) * dim), [rows, c, h, w]);
      const result = await this.session.run({ [this.inputName]: input });
      for (const name of outputs) parts[name]!.push((result[name]!.data as Float32Array).slice());
      for (const tensor of Object.values(result)) tensor.dispose();
    }
    return Object.fromEntries(
      outputs.map((name) => {
        const list = parts[name]!;
        const total = list.reduce((n, p) => n + p.length, 0);
        const out = new Float32Array(total);
        let offset = 0;
        for (const part of list) {
          out.set(part, offset);
          offset += part.length;
        }
        return [name, out];
      }),
    );
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * A GAN generator x = G(z, y) in ONNX (manifest kind `gan`): a float32 latent
 * [B, dim], an optional class label [B], an image [B, C, H, W]. Checked
 * against the graph's metadata at load, like a denoiser.
 */
export class OnnxGenerator {
  readonly dim: number;
  readonly latentDim: number;
  readonly classes: readonly string[] | null;
  /** Images generated so far (the forward-pass count of an analysis). */
  forwardImages = 0;

  private constructor(
    readonly manifest: GanManifest,
    private readonly session: ort.InferenceSession,
    readonly provider: string,
  ) {
    this.dim = imageDim(manifest.image);
    this.latentDim = manifest.gan.latent.dim;
    this.classes = manifest.conditioning?.classes ?? null;
  }

  get image(): GanManifest['image'] {
    return this.manifest.image;
  }

  /** Whether a null label is accepted (an unconditional generator). */
  get unconditional(): boolean {
    return this.manifest.gan.classLabel === undefined || this.manifest.conditioning?.nullLabel !== undefined;
  }

  static async load(manifest: GanManifest, modelPath: string): Promise<OnnxGenerator> {
    checkRegularFile(modelPath, 'onnx'); // ONNX Runtime opens it by path: a FIFO or device would hang it
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new PainterError('BAD_MODEL', `Model "${manifest.id}": ONNX Runtime cannot load ${modelPath}: ${firstLine(error)}`, { model: manifest.id, path: modelPath });
    }
    try {
      checkGeneratorAgainstManifest(manifest, session.inputMetadata, session.outputMetadata);
    } catch (error) {
      await session.release();
      throw error;
    }
    return new OnnxGenerator(manifest, session, 'cpu');
  }

  /** Images for `count` latents z ([count·latentDim]) with one label each (null: unconditional). */
  async generate(z: Float32Array | Float64Array, labels: ReadonlyArray<number | null>, chunk = 256): Promise<Float32Array> {
    const io = this.manifest.gan;
    const k = this.latentDim;
    const count = z.length / k;
    if (!Number.isInteger(count) || labels.length !== count) {
      throw new PainterError('BAD_ARGUMENT', `A generator call needs latents of ${k} values and one label per latent; got ${z.length} values and ${labels.length} labels.`);
    }
    const out = new Float32Array(count * this.dim);
    const step = io.fixedBatch ?? chunk;
    const { channels, height, width } = this.manifest.image;
    for (let start = 0; start < count; start += step) {
      const size = Math.min(step, count - start);
      const rows = io.fixedBatch ?? size;
      const latent = new Float32Array(rows * k);
      for (let r = 0; r < rows; r++) {
        const b = start + Math.min(r, size - 1);
        for (let i = 0; i < k; i++) latent[r * k + i] = z[b * k + i]!;
      }
      const feeds: Record<string, ort.Tensor> = { [io.latent.name]: new ort.Tensor('float32', latent, [rows, k]) };
      if (io.classLabel !== undefined) {
        const values = Array.from({ length: rows }, (_, r) => this.labelValue(labels[start + Math.min(r, size - 1)] ?? null));
        feeds[io.classLabel.name] =
          io.classLabel.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [rows]) : new ort.Tensor('float32', Float32Array.from(values), [rows]);
      }
      let result: ort.InferenceSession.ReturnType;
      try {
        result = await this.session.run(feeds);
      } catch (error) {
        throw new PainterError('BAD_MODEL', `Model "${this.manifest.id}": the generator failed to run: ${firstLine(error)}`, { model: this.manifest.id });
      }
      const output = result[io.output.name];
      if (output === undefined || !(output.data instanceof Float32Array) || output.data.length !== rows * channels * height * width) {
        throw new PainterError('BAD_MODEL', `Model "${this.manifest.id}": output "${io.output.name}" did not have ${rows}×${this.dim} float32 values.`, { model: this.manifest.id });
      }
      out.set(output.data.subarray(0, size * this.dim), start * this.dim);
      for (const tensor of Object.values(result)) tensor.dispose();
      this.forwardImages += size;
    }
    return out;
  }

  private labelValue(label: number | null): number {
    const classes = this.classes?.length ?? 0;
    if (label === null) {
      const nullLabel = this.manifest.conditioning?.nullLabel;
      if (nullLabel === undefined) throw new PainterError('BAD_ARGUMENT', `Model "${this.manifest.id}" is class-conditional only; choose a class (0–${classes - 1}).`);
      return nullLabel;
    }
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new PainterError('BAD_ARGUMENT', `Class ${label} is not valid for model "${this.manifest.id}": classes are 0–${classes - 1}.`, { classLabel: label });
    }
    return label;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Checks a GAN manifest against the graph: latent [batch, dim] float32, label [batch], image output float32. */
export function checkGeneratorAgainstManifest(
  manifest: GanManifest,
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  outputs: readonly ort.InferenceSession.ValueMetadata[],
): void {
  const io = manifest.gan;
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new PainterError('BAD_MODEL', `Model "${manifest.id}": ${message}`, { model: manifest.id, ...details });
  };
  const find = (list: readonly ort.InferenceSession.ValueMetadata[], name: string, role: string): TensorMetadata => {
    const meta = tensorMetadata(list, name);
    if (meta === undefined) {
      const names = list.map((entry) => `"${entry.name}"`).join(', ');
      return fail(`the manifest's ${role} tensor "${name}" is not in the graph; the graph has ${names}.`, { tensor: name });
    }
    return meta;
  };
  const latent = find(inputs, io.latent.name, 'latent');
  if (latent.type !== 'float32') fail(`latent tensor "${latent.name}" is ${latent.type}; a generator's latent must be float32.`, { tensor: latent.name });
  const latentDim = latent.shape[1];
  if (latent.shape.length !== 2 || (typeof latentDim === 'number' && latentDim !== io.latent.dim)) {
    fail(`latent tensor "${latent.name}" has shape [${latent.shape.join(', ')}]; the manifest says [batch, ${io.latent.dim}].`, { tensor: latent.name, shape: latent.shape });
  }
  const described = new Set([io.latent.name]);
  if (io.classLabel !== undefined) {
    const label = find(inputs, io.classLabel.name, 'class label');
    if (label.type !== io.classLabel.dtype) fail(`class label tensor "${label.name}" is ${label.type} in the graph but the manifest says ${io.classLabel.dtype}.`, { tensor: label.name });
    described.add(io.classLabel.name);
  }
  const undescribed = inputs.map((entry) => entry.name).filter((name) => !described.has(name));
  if (undescribed.length > 0) fail(`graph input${undescribed.length > 1 ? 's' : ''} ${undescribed.map((n) => `"${n}"`).join(', ')} not described by the manifest.`, { tensors: undescribed });
  const output = find(outputs, io.output.name, 'output');
  if (output.type !== 'float32') fail(`output tensor "${output.name}" is ${output.type}; it must be float32.`, { tensor: output.name });
  const { channels, height, width } = manifest.image;
  const chw = [channels, height, width];
  if (output.shape.length !== 4 || output.shape.slice(1).some((dim, i) => typeof dim === 'number' && dim !== chw[i])) {
    fail(`output tensor "${output.name}" has shape [${output.shape.join(', ')}]; the manifest's image needs [batch, ${chw.join(', ')}].`, { tensor: output.name, shape: output.shape });
  }
}

/** A typed input for {@link OnnxGraph.run}, already in the graph's dtype. */
export interface GraphFeed {
  type: 'float32' | 'float16' | 'int64' | 'int32' | 'float64';
  /** float16 values as their IEEE binary16 bits. */
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array | Float64Array;
  dims: readonly number[];
  /** The data never changes (a prompt's text states): its tensor is made once and kept while the data lives. */
  constant?: boolean;
}

/** A graph input or output as the session describes it. */
export interface GraphTensor {
  name: string;
  type: string;
  /** Fixed sizes as numbers; named or unknown dimensions as strings / -1. */
  shape: ReadonlyArray<number | string>;
}

/**
 * Any ONNX graph opened on the provider choice (the parts of a diffusers
 * pipeline, diffusers/onnx-part.ts): its metadata, and runs that return one
 * output's data and dims. Dtype conversions happen in the caller.
 */
export class OnnxGraph {
  /** Tensors of constant feeds, by their data. */
  private readonly constants = new WeakMap<object, ort.Tensor>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly path: string,
    readonly provider: ProviderName,
    readonly notices: readonly string[],
  ) {}

  static async open(path: string, options: { provider: ProviderChoice; subject: string; onNotice?: (message: string) => void }): Promise<OnnxGraph> {
    checkRegularFile(path, 'onnx'); // ONNX Runtime opens it by path: a FIFO or device would hang it
    const opened = await openCheckedSession(path, { provider: options.provider, subject: options.subject, ...(options.onNotice ? { onNotice: options.onNotice } : {}) });
    return new OnnxGraph(opened.session, path, opened.provider, opened.notices);
  }

  inputs(): GraphTensor[] {
    return graphTensors(this.session.inputMetadata);
  }

  outputs(): GraphTensor[] {
    return graphTensors(this.session.outputMetadata);
  }

  async run(feeds: Record<string, GraphFeed>, output: string): Promise<{ type: string; data: unknown; dims: number[] }> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) tensors[name] = this.tensorOf(feed);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(tensors);
    } catch (error) {
      throw new PainterError('BAD_MODEL', `${quoteText(this.path)} failed to run: ${firstLine(error)}`, { path: this.path });
    }
    const tensor = result[output];
    if (tensor === undefined) throw new PainterError('BAD_MODEL', `${quoteText(this.path)} gave no output "${output}".`, { path: this.path, tensor: output });
    // onnxruntime-node copies each CPU output into a buffer of its own; dispose() only drops the
    // tensor's reference to it, so the data is kept without another copy.
    const answer = { type: tensor.type, data: tensor.data, dims: [...tensor.dims] };
    for (const value of Object.values(result)) value.dispose();
    return answer;
  }

  private tensorOf(feed: GraphFeed): ort.Tensor {
    if (feed.constant !== true) return new ort.Tensor(feed.type, feed.data, [...feed.dims]);
    let tensor = this.constants.get(feed.data);
    if (tensor === undefined || tensor.type !== feed.type || tensor.dims.length !== feed.dims.length || tensor.dims.some((size, i) => size !== feed.dims[i])) {
      tensor = new ort.Tensor(feed.type, feed.data, [...feed.dims]);
      this.constants.set(feed.data, tensor);
    }
    return tensor;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function graphTensors(list: readonly ort.InferenceSession.ValueMetadata[]): GraphTensor[] {
  return list.flatMap((entry) => (entry.isTensor ? [{ name: entry.name, type: entry.type, shape: entry.shape }] : []));
}
