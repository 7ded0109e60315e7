import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../electron/api/contract';
import { PREVIEW_MAX_VALUES } from '../../electron/api/contract';
import { estimateSecondsLeft, JobReporter, previewImage } from '../../electron/engine/jobs/progress';
import { JobScheduler } from '../../electron/engine/jobs/scheduler';
import { Engine } from '../../electron/engine/service';
import { FIXTURES } from '../helpers/fixtures';

describe('job progress', () => {
  it('estimates the time left at a constant pace, and nothing before any work or after the end', () => {
    expect(estimateSecondsLeft(10, 50, 2)).toBeCloseTo(8, 12); // 0.2 s per step, 40 steps left
    expect(estimateSecondsLeft(0, 50, 2)).toBeNull();
    expect(estimateSecondsLeft(50, 50, 2)).toBeNull();
  });

  it('sends the first and the last report at once and throttles the rest to one per interval', () => {
    let now = 0;
    const sent: JobProgress[] = [];
    const reporter = new JobReporter('j', (progress) => sent.push(progress), () => now, 100);
    let previews = 0;
    const preview = (): { step: number; stepCount: number; image: { channels: number; height: number; width: number; range: [number, number] }; values: Float32Array } => {
      previews++;
      return { step: 0, stepCount: 2, image: { channels: 1, height: 1, width: 1, range: [-1, 1] }, values: new Float32Array(1) };
    };
    for (let done = 1; done <= 100; done++) {
      now = done * 10; // a step every 10 ms
      reporter.report({ done, total: 100, message: `step ${done}`, preview });
    }
    // First at 10 ms, then every 100 ms (110, 210, …, 910), then the last at 1000 ms.
    expect(sent.map((p) => p.done)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100]);
    expect(previews).toBe(sent.length); // previews are built only for reports that are sent
    expect(sent[0]!.etaSeconds).toBeCloseTo((0.01 * 99) / 1, 9);
    expect(sent.at(-1)!.etaSeconds).toBeUndefined();
  });

  it('previews small images whole and shrinks large ones by a box filter to at most the limit', () => {
    const small = { channels: 1, height: 32, width: 32, range: [-1, 1] as [number, number], crop: { top: 2, left: 2, height: 28, width: 28 } };
    const state = Float32Array.from({ length: 32 * 32 }, (_, i) => i);
    const cropped = previewImage(small, state);
    expect(cropped.image).toEqual({ channels: 1, height: 28, width: 28, range: [-1, 1] });
    expect(cropped.values[0]).toBe(2 * 32 + 2);
    expect(cropped.values[28 * 28 - 1]).toBe(29 * 32 + 29);

    const big = { channels: 3, height: 512, width: 512, range: [0, 1] as [number, number] };
    const values = Float32Array.from({ length: 3 * 512 * 512 }, (_, i) => Math.sin(i));
    const shrunk = previewImage(big, values);
    expect(shrunk.values.length).toBeLessThanOrEqual(PREVIEW_MAX_VALUES);
    const factor = 512 / shrunk.image.width;
    expect(Number.isInteger(factor)).toBe(true);
    // Independent check of one output pixel: the mean of its factor × factor block.
    const [c, y, x] = [2, 17, 33];
    let sum = 0;
    for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) sum += values[(c * 512 + y * factor + dy) * 512 + x * factor + dx]!;
    expect(shrunk.values[(c * shrunk.image.height + y) * shrunk.image.width + x]).toBeCloseTo(sum / factor ** 2, 5);
  });
});

