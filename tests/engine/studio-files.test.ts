import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGif, lzwEncode } from '../../electron/engine/gif';
import { spreadIndices } from '../../electron/engine/export';
import type { Raster } from '../../electron/engine/png';
import { parseSafetensors } from '../../electron/engine/safetensors';
import { Engine } from '../../electron/engine/service';
import { sessionRunsFolder } from '../../electron/engine/session';
import { principalAxes, projectClosedForm, projectOnAxes } from '../../electron/engine/trajectory-space';
import { validateParams } from '../../electron/api/validate';
import { FIXTURES, loadAnalytic } from '../helpers/fixtures';

const home = mkdtempSync(join(tmpdir(), 'painter-studio-'));
const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
afterAll(() => engine.dispose());

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * An independent GIF LZW decoder (spec §18), to check the encoder round-trips:
 * codes LSB-first, table reset on clear, code size grows when the next free
 * code reaches 2^size (up to 12 bits).
 */
function lzwDecode(data: Uint8Array): Uint8Array {
  const minCodeSize = data[0]!;
  const bytes: number[] = [];
  for (let p = 1; data[p] !== 0; p += data[p]! + 1) bytes.push(...data.subarray(p + 1, p + 1 + data[p]!));
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  let table: number[][] = [];
  const reset = (): void => {
    table = Array.from({ length: clear + 2 }, (_, i) => [i]);
  };
  reset();
  let size = minCodeSize + 1;
  let position = 0;
  const read = (): number => {
    let code = 0;
    for (let i = 0; i < size; i++, position++) code |= ((bytes[position >> 3]! >> (position & 7)) & 1) << i;
    return code;
  };
  const out: number[] = [];
  let previous: number[] | null = null;
  for (;;) {
    const code = read();
    if (code === clear) {
      reset();
      size = minCodeSize + 1;
      previous = null;
      continue;
    }
    if (code === end) break;
    const entry: number[] = code < table.length ? table[code]! : [...previous!, previous![0]!];
    out.push(...entry);
    if (previous !== null && table.length < 4096) table.push([...previous, entry[0]!]);
    if (table.length === 1 << size && size < 12) size++;
    previous = entry;
  }
  return Uint8Array.from(out);
}

describe('GIF encoder', () => {
  it('LZW round-trips random, constant and long inputs (table resets included)', () => {
    let state = 7;
    const random = Uint8Array.from({ length: 20000 }, () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24);
    for (const input of [random, new Uint8Array(5000).fill(9), Uint8Array.from({ length: 3000 }, (_, i) => i % 7), Uint8Array.of(4)]) {
      expect(lzwDecode(lzwEncode(input))).toEqual(input);
    }
  });

  it('writes a GIF89a with a loop block and one image per frame', () => {
    const frame = (v: number): Raster => ({ width: 3, height: 2, channels: 1, pixels: new Uint8Array(6).fill(v) });
    const gif = encodeGif([frame(0), frame(128), frame(255)], 100);
    expect(Buffer.from(gif.subarray(0, 6)).toString('ascii')).toBe('GIF89a');
    expect(gif[6]).toBe(3);
    expect(Buffer.from(gif).includes(Buffer.from('NETSCAPE2.0'))).toBe(true);
    expect(gif.filter((b, i) => b === 0x2c && gif[i - 1] === 0 && gif[i - 7] === 0xf9).length).toBe(3);
    expect(gif[gif.length - 1]).toBe(0x3b);
  });
});

