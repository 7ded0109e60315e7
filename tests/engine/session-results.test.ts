import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateParams } from '../../electron/api/validate';
import { parseResults, RESULTS_FILE, serializeResults } from '../../electron/engine/results';
import { parseSafetensors, serializeSafetensors } from '../../electron/engine/safetensors';
import { Engine } from '../../electron/engine/service';
import { sessionRunsFolder } from '../../electron/engine/session';
import { projectOnAxes, rotationPlaneAxes } from '../../electron/engine/trajectory-space';
import { Random } from '../../electron/engine/rng';
import { FIXTURES } from '../helpers/fixtures';

const home = mkdtempSync(join(tmpdir(), 'painter-results-'));
const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
afterAll(() => engine.dispose());

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('results saved with a session', () => {
  it('variation grids, 3-D views and charts survive save → open in a fresh engine, bit for bit', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 21, steps: 12, sampler: 'euler', classLabel: null, guidance: 1 });
    const grid = await engine.call('variations', { jobId: 'v', runId: run.runId, step: 4, family: 'jacobian', directions: 3, amplitudes: [-2, 0, 2] });
    const space = await engine.call('trajectorySpace', { jobId: 't', runId: run.runId, count: 3, basis: 'plane' });
    const chart = await engine.call('theory', { jobId: 'c', runId: run.runId, analysis: 'emergence', seeds: 2 });
    expect(chart.runId).toBe(run.runId);
    const path = join(home, 'with results.painter');
    await engine.call('saveSession', { path, name: 'With results', runIds: [run.runId], current: null });
    expect(readdirSync(sessionRunsFolder(path)).sort()).toEqual([RESULTS_FILE, `${run.runId}.safetensors`].sort());
    expect(JSON.parse(readFileSync(path, 'utf-8')).results).toBe(`with results-runs/${RESULTS_FILE}`);

    const fresh = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-results-2-')) });
    try {
      const opened = await fresh.call('openSession', { path });
      const results = opened.results!;
      expect(results.variations).toHaveLength(1);
      const reopened = results.variations[0]!;
      expect({ ...reopened, directions: null, images: null }).toEqual({ ...grid, directions: null, images: null });
      expect(bytesOf(reopened.images).equals(bytesOf(grid.images))).toBe(true);
      expect(bytesOf(reopened.directions).equals(bytesOf(grid.directions))).toBe(true);
      const view = results.trajectories[0]!;
      expect(view.axisLabels).toEqual(space.axisLabels);
      expect(bytesOf(view.points).equals(bytesOf(space.points))).toBe(true);
      expect(bytesOf(view.ghost!).equals(bytesOf(space.ghost!))).toBe(true);
      expect(results.charts).toEqual([chart]);
      // The fresh engine keeps them too: saving again elsewhere writes them again.
      const copy = join(home, 'copy.painter');
      await fresh.call('saveSession', { path: copy, name: 'Copy', runIds: [run.runId], current: null });
      expect(existsSync(join(sessionRunsFolder(copy), RESULTS_FILE))).toBe(true);
    } finally {
      await fresh.dispose();
    }

    // Without the run, the results go too (and the file that held them, proved ours by its header).
    const other = await engine.generate({ modelId: 'fixture-gaussian', seed: 22, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    await engine.call('saveSession', { path, name: 'With results', runIds: [other.runId], current: null });
    expect(existsSync(join(sessionRunsFolder(path), RESULTS_FILE))).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf-8')).results).toBeUndefined();
  });

  it('refuses a results file that does not fit its runs, naming what is wrong', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 23, steps: 6, sampler: 'euler', classLabel: null, guidance: 1 });
    const grid = await engine.call('variations', { jobId: 'v2', runId: run.runId, step: 2, family: 'x0-pcs', directions: 2, amplitudes: [1, 2] });
    const bytes = serializeResults({ variations: [grid], trajectories: [], charts: [] });
    expect(parseResults(bytes, 'r', new Map([[run.runId, 16]])).variations[0]!.count).toBe(grid.count);
    expect(() => parseResults(bytes, 'r', new Map([[run.runId, 25]]))).toThrow(/variations\.0\.directions" is F32 \[2, 16\]; expected F32 \[2, 25\]/);
    expect(() => parseResults(bytes, 'r', new Map())).toThrow(/belongs to run .*which the session does not hold/);
    // A field of the wrong type, written as another program might.
    const file = parseSafetensors(bytes, 'r');
    const meta = JSON.parse(file.metadata['painter.results']!);
    meta.variations[0].valueLabel = 0;
    const tensors = Object.fromEntries(file.tensors);
    const broken = serializeSafetensors(tensors, { 'painter.results': JSON.stringify(meta) });
    expect(() => parseResults(broken, 'r', new Map([[run.runId, 16]]))).toThrow(/not a Painter results file: variations\[0\]\.valueLabel must be a non-empty string/);
  });
});

