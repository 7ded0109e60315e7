/**
 * The ONNX network denoiser — the only module that touches ONNX Runtime.
 * Driven entirely by the manifest: tensor names and dtypes, timestep encoding,
 * prediction type and schedule. The manifest is checked against the session's
 * own input/output metadata at load, so a mismatch is reported by name before
 * any sampling starts.
 */
import * as ort from 'onnxruntime-node';
import { PainterError } from '../errors';
import { checkRegularFile } from '../files';
import type { OnnxManifest, TensorDtype } from '../manifest';
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

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface OnnxLoadOptions {
  /** Providers to try in order; CPU is always the last resort. */
  providers?: readonly ProviderName[];
  /** Called when a preferred provider failed and a later one is used. */
  onProviderFallback?: (message: string) => void;
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
    readonly provider: string,
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
    const preferred = [...(options.providers ?? []), 'cpu' as const].filter((p, i, all) => all.indexOf(p) === i);
    let lastError: unknown;
    for (const provider of preferred) {
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(modelPath, { executionProviders: [provider], graphOptimizationLevel: 'all' });
      } catch (error) {
        lastError = error;
        if (isUnreadableModel(error)) break;
        const next = preferred[preferred.indexOf(provider) + 1];
        options.onProviderFallback?.(
          `The ${provider.toUpperCase()} execution provider could not start (${firstLine(error)}); using ${next?.toUpperCase() ?? 'nothing'} instead.`,
        );
        continue;
      }
      try {
        checkSessionAgainstManifest(manifest, session.inputMetadata, session.outputMetadata);
      } catch (error) {
        await session.release();
        throw error;
      }
      return new OnnxDenoiser(manifest, session, provider);
    }
    throw badModel(manifest, `ONNX Runtime cannot load ${modelPath}: ${firstLine(lastError)}`, { path: modelPath });
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
      [io.timestep.name]: this.timestepTensor(io.timestep.shape === 'scalar' ? timesteps.subarray(0, 1) : timesteps, io.timestep.dtype, io.timestep.shape === 'scalar'),
    };
    if (io.classLabel !== undefined) {
      const values = Array.from({ length: rows }, (_, r) => this.labelValue(labels[start + Math.min(r, count - 1)] ?? null));
      feeds[io.classLabel.name] = this.intTensor(values, io.classLabel.dtype, [rows]);
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
    const schedule = this.schedule;
    switch (this.manifest.onnx.timestep.encoding) {
      case 'index':
      case 'fraction': {
        const discrete = schedule as DiscreteVpSchedule;
        const t = discrete.timestepOf(sigma);
        return { timestep: this.manifest.onnx.timestep.encoding === 'index' ? t : t / discrete.timesteps, sigma: discrete.sigmas[t]! };
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

  private timestepTensor(values: Float64Array, dtype: TensorDtype, scalar: boolean): ort.Tensor {
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

  private intTensor(values: number[], dtype: TensorDtype, dims: number[]): ort.Tensor {
    if (dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
    return new ort.Tensor('float32', Float32Array.from(values), dims);
  }

  /**
   * Seconds per bare `session.run` at batch `batch` (inputs prepared once,
   * mid-schedule timestep): the denominator of the engine-overhead benchmark.
   */
  async timeBareForward(batch: number, repeats: number): Promise<number> {
    const io = this.manifest.onnx;
    const rows = io.fixedBatch ?? batch;
    const { channels, height, width } = this.manifest.image;
    const { timestep } = this.timestepInput(this.schedule.samplingSigmas(2)[0]! / 10);
    const feeds: Record<string, ort.Tensor> = {
      [io.sample.name]: new ort.Tensor('float32', new Float32Array(rows * this.dim).fill(0.1), [rows, channels, height, width]),
      [io.timestep.name]: this.timestepTensor(new Float64Array(io.timestep.shape === 'scalar' ? 1 : rows).fill(timestep), io.timestep.dtype, io.timestep.shape === 'scalar'),
    };
    if (io.classLabel !== undefined) feeds[io.classLabel.name] = this.intTensor(new Array<number>(rows).fill(0), io.classLabel.dtype, [rows]);
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

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}

function isUnreadableModel(error: unknown): boolean {
  const text = firstLine(error);
  return /protobuf|no such file|load model|INVALID_PROTOBUF|NO_SUCHFILE/i.test(text);
}

/** Execution providers this onnxruntime-node build ships. */
export function availableProviders(): string[] {
  return ort.listSupportedBackends().filter((backend) => backend.bundled || backend.name === 'cuda').map((backend) => backend.name);
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