describe('principal axes', () => {
  it('recovers a known 3-D subspace and its variances 9, 4, 1 (exact: the ±1 design has identity covariance)', () => {
    const dim = 10;
    // Orthonormal R (3 columns) from Gram–Schmidt of fixed vectors.
    const r = [0, 1, 2].map((k) => Array.from({ length: dim }, (_, d) => Math.sin(1 + d * (k + 1.3)) + (d === k ? 2 : 0)));
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < a; b++) {
        const dot = r[a]!.reduce((s, v, d) => s + v * r[b]![d]!, 0);
        r[a] = r[a]!.map((v, d) => v - dot * r[b]![d]!);
      }
      const length = Math.hypot(...r[a]!);
      r[a] = r[a]!.map((v) => v / length);
    }
    const scales = [3, 2, 1];
    const points = new Float32Array(8 * dim);
    for (let n = 0; n < 8; n++) {
      const z = [n & 1 ? 1 : -1, n & 2 ? 1 : -1, n & 4 ? 1 : -1];
      for (let d = 0; d < dim; d++) points[n * dim + d] = 5 + z.reduce((s, zk, k) => s + zk * scales[k]! * r[k]![d]!, 0);
    }
    const pca = principalAxes(points, 8, dim, 3);
    // float32 points: 1e-5 relative.
    expect(pca.variances[0]).toBeCloseTo(9, 4);
    expect(pca.variances[1]).toBeCloseTo(4, 4);
    expect(pca.variances[2]).toBeCloseTo(1, 4);
    expect(pca.totalVariance).toBeCloseTo(14, 4);
    for (let k = 0; k < 3; k++) {
      const overlap = Math.abs(r[k]!.reduce((s, v, d) => s + v * pca.axes[k * dim + d]!, 0));
      expect(overlap).toBeCloseTo(1, 5);
    }
  });
});

