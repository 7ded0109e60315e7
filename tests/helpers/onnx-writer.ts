/**
 * A minimal ONNX model writer for tests: just enough protobuf (ModelProto,
 * GraphProto, NodeProto, ValueInfoProto, int64 and float TensorProto initializers,
 * int attributes) to build a small graph by hand, so a test can exercise an
 * export layout no fixture has, without Python at test time.
 * @see https://github.com/onnx/onnx/blob/main/onnx/onnx.proto (field numbers)
 */

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0n);
  return bytes;
}

const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const int = (field: number, value: number | bigint): number[] => [...key(field, 0), ...varint(value)];
const bytes = (field: number, data: readonly number[]): number[] => [...key(field, 2), ...varint(data.length), ...data];
const text = (field: number, value: string): number[] => bytes(field, [...Buffer.from(value, 'utf8')]);

/** A float32 tensor input or output; a dimension is a size or a symbolic name. */
export interface ValueInfo {
  name: string;
  dims: ReadonlyArray<number | string>;
  /** TensorProto.DataType: 1 float32 (default), 7 int64, 10 float16. */
  elemType?: number;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes. */
  ints?: Record<string, number>;
}

function valueInfo(info: ValueInfo): number[] {
  const dims = info.dims.flatMap((dim) => bytes(1, typeof dim === 'number' ? int(1, dim) : text(2, dim)));
  const tensorType = [...int(1, info.elemType ?? 1), ...bytes(2, dims)];
  return [...text(1, info.name), ...bytes(2, bytes(1, tensorType))];
}

function node(spec: NodeSpec): number[] {
  const attributes = Object.entries(spec.ints ?? {}).flatMap(([name, value]) => bytes(5, [...text(1, name), ...int(3, value), ...int(20, 2)]));
  return [...spec.inputs.flatMap((name) => text(1, name)), ...spec.outputs.flatMap((name) => text(2, name)), ...text(4, spec.op), ...attributes];
}

function int64Tensor(name: string, values: readonly number[]): number[] {
  return [...int(1, values.length), ...int(2, 7), ...bytes(7, values.flatMap((v) => varint(v))), ...text(8, name)];
}

function floatTensor(name: string, values: readonly number[]): number[] {
  const data = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => data.writeFloatLE(v, 4 * i));
  return [...int(1, values.length), ...int(2, 1), ...bytes(4, [...data]), ...text(8, name)];
}

/** The bytes of a model (IR 7, default opset 13) computing `nodes` from `inputs` to `outputs`. */
export function onnxModel(options: {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  int64Initializers?: Record<string, number[]>;
  floatInitializers?: Record<string, number[]>;
}): Uint8Array {
  const graph = [
    ...options.nodes.flatMap((spec) => bytes(1, node(spec))),
    ...text(2, 'test-graph'),
    ...Object.entries(options.int64Initializers ?? {}).flatMap(([name, values]) => bytes(5, int64Tensor(name, values))),
    ...Object.entries(options.floatInitializers ?? {}).flatMap(([name, values]) => bytes(5, floatTensor(name, values))),
    ...options.inputs.flatMap((info) => bytes(11, valueInfo(info))),
    ...options.outputs.flatMap((info) => bytes(12, valueInfo(info))),
  ];
  return Uint8Array.from([...int(1, 7), ...text(2, 'painter-tests'), ...bytes(7, graph), ...bytes(8, [...text(1, ''), ...int(2, 13)])]);
}
