import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../../electron/engine/runs';

const ROOT = join(__dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'painter-cli-'));
const out = mkdtempSync(join(tmpdir(), 'painter-cli-out-'));

function painter(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'painter.cjs'), ...args], {
    env: { ...process.env, PAINTER_HOME: home },
    encoding: 'utf-8',
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, encoding: 'utf-8' });
  expect(build.status, build.stderr).toBe(0);
});

describe('painter CLI', () => {
  it('lists the bundled models as JSON', () => {
    const result = painter('models', '--json');
    expect(result.code, result.stderr).toBe(0);
    const models = JSON.parse(result.stdout) as Array<{ id: string; kind: string }>;
    expect(models.map((m) => m.id)).toContain('fashion-mnist-gaussian');
  });

  it('samples a run, writes the run and a PNG strip, and prints a one-line JSON summary', () => {
    const run = join(out, 'run.safetensors');
    const png = join(out, 'strip.png');
    const result = painter('sample', '--model', 'fashion-mnist-gmm', '--class', '3', '--steps', '20', '--seed', '9', '--out', run, '--png', png, '--json');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(summary).toMatchObject({ model: 'fashion-mnist-gmm', steps: 20, evaluations: 20, out: run, png });
    expect(typeof summary['seconds']).toBe('number');
    const record = readRun(run);
    expect(record.summary.stepCount).toBe(21);
    expect(record.summary.settings.classLabel).toBe(3);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['a missing model', ['sample', '--model', 'no-such-model'], /No model "no-such-model". Known models: .*fashion-mnist-gaussian/],
    ['an unknown class', ['sample', '--model', 'fashion-mnist-gmm', '--class', '42'], /Class 42 is not one of model "fashion-mnist-gmm"'s classes 0–9/],
    ['a bad flag', ['sample', '--model', 'fashion-mnist-gmm', '--colour', 'red'], /Unknown flag --colour/],
    ['a bad number', ['sample', '--model', 'fashion-mnist-gmm', '--steps', 'many'], /--steps must be an integer/],
    ['an unknown sampler', ['sample', '--model', 'fashion-mnist-gmm', '--sampler', 'rk4'], /--sampler must be one of euler, heun, ddpm/],
    ['an unknown command', ['paint'], /Unknown command "paint"/],
    ['an evaluation without a judge', ['evaluate', '--model', 'emoji32-gaussian', '--steps', '5'], /names no judge network .*only --grid works without one/],
  ];
  for (const [what, args, message] of failures) {
    it(`refuses ${what} with one line on stderr, a non-zero exit and no output file`, () => {
      const target = join(out, `${what.replace(/\W+/g, '-')}.safetensors`);
      const result = painter(...args, ...(args[0] === 'sample' ? ['--out', target, '--png', `${target}.png`] : []));
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(target)).toBe(false);
      expect(existsSync(`${target}.png`)).toBe(false);
    });
  }

  it('writes engine-made sample grids for a model without a judge', () => {
    const prefix = join(out, 'emoji-gaussian');
    const result = painter('evaluate', '--model', 'emoji32-gaussian', '--steps', '5', '--grid', prefix);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { judge: null; grids: string[] };
    expect(summary.judge).toBeNull();
    expect(summary.grids).toEqual([`${prefix}-unconditional.png`]);
    // 10 × 10 grid of 32-px images scaled 2×, 2-px gaps → 10·64 + 11·2 = 662 px square.
    const png = readFileSync(summary.grids[0]!);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([662, 662]);
  });

  it('scores the bundled GAN generator with the judge: class-balanced samples, orientation beside the data, a class grid', () => {
    const prefix = join(out, 'gan');
    const result = painter('evaluate', '--model', 'fashion-mnist-gan', '--samples', '200', '--grid', prefix);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { kind: string; count: number; accuracy: number; scoreRatio: number; frechetToTest: number; orientation: { classMeansFrom: string; data: Record<string, number> }; grids: string[] };
    expect(summary.kind).toBe('gan');
    expect(summary.count).toBe(200);
    // A trained class-conditional generator: the judge recognises most classes (its card: > 0.9 on 10,000).
    expect(summary.accuracy).toBeGreaterThan(0.6);
    expect(summary.frechetToTest).toBeGreaterThan(0);
    expect(summary.orientation.classMeansFrom).toBe('fashion-mnist-delta');
    expect(summary.orientation.data['Ankle boot']).toBeGreaterThan(0.95);
    // 10 × 10 grid of 28-px images scaled 2×, 2-px gaps → 10·56 + 11·2 = 582 px square.
    const png = readFileSync(summary.grids[0]!);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([582, 582]);
  });

  it('refuses to overwrite a file that is not a run, leaving it as it was', () => {
    const target = join(out, 'precious.safetensors');
    writeFileSync(target, 'my thesis');
    const result = painter('sample', '--model', 'fashion-mnist-gaussian', '--steps', '5', '--out', target);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/exists and is not a Painter run; refusing to overwrite/);
    expect(readFileSync(target, 'utf-8')).toBe('my thesis');
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
