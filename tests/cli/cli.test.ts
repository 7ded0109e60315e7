import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../electron/engine/runs';
import { painterCli } from '../helpers/painter-cli';

const home = mkdtempSync(join(tmpdir(), 'painter-cli-'));
const painter = painterCli({ home });
const out = mkdtempSync(join(tmpdir(), 'painter-cli-out-'));

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

  it('warns on stderr (and in the JSON) when the sampler and step count are far from converged, and not at the default', () => {
    const run = join(out, 'few.safetensors');
    const few = painter('sample', '--model', 'fashion-mnist-gaussian', '--sampler', 'heun', '--steps', '4', '--out', run, '--json');
    expect(few.code, few.stderr).toBe(0);
    expect(few.stderr).toMatch(/^warning: Heun with 4 steps is far from converged on this model's schedule: its final image is about .* off the exact probability-flow solution .* Use at least \d+ steps/m);
    expect((JSON.parse(few.stdout) as { warnings?: string[] }).warnings).toHaveLength(1);
    const enough = painter('sample', '--model', 'fashion-mnist-gaussian', '--sampler', 'heun', '--out', run, '--json');
    expect(enough.code, enough.stderr).toBe(0);
    expect(enough.stderr).toBe('');
    expect((JSON.parse(enough.stdout) as { warnings?: string[] }).warnings).toBeUndefined();
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

  describe('never overwrites a file Painter did not write (issue 9, item 8)', () => {
    it('--png: refuses a text file (exit 2, untouched), replaces its own PNG, and replaces anything with --force', () => {
      const png = join(out, 'notes.png');
      writeFileSync(png, 'not a picture');
      const run = join(out, 'png-test.safetensors');
      const refused = painter('sample', '--model', 'fashion-mnist-gaussian', '--steps', '3', '--out', run, '--png', png);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--png: .*notes\.png already exists and is not a PNG Painter wrote; refusing to overwrite it .*--force/);
      expect(readFileSync(png, 'utf-8')).toBe('not a picture');
      expect(existsSync(run)).toBe(false);
      const forced = painter('sample', '--model', 'fashion-mnist-gaussian', '--steps', '3', '--out', run, '--png', png, '--force');
      expect(forced.code, forced.stderr).toBe(0);
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
      // Now it is Painter's own PNG: a second run may replace it without --force.
      const again = painter('sample', '--model', 'fashion-mnist-gaussian', '--steps', '3', '--seed', '2', '--out', run, '--png', png);
      expect(again.code, again.stderr).toBe(0);
    });

    it('--json of analyze: refuses a foreign JSON file before any work, accepts its own', () => {
      const json = join(out, 'package.json');
      writeFileSync(json, '{"name": "my-project"}');
      const refused = painter('analyze', 'trajectory', '--model', 'fashion-mnist-gaussian', '--seeds', '2', '--steps', '4', '--json', json);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--json: .* is not a JSON file "painter analyze" wrote/);
      expect(readFileSync(json, 'utf-8')).toBe('{"name": "my-project"}');
      const own = join(out, 'trajectory.json');
      for (let i = 0; i < 2; i++) {
        const result = painter('analyze', 'trajectory', '--model', 'fashion-mnist-gaussian', '--seeds', '2', '--steps', '4', '--json', own);
        expect(result.code, result.stderr).toBe(0);
      }
      expect(JSON.parse(readFileSync(own, 'utf-8'))).toMatchObject({ generator: 'painter analyze', model: 'fashion-mnist-gaussian' });
    });

    it('report --out: refuses a folder whose report.html is not a Painter report', () => {
      const folder = join(out, 'site');
      mkdirSync(folder);
      writeFileSync(join(folder, 'report.html'), '<html>my report</html>');
      const refused = painter('report', '--model', 'fashion-mnist-gaussian', '--out', folder, '--quick', '--only', 'trajectory');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--out: .*report\.html already exists and is not a report Painter wrote/);
      expect(readFileSync(join(folder, 'report.html'), 'utf-8')).toBe('<html>my report</html>');
      expect(readdirSync(folder)).toEqual(['report.html']);
    });
  });
});