describe('files dropped on the studio', () => {
  it('a run file opens from its bytes; a session opens with its run files, and says which one is missing', async () => {
    const a = await engine.generate({ modelId: 'fixture-gaussian', seed: 31, steps: 5, sampler: 'euler', classLabel: null, guidance: 1 });
    const path = join(home, 'dropped.painter');
    await engine.call('saveSession', { path, name: 'Dropped', runIds: [a.runId], current: { runId: a.runId, step: 2 } });
    const runFile = join(sessionRunsFolder(path), `${a.runId}.safetensors`);

    const fresh = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-drop-')) });
    try {
      const summary = await fresh.call('importRun', { file: { name: basename(runFile), bytes: readFileSync(runFile) } });
      expect(summary).toEqual(a);
      await expect(fresh.call('importRun', { file: { name: 'x.safetensors', bytes: new Uint8Array(20) } })).rejects.toMatchObject({ code: 'BAD_FILE' });

      const session = { name: 'dropped.painter', bytes: readFileSync(path) };
      await expect(fresh.call('importSession', { session, runs: [] })).rejects.toThrow(/drop the session file together with its folder dropped-runs/);
      const opened = await fresh.call('importSession', { session, runs: [{ name: basename(runFile), bytes: readFileSync(runFile) }] });
      expect(opened).toMatchObject({ name: 'Dropped', current: { runId: a.runId, step: 2 } });
      expect(opened.runs).toEqual([a]);
    } finally {
      await fresh.dispose();
    }
  });

  it('validation refuses paths as names and oversized drops', () => {
    expect(() => validateParams('importRun', { file: { name: '../x.safetensors', bytes: new Uint8Array(1) } })).toThrow(/a file name, not a path/);
    expect(() => validateParams('importRun', { file: { name: 'x.safetensors', bytes: 'abc' } })).toThrow(/must hold 1 to/);
    expect(() => validateParams('importSession', { session: { name: 's.painter', bytes: new Uint8Array(1) }, runs: [6, 6].map((mb, i) => ({ name: `r${i}`, bytes: new Uint8Array(mb * 1024 * 1024) })) })).toThrow(/at most/);
    expect(validateParams('trajectorySpace', { jobId: 'j', runId: 'r', count: 4, basis: 'plane' }).basis).toBe('plane');
    expect(() => validateParams('trajectorySpace', { jobId: 'j', runId: 'r', count: 4, basis: 'sideways' })).toThrow(/plane, run, all/);
  });
});