describe('Gaussian ghost in PCA space', () => {
  it('projecting in the eigenbasis equals projecting the built closed-form states (1e-4: float32 storage)', () => {
    const gaussian = loadAnalytic('gauss16').gaussian!;
    const sigmas = Float64Array.from([80, 20, 5, 1, 0.2, 0]);
    const start = Float32Array.from({ length: 16 }, (_, i) => 80 * Math.cos(3 * i + 1));
    const states = gaussian.closedFormTrajectory(start, 80, sigmas);
    const unit = Float32Array.from(states, (v, n) => v / Math.sqrt(1 + sigmas[Math.floor(n / 16)]! ** 2));
    const pca = principalAxes(unit, 6, 16, 3);
    const direct = projectOnAxes(unit, 6, pca);
    const fast = projectClosedForm(gaussian, start, sigmas, pca);
    for (let i = 0; i < direct.length; i++) expect(Math.abs(fast[i]! - direct[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(direct[i]!)));
  });
});

describe('sessions and exports', () => {
  it('save → open restores every run bit for bit, lists the session as recent, and drops runs no longer in it', async () => {
    const a = await engine.generate({ modelId: 'fixture-eps-int64', seed: 1, steps: 10, sampler: 'ddpm', classLabel: null, guidance: 1 });
    const b = await engine.call('branch', {
      jobId: 'j',
      runId: a.runId,
      step: 3,
      brush: { kind: 'intensity', points: [{ x: 2, y: 2 }], radius: 2, strength: 1, color: [1] },
    });
    const path = join(home, 'sessions', 'first.painter');
    await engine.call('saveSession', { path, name: 'First', runIds: [a.runId, b.runId], current: { runId: b.runId, step: 3 } });
    expect(readdirSync(sessionRunsFolder(path)).sort()).toEqual([`${a.runId}.safetensors`, `${b.runId}.safetensors`].sort());

    const fresh = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-studio-2-')) });
    try {
      const opened = await fresh.call('openSession', { path });
      expect(opened.name).toBe('First');
      expect(opened.current).toEqual({ runId: b.runId, step: 3 });
      expect(opened.runs.map((run) => run.runId)).toEqual([a.runId, b.runId]);
      for (const runId of [a.runId, b.runId]) {
        const original = engine.getRunRecord(runId);
        const reopened = fresh.getRunRecord(runId);
        expect(bytesOf(reopened.xt).equals(bytesOf(original.xt))).toBe(true);
        expect(bytesOf(reopened.x0Hat).equals(bytesOf(original.x0Hat))).toBe(true);
        expect(reopened.summary).toEqual(original.summary);
      }
      // A reopened branch can branch again: the model and the parent's states are all there.
      const again = await fresh.call('branch', { jobId: 'k', runId: b.runId, step: 5, brush: { kind: 'noise', points: [{ x: 1, y: 1 }], radius: 2, strength: 1 } });
      expect(again.branch?.parentRunId).toBe(b.runId);
    } finally {
      await fresh.dispose();
    }
    expect((await engine.call('recentSessions', {}))[0]).toMatchObject({ path, name: 'First', runCount: 2 });

    await engine.call('saveSession', { path, name: 'First', runIds: [a.runId], current: null });
    expect(readdirSync(sessionRunsFolder(path))).toEqual([`${a.runId}.safetensors`]);
  });

  it('a save never removes or overwrites files Painter did not write in the runs folder, nor writes through a link', async () => {
    const a = await engine.generate({ modelId: 'fixture-gaussian', seed: 11, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    const b = await engine.generate({ modelId: 'fixture-gaussian', seed: 12, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    const path = join(home, 'sessions', 'experiment.painter');
    const folder = sessionRunsFolder(path);
    mkdirSync(folder, { recursive: true });
    // A user's own files, one of them a real Painter run of another session, one a look-alike name.
    const foreign: Record<string, Buffer> = {
      'weights.safetensors': Buffer.from('user weights, not a run'),
      'model-v2.safetensors': Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
      '00000000-0000-0000-0000-000000000000.safetensors': Buffer.from('looks like a run id'),
      'notes.txt': Buffer.from('keep me'),
    };
    for (const [name, bytes] of Object.entries(foreign)) writeFileSync(join(folder, name), bytes);
    await engine.call('saveRun', { runId: b.runId, path: join(folder, 'other-session-run.safetensors') });
    const otherRun = readFileSync(join(folder, 'other-session-run.safetensors'));

    await engine.call('saveSession', { path, name: 'Experiment', runIds: [a.runId, b.runId], current: null });
    await engine.call('saveSession', { path, name: 'Experiment', runIds: [], current: null });
    for (const [name, bytes] of Object.entries(foreign)) expect(readFileSync(join(folder, name)).equals(bytes)).toBe(true);
    expect(readFileSync(join(folder, 'other-session-run.safetensors')).equals(otherRun)).toBe(true);
    expect(existsSync(join(folder, `${a.runId}.safetensors`))).toBe(false);

    // A runs folder that is a link elsewhere is refused, and nothing is written there.
    const elsewhere = mkdtempSync(join(tmpdir(), 'painter-elsewhere-'));
    const linked = join(home, 'sessions', 'linked.painter');
    symlinkSync(elsewhere, sessionRunsFolder(linked));
    await expect(engine.call('saveSession', { path: linked, name: 'Linked', runIds: [a.runId], current: null })).rejects.toMatchObject({ code: 'BAD_FILE' });
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(linked)).toBe(false);
  });

  it('never overwrites a file that is not a session, nor an existing export', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 3, steps: 6, sampler: 'euler', classLabel: null, guidance: 1 });
    const foreign = join(home, 'notes.painter');
    writeFileSync(foreign, 'my notes');
    await expect(engine.call('saveSession', { path: foreign, name: 'x', runIds: [run.runId], current: null })).rejects.toThrow(/not a Painter session/);
    expect(readFileSync(foreign, 'utf-8')).toBe('my notes');
    const png = join(home, 'exports', 'strip.png');
    await engine.call('exportStrip', { runId: run.runId, path: png, layer: 'both', frames: 4, scale: 2 });
    await expect(engine.call('exportStrip', { runId: run.runId, path: png, layer: 'both', frames: 4, scale: 2 })).rejects.toThrow(/already exists/);
  });

  it('exports a filmstrip PNG of the right size, a GIF of every step, and trajectories Python can read', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 4, steps: 6, sampler: 'euler', classLabel: null, guidance: 1 });
    const png = join(home, 'exports', 'strip-4.png');
    await engine.call('exportStrip', { runId: run.runId, path: png, layer: 'both', frames: 4, scale: 2 });
    const bytes = readFileSync(png);
    // 4 columns × (4·2 px) + 5 gaps of 2 px; 2 rows.
    expect(bytes.readUInt32BE(16)).toBe(4 * 8 + 5 * 2);
    expect(bytes.readUInt32BE(20)).toBe(2 * 8 + 3 * 2);
    const idat = bytes.indexOf('IDAT');
    expect(inflateSync(bytes.subarray(idat + 4, idat + 4 + bytes.readUInt32BE(idat - 4))).length).toBe((42 + 1) * 22);

    const gif = join(home, 'exports', 'timeline.gif');
    await engine.call('exportAnimation', { runId: run.runId, path: gif, layer: 'x0Hat', frameMs: 80, scale: 3 });
    const gifBytes = readFileSync(gif);
    expect(gifBytes.subarray(0, 6).toString('ascii')).toBe('GIF89a');
    expect(gifBytes.readUInt16LE(6)).toBe(12);

    const file = join(home, 'exports', 'trajectories.safetensors');
    await engine.call('exportTrajectories', { runIds: [run.runId], path: file, includeGhost: true });
    const parsed = parseSafetensors(readFileSync(file), file);
    expect([...parsed.tensors.keys()].sort()).toEqual(
      ['run0.evaluations', 'run0.gaussian_x0_hat', 'run0.gaussian_x_t', 'run0.sigma', 'run0.x0_hat', 'run0.x_t'].sort(),
    );
    expect(bytesOf(parsed.tensors.get('run0.x0_hat')!.data as Float32Array).equals(bytesOf(engine.getRunRecord(run.runId).x0Hat))).toBe(true);
    expect(JSON.parse(parsed.metadata['painter.trajectories']!).runs[0].runId).toBe(run.runId);
    expect(spreadIndices(7, 4)).toEqual([0, 2, 4, 6]);
    expect(existsSync(file)).toBe(true);
  });

  it('the 3-D view gets the run\'s trajectory first, in the plane of its noise and image', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 9, steps: 30, sampler: 'heun', classLabel: null, guidance: 1 });
    const space = await engine.call('trajectorySpace', { jobId: 's', runId: run.runId, count: 4, basis: 'run' });
    // One trajectory of a Gaussian run is a near-planar rotation (DESIGN.md §3: top-2 PCs ≈ 99%).
    expect(space.explained[0]! + space.explained[1]!).toBeGreaterThan(0.97);
    expect(space.seeds).toEqual([9, 10, 11, 12]);
    expect(space.points.length).toBe(4 * 31 * 3);
    expect(space.ghost?.length).toBe(4 * 31 * 3);
    expect(space.plane.length).toBe(12);
    expect(space.explained[0]).toBeGreaterThan(space.explained[1]!);
    expect(space.explained.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-9);
  });
});