describe('job scheduler', () => {
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('runs the lanes beside each other, one job per lane at a time, in order, and says where each waiting job stands', async () => {
    const scheduler = new JobScheduler();
    const events: string[] = [];
    const gates = new Map<string, () => void>();
    const job = (name: string) => () =>
      new Promise<string>((resolve) => {
        events.push(`start ${name}`);
        gates.set(name, () => resolve(name));
      });
    const positions: Record<string, number[]> = { b: [], c: [] };
    const a = scheduler.run('analysis', job('a'));
    const b = scheduler.run('analysis', job('b'), { onQueued: (p) => positions['b']!.push(p) });
    const c = scheduler.run('analysis', job('c'), { onQueued: (p) => positions['c']!.push(p) });
    const g = scheduler.run('interactive', job('g'));
    await tick();
    expect(events).toEqual(['start a', 'start g']); // the generation does not wait for the analysis
    expect(scheduler.load('analysis')).toEqual({ running: 1, waiting: 2 });
    gates.get('g')!();
    expect(await g).toBe('g');
    gates.get('a')!();
    await a;
    await tick();
    expect(events).toEqual(['start a', 'start g', 'start b']);
    expect(positions['c']).toEqual([2, 1]);
    gates.get('b')!();
    await b;
    await tick();
    gates.get('c')!();
    expect(await c).toBe('c');
    expect(positions['b']).toEqual([1]);
  });

  it('a job cancelled while it waits never starts, and the ones behind it move up', async () => {
    const scheduler = new JobScheduler();
    let release: () => void = () => {};
    const first = scheduler.run('interactive', () => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    let started = false;
    const second = scheduler.run('interactive', async () => {
      started = true;
    }, { signal: controller.signal });
    const third: number[] = [];
    const last = scheduler.run('interactive', async () => 'last', { onQueued: (p) => third.push(p) });
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(third).toEqual([2, 1]);
    release();
    await first;
    expect(await last).toBe('last');
    expect(started).toBe(false);
  });
});

describe('engine jobs', () => {
  const engine = new Engine({ nativeModelsDir: FIXTURES, userDataDir: mkdtempSync(join(tmpdir(), 'painter-jobs-')) });
  afterAll(() => engine.dispose());

  it('a generation reports its steps with a live x̂0 preview that ends on the final image', async () => {
    const events: JobProgress[] = [];
    const summary = await engine.call(
      'generate',
      { jobId: 'g1', modelId: 'fixture-gaussian', seed: 3, steps: 20, sampler: 'euler', classLabel: null, guidance: 1 },
      { emit: (_name, payload) => events.push(payload) },
    );
    const previews = events.filter((event) => event.preview !== undefined);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]!.preview!.step).toBe(0); // the very first step is sent at once
    const run = engine.getRunRecord(summary.runId);
    const last = previews.at(-1)!.preview!;
    expect(last.step).toBe(19);
    expect(last.stepCount).toBe(21);
    // The preview of state j is exactly the run's recorded x̂0 at j.
    expect(Array.from(last.values)).toEqual(Array.from(run.x0Hat.subarray(19 * 16, 20 * 16)));
    expect(events.at(-1)).toMatchObject({ jobId: 'g1', done: 1, total: 1 });
  });

  it('a branch previews its own steps, counted in the parent run\'s steps', async () => {
    const parent = await engine.generate({ modelId: 'fixture-gaussian', seed: 4, steps: 10, sampler: 'euler', classLabel: null, guidance: 1 });
    const events: JobProgress[] = [];
    await engine.call(
      'branch',
      { jobId: 'b1', runId: parent.runId, step: 6, brush: { kind: 'intensity', points: [{ x: 1, y: 1 }], radius: 2, strength: 1, color: [1] } },
      { emit: (_name, payload) => events.push(payload) },
    );
    const steps = events.flatMap((event) => (event.preview ? [event.preview.step] : []));
    expect(steps[0]).toBe(6);
    expect(steps.at(-1)).toBe(9);
    expect(events.find((event) => event.preview)?.message).toMatch(/^Branch: step 7 of 10/);
  });

  it('an analysis never holds up a generation, and a queued job can be cancelled before it starts', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 5, steps: 30, sampler: 'euler', classLabel: null, guidance: 1 });
    const events: JobProgress[] = [];
    const emit = { emit: (_name: 'progress', payload: JobProgress): void => void events.push(payload) };
    const first = engine.call('trajectorySpace', { jobId: 't1', runId: run.runId, count: 8, basis: 'run' }, emit);
    const second = engine.call('trajectorySpace', { jobId: 't2', runId: run.runId, count: 8, basis: 'run' }, emit);
    const generated = await engine.call('generate', { jobId: 'g2', modelId: 'fixture-gaussian', seed: 6, steps: 5, sampler: 'euler', classLabel: null, guidance: 1 }, emit);
    expect(generated.stepCount).toBe(6);
    expect(events.find((event) => event.jobId === 't2')?.queued).toBe(1);
    expect(await engine.call('cancel', { jobId: 't2' })).toEqual({ cancelled: true });
    await expect(second).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await first).seeds.length).toBe(8);
  });

  it('deleted runs come back with undo, bit for bit, and unknown ones are refused with a reason', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 7, steps: 6, sampler: 'heun', classLabel: null, guidance: 1 });
    const before = engine.getRunRecord(run.runId);
    expect(await engine.call('deleteRuns', { runIds: [run.runId] })).toEqual({ deleted: [run.runId] });
    await expect(engine.call('getRun', { runId: run.runId })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    const restored = await engine.call('restoreRuns', { runIds: [run.runId] });
    expect(restored).toEqual([run]);
    expect(engine.getRunRecord(run.runId).x0Hat).toBe(before.x0Hat);
    await expect(engine.call('restoreRuns', { runIds: ['00000000-0000-0000-0000-000000000000'] })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('thumbnails are the final x̂0 of each run', async () => {
    const run = await engine.generate({ modelId: 'fixture-gaussian', seed: 8, steps: 4, sampler: 'euler', classLabel: null, guidance: 1 });
    const [thumbnail] = await engine.call('runThumbnails', { runIds: [run.runId] });
    expect(Array.from(thumbnail!.values)).toEqual(Array.from(engine.getRunRecord(run.runId).x0Hat.subarray(4 * 16, 5 * 16)));
  });
});
