/**
 * safetensors read/write: 8-byte little-endian header length N, N bytes of
 * JSON header {name: {dtype, shape, data_offsets}, __metadata__: {str: str}},
 * then the raw little-endian tensor bytes. Python users load our files with
 * `safetensors.numpy.load_file`.
 *
 * @see https://github.com/huggingface/safetensors (format description)
 */
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PainterError } from './errors';
import { shapeSize } from './tensor';

export type SafeDtype = 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'F16';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: TensorData;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1, F16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

function badFile(path: string, reason: string): PainterError {
  return new PainterError('BAD_FILE', `${path} is not a valid safetensors file: ${reason}.`, { path });
}

export function parseSafetensors(bytes: Uint8Array, path: string): SafetensorsFile {
  if (bytes.length < 8) throw badFile(path, bytes.length === 0 ? 'the file is empty' : 'the file is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw badFile(path, `its header claims ${headerLength} bytes but the file has ${bytes.length}`);
  }
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch {
    throw badFile(path, 'its header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw badFile(path, 'its header is not an object');
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const dataLength = bytes.length - headerEnd;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, path);
      continue;
    }
    tensors.set(name, parseEntry(name, entry, bytes, headerEnd, dataLength, path));
  }
  return { tensors, metadata };
}

function parseMetadata(entry: unknown, path: string): Record<string, string> {
  if (entry === null || typeof entry !== 'object') throw badFile(path, '__metadata__ is not an object');
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') throw badFile(path, `metadata "${key}" is not a string`);
    result[key] = value;
  }
  return result;
}

function parseEntry(name: string, entry: unknown, bytes: Uint8Array, headerEnd: number, dataLength: number, path: string): SafeTensor {
  const record = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = record.dtype;
  if (typeof dtype !== 'string' || !(dtype in BYTES)) {
    throw badFile(path, `tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
  }
  const shape = record.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw badFile(path, `tensor "${name}" has an invalid shape`);
  }
  const offsets = record.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw badFile(path, `tensor "${name}" has invalid data_offsets`);
  }
  const [begin, end] = offsets as [number, number];
  const safeDtype = dtype as SafeDtype;
  const expected = shapeSize(shape as number[]) * BYTES[safeDtype];
  if (end < begin || end > dataLength) throw badFile(path, `tensor "${name}" runs past the end of the file (truncated?)`);
  if (end - begin !== expected) throw badFile(path, `tensor "${name}" has ${end - begin} bytes; its shape needs ${expected}`);
  // Copy into an aligned buffer: typed arrays need offsets that are multiples of the element size.
  const raw = Uint8Array.prototype.slice.call(bytes, headerEnd + begin, headerEnd + end); // a copy, even for a Buffer
  return { dtype: safeDtype, shape: shape as number[], data: typedView(safeDtype, raw.buffer) };
}

function typedView(dtype: SafeDtype, buffer: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer);
    case 'F64':
      return new Float64Array(buffer);
    case 'I64':
      return new BigInt64Array(buffer);
    case 'I32':
      return new Int32Array(buffer);
    case 'U8':
      return new Uint8Array(buffer);
    case 'F16':
      return new Uint16Array(buffer);
  }
}

/**
 * Only the metadata of a safetensors file, reading just its header (at most
 * `maxHeaderBytes`); null when the file is not a regular file or has no
 * readable safetensors header. Never follows a symlink.
 */
export function readSafetensorsMetadata(path: string, maxHeaderBytes = 1024 * 1024): Record<string, string> | null {
  let fd: number | null = null;
  try {
    if (!lstatSync(path).isFile()) return null;
    fd = openSync(path, 'r');
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) !== 8) return null;
    const length = prefix.readBigUInt64LE(0);
    if (length > BigInt(maxHeaderBytes)) return null;
    const header = Buffer.alloc(Number(length));
    if (readSync(fd, header, 0, header.length, 8) !== header.length) return null;
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(header));
    if (json === null || typeof json !== 'object') return null;
    const metadata = (json as Record<string, unknown>)['__metadata__'];
    return metadata !== null && typeof metadata === 'object' ? parseMetadata(metadata, path) : {};
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PainterError('BAD_FILE', code === 'ENOENT' ? `No such file: ${path}.` : `Cannot read ${path} (${code ?? 'error'}).`, { path });
  }
  return parseSafetensors(bytes, path);
}

export function serializeSafetensors(tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const tensor = tensors[name]!;
    const expected = shapeSize(tensor.shape) * BYTES[tensor.dtype];
    if (tensor.data.byteLength !== expected) {
      throw new PainterError('INTERNAL', `Tensor "${name}" has ${tensor.data.byteLength} bytes; shape [${tensor.shape.join(', ')}] needs ${expected}.`);
    }
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf-8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors[name]!.data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

/**
 * Writes a file atomically: a temporary file in the same folder, fsync, then
 * rename over the target, so a crash leaves either the old file or the new one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new PainterError('IO_ERROR', `Cannot write ${path} (${code ?? (error as Error).message}).`, { path });
  }
}

/** A float tensor as Float32Array whatever its stored dtype (F16, F64 and U8 are converted). */
export function toFloat32(tensor: SafeTensor, name: string, path: string): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  if (tensor.dtype === 'F16') return Float32Array.from(data as Uint16Array, halfToFloat);
  throw new PainterError('BAD_FILE', `Tensor "${name}" in ${path} has dtype ${tensor.dtype}; expected a float tensor.`, { path, name });
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
