import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, saveRunFile } from '../../electron/engine/service';
import { readRun, serializeRun } from '../../electron/engine/runs';
import { serializeSafetensors } from '../../electron/engine/safetensors';
import { FIXTURES } from '../helpers/fixtures';

const home = mkdtempSync(join(tmpdir(), 'painter-runs-'));
const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: home });
afterAll(() => engine.dispose());

async function makeRun(seed: number, modelId = 'fixture-eps-int64'): Promise<string> {
  const summary = await engine.generate({ modelId, seed, steps: 12, sampler: 'ddpm', classLabel: null, guidance: 1 });
  return summary.runId;
}

describe('run store', () => {
  it('same seed and settings give identical tensors', async () => {
    const a = engine.getRunRecord(await makeRun(4));
    const b = engine.getRunRecord(await makeRun(4));
    expect(Buffer.from(a.xt.buffer).equals(Buffer.from(b.xt.buffer))).toBe(true);
    expect(Buffer.from(a.x0Hat.buffer).equals(Buffer.from(b.x0Hat.buffer))).toBe(true);
  });

  it('a saved run loads back bit-identical, and was autosaved', async () => {
    const runId = await makeRun(5);
    const run = engine.getRunRecord(runId);
    const path = join(home, 'saved.safetensors');
    saveRunFile(path, run);
    const loaded = readRun(path);
    expect(Buffer.from(loaded.xt.buffer).equals(Buffer.from(run.xt.buffer))).toBe(true);
    expect(Buffer.from(loaded.x0Hat.buffer).equals(Buffer.from(run.x0Hat.buffer))).toBe(true);
    expect(loaded.summary).toEqual(run.summary);
    expect(Buffer.from(serializeRun(loaded)).equals(readFileSync(path))).toBe(true);
    expect(existsSync(join(home, 'runs', `${runId}.safetensors`))).toBe(true);
  });

  it('refuses truncated, empty and foreign files with a clear error and leaves them untouched', async () => {
    const run = engine.getRunRecord(await makeRun(6));
    const good = serializeRun(run);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['truncated', good.subarray(0, good.length - 100), /truncated|past the end/],
      ['empty', new Uint8Array(0), /empty/],
      ['text', Buffer.from('hello, this is not a tensor file at all'), /header/],
      ['foreign', serializeSafetensors({ weight: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }), /not a Painter run/],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(home, `${name}.safetensors`);
      writeFileSync(path, bytes);
      expect(() => readRun(path), name).toThrow(message);
      await expect(engine.call('openRun', { path })).rejects.toMatchObject({ code: 'BAD_FILE' });
      // Saving over a file that is not a run is refused, and the file keeps its bytes.
      expect(() => saveRunFile(path, run)).toThrow(/refusing to overwrite/);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(bytes))).toBe(true);
    }
    expect(readdirSync(home).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('generate refuses an unknown class, a missing model and a class on an unconditional model', async () => {
    await expect(engine.generate({ modelId: 'nope', seed: 0, steps: 5, sampler: 'euler', classLabel: null, guidance: 1 })).rejects.toThrow(/No model "nope"/);
    await expect(engine.generate({ modelId: 'fixture-eps-class', seed: 0, steps: 5, sampler: 'euler', classLabel: 7, guidance: 1 })).rejects.toThrow(
      /Class 7 is not one of/,
    );
    await expect(engine.generate({ modelId: 'fixture-gaussian', seed: 0, steps: 5, sampler: 'euler', classLabel: 1, guidance: 1 })).rejects.toThrow(/takes no class/);
  });

  it('cancel stops a running job', async () => {
    const jobId = 'job-cancel';
    let cancelled: Promise<{ cancelled: boolean }> | null = null;
    let lastDone = 0;
    const pending = engine.call(
      'generate',
      { jobId, modelId: 'fixture-delta', seed: 1, steps: 1000, sampler: 'heun', classLabel: null, guidance: 1 },
      {
        emit: (_name, payload) => {
          lastDone = payload.done;
          if (cancelled === null && payload.done >= 1) cancelled = engine.call('cancel', { jobId });
        },
      },
    );
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await cancelled).toEqual({ cancelled: true });
    expect(lastDone).toBeLessThan(10);
  });
});
