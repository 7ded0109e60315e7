/**
 * One ONNX graph of a diffusers pipeline (text encoder, UNet, VAE decoder or
 * encoder): its sessions are denoisers/onnx.ts's OnnxGraph (the one module that touches ONNX Runtime). Inputs
 * are given as float or integer values and converted at the boundary to the
 * dtype the graph declares (float16 models run: their inputs are rounded to
 * half precision and their outputs widened back to float32).
 */
import type { ProviderChoice } from '../../api/contract';
import { OnnxGraph, type GraphFeed, type GraphTensor } from '../denoisers/onnx';
import { PainterError } from '../errors';
import { quoteText } from '../files';

export type { GraphTensor } from '../denoisers/onnx';

/** A value to feed: floats or integers with their shape; converted to the graph's dtype. */
export interface Feed {
  values: ArrayLike<number>;
  dims: readonly number[];
  /**
   * The values never change (a prompt's text states): their conversion to the
   * graph's dtype is made once and kept while the array lives.
   */
  constant?: boolean;
}

/** True for a dimension that takes any size (a name, -1 or absent). */
export function isDynamic(dim: number | string | undefined): boolean {
  return typeof dim !== 'number' || dim < 0;
}

export class OnnxPart {
  /** Each input's declared dtype, read once (the feeds of every call are converted to it). */
  private readonly inputTypes: Map<string, string>;
  /** Converted constant feeds, by their source values. */
  private readonly converted = new WeakMap<object, GraphFeed>();

  private constructor(private readonly graph: OnnxGraph) {
    this.inputTypes = new Map(graph.inputs().map((entry) => [entry.name, entry.type]));
  }

  /** Opens `path` on the provider choice (CPU fallback with notices); BAD_MODEL naming the file when ONNX Runtime cannot read it. */
  static async open(path: string, subject: string, provider: ProviderChoice, onNotice?: (message: string) => void): Promise<OnnxPart> {
    return new OnnxPart(await OnnxGraph.open(path, { provider, subject, ...(onNotice ? { onNotice } : {}) }));
  }

  get path(): string {
    return this.graph.path;
  }

  get provider(): string {
    return this.graph.provider;
  }

  get notices(): readonly string[] {
    return this.graph.notices;
  }

  inputs(): GraphTensor[] {
    return this.graph.inputs();
  }

  outputs(): GraphTensor[] {
    return this.graph.outputs();
  }

  /**
   * Checks that the graph has `name` among its inputs (or outputs) with one of
   * `types` and `rank` dimensions; refuses naming the file and what was expected.
   */
  expect(kind: 'input' | 'output', name: string, types: readonly string[], ranks: readonly number[], role: string): GraphTensor {
    const list = kind === 'input' ? this.inputs() : this.outputs();
    const found = list.find((entry) => entry.name === name);
    if (found === undefined) {
      throw new PainterError(
        'BAD_MODEL',
        `${quoteText(this.path)} has no ${kind} "${name}" (${role}); its ${kind}s are ${list.map((entry) => `"${entry.name}"`).join(', ') || 'none'}. Expected the signature Optimum exports.`,
        { path: this.path, tensor: name, available: list.map((entry) => entry.name) },
      );
    }
    if (!types.includes(found.type) || !ranks.includes(found.shape.length)) {
      throw new PainterError(
        'BAD_MODEL',
        `${quoteText(this.path)}: ${kind} "${name}" is ${found.type} [${found.shape.join(', ')}]; expected ${role} as ${types.join(' or ')} with ${ranks.join(' or ')} dimension${ranks.length === 1 && ranks[0] === 1 ? '' : 's'}.`,
        { path: this.path, tensor: name, type: found.type, shape: found.shape, expected: { types, ranks } },
      );
    }
    return found;
  }

  /** Runs the graph, each feed in the dtype its input declares; returns `output` as float32 with its dims. */
  async run(feeds: Record<string, Feed>, output: string): Promise<{ data: Float32Array; dims: number[] }> {
    const typed: Record<string, GraphFeed> = {};
    for (const [name, feed] of Object.entries(feeds)) typed[name] = this.convert(feed, this.inputTypes.get(name) ?? 'float32');
    const result = await this.graph.run(typed, output);
    return { data: toFloat32(result.type, result.data, this.path), dims: result.dims };
  }

  private convert(feed: Feed, type: string): GraphFeed {
    if (feed.constant !== true || typeof feed.values !== 'object') return toGraphFeed(feed, type);
    let converted = this.converted.get(feed.values);
    if (converted === undefined || converted.type !== type || !sameDims(converted.dims, feed.dims)) {
      converted = { ...toGraphFeed(feed, type), constant: true };
      this.converted.set(feed.values, converted);
    }
    return converted;
  }

  async dispose(): Promise<void> {
    await this.graph.dispose();
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** A feed in the graph's dtype `type` (the one conversion of inputs for every diffusers graph). */
export function toGraphFeed(feed: Feed, type: string): GraphFeed {
  const { values, dims } = feed;
  switch (type) {
    case 'int64': {
      const data = new BigInt64Array(values.length);
      for (let i = 0; i < values.length; i++) data[i] = BigInt(Math.round(values[i]!));
      return { type: 'int64', data, dims };
    }
    case 'int32':
      return { type: 'int32', data: Int32Array.from(values, (v) => Math.round(v)), dims };
    case 'float16':
      return { type: 'float16', data: floatsToHalf(values), dims };
    case 'float64':
      return { type: 'float64', data: Float64Array.from(values), dims };
    default:
      return { type: 'float32', data: values instanceof Float32Array ? values : Float32Array.from(values), dims };
  }
}

function toFloat32(type: string, data: unknown, path: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (type === 'float16' && data instanceof Uint16Array) return halvesToFloats(data);
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new PainterError('BAD_MODEL', `${quoteText(path)}: an output of type ${type} is not a float tensor.`, { path });
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** IEEE 754 binary32 → binary16, round to nearest even (subnormals, ±∞ and NaN kept). */
export function floatToHalf(value: number): number {
  scratchFloat[0] = value;
  return halfOfBits(scratchBits[0]!);
}

/** binary16 bits of the binary32 whose bits are `bits`. */
function halfOfBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1) === 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the correct rounding (up to ∞).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? 1 : 0));
}

export function halfToFloat(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** binary16 → binary32 for each of the 65,536 halves (256 KB, made on the first float16 output). */
let halfTable: Float32Array | null = null;

export function floatsToHalf(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  if (values instanceof Float32Array) {
    // The float's bits read in place: no per-value round trip through a scratch buffer.
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < bits.length; i++) out[i] = halfOfBits(bits[i]!);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]!);
  }
  return out;
}

export function halvesToFloats(values: Uint16Array): Float32Array {
  if (halfTable === null) {
    halfTable = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) halfTable[h] = halfToFloat(h);
  }
  const table = halfTable;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = table[values[i]!]!;
  return out;
}