describe('validation of the studio calls', () => {
  it('refuses relative paths, wrong extensions, unknown brush kinds and oversized strokes', () => {
    expect(() => validateParams('saveSession', { path: 'notes.txt', name: 'n', runIds: ['a'], current: null })).toThrow(/must end in \.painter/);
    expect(() => validateParams('exportStrip', { runId: 'a', path: '/tmp/x.jpg', layer: 'xt', frames: 3, scale: 1 })).toThrow(/\.png/);
    const brush = { kind: 'spray', points: [{ x: 1, y: 1 }], radius: 2, strength: 1 };
    expect(() => validateParams('branch', { jobId: 'j', runId: 'a', step: 1, brush })).toThrow(/brush.kind/);
    const long = { kind: 'noise', points: Array.from({ length: 600 }, () => ({ x: 1, y: 1 })), radius: 2, strength: 1 };
    expect(() => validateParams('branch', { jobId: 'j', runId: 'a', step: 1, brush: long })).toThrow(/points/);
    expect(() => validateParams('deleteRuns', { runIds: ['../../etc/passwd'] })).toThrow(/run id/);
    const ok = validateParams('branch', { jobId: 'j', runId: 'a-1', step: 1, brush: { kind: 'direction', points: [{ x: 1, y: 1 }], radius: 2, strength: 1, direction: { kind: 'vector', label: 'PC 1', values: new Float32Array(4) } } });
    expect(ok.brush.direction?.kind).toBe('vector');
  });
});