describe('rotation-plane axes', () => {
  it('recover a path built in a known plane plus one residual direction (exact up to float32: 1e-5)', () => {
    const dim = 50;
    const states = 21;
    const random = new Random(5, 1);
    // Three orthonormal directions: image u, noise v (⊥ u), residual w.
    const basis = Array.from({ length: 3 }, () => Float64Array.from({ length: dim }, () => random.normal()));
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < a; b++) {
        const overlap = basis[a]!.reduce((s, x, d) => s + x * basis[b]![d]!, 0);
        basis[a]!.forEach((_, d) => (basis[a]![d]! -= overlap * basis[b]![d]!));
      }
      const length = Math.hypot(...basis[a]!);
      basis[a]!.forEach((_, d) => (basis[a]![d]! /= length));
    }
    // x_j = 3 sin(θ) u + 5 cos(θ) v + 0.4 sin(2θ) w: a quarter turn from noise (θ = 0) to image (θ = π/2), bulging along w mid-way.
    const path = new Float32Array(states * dim);
    const expected: number[] = [];
    for (let j = 0; j < states; j++) {
      const theta = (Math.PI / 2) * (j / (states - 1));
      const coords = [3 * Math.sin(theta), 5 * Math.cos(theta), 0.4 * Math.sin(2 * theta)];
      for (let d = 0; d < dim; d++) path[j * dim + d] = coords[0]! * basis[0]![d]! + coords[1]! * basis[1]![d]! + coords[2]! * basis[2]![d]!;
      expected.push(...coords);
    }
    const axes = rotationPlaneAxes(path, states, dim);
    const projected = projectOnAxes(path, states, axes);
    // The residual axis is found up to sign.
    const sign = Math.sign(projected[10 * 3 + 2]!);
    projected.forEach((value, i) => {
      const want = i % 3 === 2 ? sign * expected[i]! : expected[i]!;
      expect(Math.abs(value - want)).toBeLessThan(1e-5);
    });
  });

  it('the engine draws each path of a Gaussian run as a near-planar arc, with its ghost, in its own plane', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 41, steps: 30, sampler: 'euler', classLabel: null, guidance: 1 });
    const space = await engine.call('trajectorySpace', { jobId: 'p', runId: run.runId, count: 4, basis: 'plane' });
    expect(space.basis).toBe('plane');
    // DESIGN.md §2: the path hugs the plane of its noise and image; on the exact Gaussian the residual is tiny.
    expect(space.explained[0]! + space.explained[1]!).toBeGreaterThan(0.95);
    expect(space.explained[2]!).toBeLessThan(0.05);
    // Each path starts on the noise axis (x = 0 along the image) and ends on the image axis (y = 0).
    for (let b = 0; b < 4; b++) {
      const start = b * 31 * 3;
      const end = (b * 31 + 30) * 3;
      expect(Math.abs(space.points[end + 1]!)).toBeLessThan(1e-4 * Math.abs(space.points[end]!) + 1e-5);
      expect(space.points[start + 1]!).toBeGreaterThan(0); // x_T's own part orthogonal to the image, positive by construction
    }
    // The ghost of an exact Gaussian model is the run itself (same noise, same closed form; Euler error only).
    let worst = 0;
    for (let i = 0; i < space.points.length; i++) worst = Math.max(worst, Math.abs(space.points[i]! - space.ghost![i]!));
    expect(worst).toBeLessThan(0.1 * Math.max(...Array.from(space.points, Math.abs)));
  });
});

it('a results file that is someone else\'s is never overwritten', async () => {
  const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 51, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
  await engine.call('variations', { jobId: 'v3', runId: run.runId, step: 1, family: 'x0-pcs', directions: 1, amplitudes: [1] });
  const path = join(home, 'guarded.painter');
  const folder = sessionRunsFolder(path);
  await engine.call('saveSession', { path, name: 'Guarded', runIds: [run.runId], current: null });
  writeFileSync(join(folder, RESULTS_FILE), 'mine');
  await expect(engine.call('saveSession', { path, name: 'Guarded', runIds: [run.runId], current: null })).rejects.toThrow(/not a Painter results file; refusing/);
  expect(readFileSync(join(folder, RESULTS_FILE), 'utf-8')).toBe('mine');
});
