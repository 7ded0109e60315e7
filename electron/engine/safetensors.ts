/**
 * safetensors read/write: 8-byte little-endian header length N, N bytes of
 * JSON header {name: {dtype, shape, data_offsets}, __metadata__: {str: str}},
 * then the raw little-endian tensor bytes. Python users load our files with
 * `safetensors.numpy.load_file`.
 *
 * @see https://github.com/huggingface/safetensors (format description)
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { PainterError } from './errors';
import { basename, dirname } from 'node:path';
import { CheckedFile, cleanStaleTemporaries, fileError, MAX_RUN_HEADER, MAX_SAFETENSORS_HEADER, quoteText, temporaryPath } from './files';
import { shapeSize } from './tensor';

export type SafeDtype = 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'F16';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: TensorData;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1, F16: 2 };
/** More tensors than this in one file is not a file Painter or its users make. */
const MAX_TENSORS = 100_000;
const MAX_RANK = 16;

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

function badFile(path: string, reason: string): PainterError {
  return new PainterError('BAD_FILE', `${quoteText(path)} is not a valid safetensors file: ${reason}.`, { path });
}

/** A tensor's place in the data section, checked against the file. */
interface TensorEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  entries: TensorEntry[];
  metadata: Record<string, string>;
}

/**
 * The header's tensors, each checked before anything is allocated for it:
 * a known dtype, a shape whose size matches its byte range, and byte ranges
 * that lie in order, never overlap and cover the data section exactly (as
 * the safetensors reference implementation requires). So a small file can
 * never claim more memory than its own size.
 */
function parseHeader(headerBytes: Uint8Array, dataLength: number, path: string): Header {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    throw badFile(path, 'its header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw badFile(path, 'its header is not an object');
  const names = Object.keys(header);
  if (names.length > MAX_TENSORS + 1) throw badFile(path, `it lists ${names.length} tensors; at most ${MAX_TENSORS} are read`);
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const name of names) {
    const entry = (header as Record<string, unknown>)[name];
    if (name === '__metadata__') metadata = parseMetadata(entry, path);
    else entries.push(parseEntry(name, entry, dataLength, path));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const entry of entries) {
    if (entry.begin < covered) throw badFile(path, `tensor "${quoteText(entry.name, 64)}" overlaps another tensor's bytes`);
    if (entry.begin > covered) throw badFile(path, `bytes ${covered}–${entry.begin} of its data belong to no tensor`);
    covered = entry.end;
  }
  if (covered !== dataLength) throw badFile(path, `its last ${dataLength - covered} bytes belong to no tensor`);
  return { entries, metadata };
}

function parseMetadata(entry: unknown, path: string): Record<string, string> {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw badFile(path, '__metadata__ is not an object');
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') throw badFile(path, `metadata "${quoteText(key, 64)}" is not a string`);
    result[key] = value;
  }
  return result;
}

function parseEntry(name: string, entry: unknown, dataLength: number, path: string): TensorEntry {
  const shown = quoteText(name, 64);
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw badFile(path, `tensor "${shown}" is not described by an object`);
  const record = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = record.dtype;
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(BYTES, dtype)) {
    throw badFile(path, `tensor "${shown}" has unsupported dtype ${quoteText(JSON.stringify(dtype) ?? 'none', 32)} (supported: ${Object.keys(BYTES).join(', ')})`);
  }
  const shape = record.shape;
  if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw badFile(path, `tensor "${shown}" has an invalid shape (expected a list of at most ${MAX_RANK} non-negative integers)`);
  }
  const offsets = record.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw badFile(path, `tensor "${shown}" has invalid data_offsets`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw badFile(path, `tensor "${shown}" ends before it begins`);
  if (end > dataLength) throw badFile(path, `tensor "${shown}" runs past the end of the file (truncated?)`);
  const safeDtype = dtype as SafeDtype;
  // Dimensions ≥ 1 only grow the product, so an absurd shape can only overshoot, never match a small range.
  const expected = (shape as number[]).reduce((n, d) => n * d, BYTES[safeDtype]);
  if (end - begin !== expected) {
    throw badFile(path, `tensor "${shown}" has ${end - begin} bytes; its shape needs ${expected}`);
  }
  return { name, dtype: safeDtype, shape: shape as number[], begin, end };
}

/** Reads the 8-byte header length and checks that it fits the file and the cap. */
function headerLength(prefix: Uint8Array, fileSize: number, cap: number, path: string): number {
  if (fileSize < 8) throw badFile(path, fileSize === 0 ? 'the file is empty' : 'the file is too short');
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  // Never echo the number: for a text file it is eight of its bytes (issue 9, item 7).
  if (length > BigInt(fileSize - 8)) throw badFile(path, 'its first 8 bytes do not give a header length that fits the file');
  if (length > BigInt(cap)) throw badFile(path, `its header is longer than the ${Math.round(cap / (1024 * 1024))} MB Painter reads`);
  return Number(length);
}

function tensorFromBuffer(entry: TensorEntry, buffer: ArrayBuffer): SafeTensor {
  return { dtype: entry.dtype, shape: entry.shape, data: typedView(entry.dtype, buffer) };
}

export function parseSafetensors(bytes: Uint8Array, path: string, maxHeaderBytes = MAX_SAFETENSORS_HEADER): SafetensorsFile {
  const length = headerLength(bytes.subarray(0, 8), bytes.length, maxHeaderBytes, path);
  const headerEnd = 8 + length;
  const { entries, metadata } = parseHeader(bytes.subarray(8, headerEnd), bytes.length - headerEnd, path);
  const tensors = new Map<string, SafeTensor>();
  for (const entry of entries) {
    // Copy into an aligned buffer: typed arrays need offsets that are multiples of the element size.
    const raw = Uint8Array.prototype.slice.call(bytes, headerEnd + entry.begin, headerEnd + entry.end); // a copy, even for a Buffer
    tensors.set(entry.name, tensorFromBuffer(entry, raw.buffer));
  }
  return { tensors, metadata };
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
  let file: CheckedFile | null = null;
  try {
    file = CheckedFile.open(path, 'safetensors', { followLinks: false });
    const length = headerLength(file.read(0, Math.min(8, file.size)), file.size, maxHeaderBytes, path);
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.read(8, length)));
    if (json === null || typeof json !== 'object') return null;
    const metadata = (json as Record<string, unknown>)['__metadata__'];
    return metadata !== null && typeof metadata === 'object' ? parseMetadata(metadata, path) : {};
  } catch {
    return null;
  } finally {
    file?.close();
  }
}

/**
 * Reads a safetensors file: header first (capped), every tensor checked
 * against the file's size, then each tensor read straight into its own
 * buffer (no second copy of the file in memory).
 */
export function readSafetensors(path: string, kind: 'safetensors' | 'run' = 'safetensors'): SafetensorsFile {
  const file = CheckedFile.open(path, kind);
  try {
    const length = headerLength(file.read(0, Math.min(8, file.size)), file.size, kind === 'run' ? MAX_RUN_HEADER : MAX_SAFETENSORS_HEADER, path);
    const headerEnd = 8 + length;
    const { entries, metadata } = parseHeader(file.read(8, length), file.size - headerEnd, path);
    const tensors = new Map<string, SafeTensor>();
    for (const entry of entries) {
      const buffer = new ArrayBuffer(entry.end - entry.begin);
      file.readInto(new Uint8Array(buffer), headerEnd + entry.begin);
      tensors.set(entry.name, tensorFromBuffer(entry, buffer));
    }
    return { tensors, metadata };
  } finally {
    file.close();
  }
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
 * rename over the target, so a crash leaves either the old file or the new one
 * (and a temporary file, which the next write of the same file removes).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  // What an earlier, killed write of this same file left behind goes first (issue 9, item 7).
  const name = basename(path);
  cleanStaleTemporaries(dirname(path), (target) => target === name);
  const temporary = temporaryPath(path);
  try {
    // 'wx': a fresh file, never an existing one (nor a link planted under the temporary name).
    const fd = openSync(temporary, 'wx');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw fileError(path, error, 'write');
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
