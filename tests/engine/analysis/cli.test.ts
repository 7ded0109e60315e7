import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../../electron/engine/png';
import { painterCli } from '../../helpers/painter-cli';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'tests', 'fixtures');
const home = mkdtempSync(join(tmpdir(), 'painter-lab-'));
const painter = painterCli({ home, timeoutMs: 120_000 });
const out = mkdtempSync(join(tmpdir(), 'painter-lab-out-'));

describe('painter analyze / report', () => {
  it('analyze trajectory on a model folder writes JSON with its settings and a PNG', () => {
    const json = join(out, 'trajectory.json');
    const png = join(out, 'trajectory.png');
    const result = painter('analyze', 'trajectory', '--model', join(FIXTURES, 'gauss16'), '--steps', '12', '--seeds', '3', '--seed-base', '5', '--json', json, '--png', png);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/top-2 PCs: .* %/);
    const written = JSON.parse(readFileSync(json, 'utf-8')) as { model: string; result: { analysis: string; settings: { seeds: number[]; steps: number }; explained: unknown[] } };
    expect(written.model).toBe('fixture-gaussian');
    expect(written.result.analysis).toBe('trajectory');
    expect(written.result.settings).toMatchObject({ seeds: [5, 6, 7], steps: 12, sampler: 'euler' });
    expect(written.result.explained).toHaveLength(5);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('analyze manifold and perturbation on an ONNX network find its Gaussian through the manifest', () => {
    const json = join(out, 'manifold.json');
    let result = painter('analyze', 'manifold', '--model', join(FIXTURES, 'fixture-eps-int64'), '--steps', '10', '--k', '3', '--budget', '24', '--generator-k', '2', '--generator-blocks', '2', '--grid-directions', '2', '--amplitudes', '-1,0,1', '--json', json, '--png', join(out, 'manifold.png'));
    expect(result.code, result.stderr).toBe(0);
    const manifold = JSON.parse(readFileSync(json, 'utf-8')) as { sources: { gaussian: string }; result: { jacobian: { first: { forwardPasses: number; directions: number[] } } } };
    expect(manifold.sources.gaussian).toMatch(/gauss16[/\\]stats\.safetensors$/);
    expect(manifold.result.jacobian.first.forwardPasses).toBeLessThanOrEqual(24);
    expect(manifold.result.jacobian.first.directions).toHaveLength(3 * 16);
    result = painter('analyze', 'perturbation', '--model', join(FIXTURES, 'fixture-eps-int64'), '--steps', '10', '--seeds', '2', '--inject-steps', '0,5', '--strengths', '1,2', '--direction', 'patch:2@1,1', '--json', join(out, 'perturbation.json'));
    expect(result.code, result.stderr).toBe(0);
    const perturbation = JSON.parse(readFileSync(join(out, 'perturbation.json'), 'utf-8')) as { result: { table: unknown[][]; settings: { direction: unknown } } };
    expect(perturbation.result.table).toHaveLength(2);
    expect(perturbation.result.settings.direction).toEqual({ kind: 'patch', size: 2, top: 1, left: 1 });
  });

  it('analyze manifold --mask finds local directions for the painted region; analyze locality measures them', () => {
    // The fixture's 4×4 images: the top-left 2×2 pixels are the region (white), drawn at 8×8 and resampled.
    const pixels = new Uint8Array(64);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) pixels[y * 8 + x] = 255;
    const mask = join(out, 'region.png');
    writeFileSync(mask, encodePng({ width: 8, height: 8, channels: 1, pixels }));
    const json = join(out, 'local.json');
    let result = painter('analyze', 'manifold', '--model', join(FIXTURES, 'fixture-eps-int64'), '--steps', '10', '--k', '3', '--budget', '64', '--generator-k', '0', '--grid-directions', '2', '--amplitudes', '-1,0,1', '--mask', mask, '--null-space-rank', '2', '--json', json, '--png', join(out, 'local.png'));
    expect(result.code, result.stderr).toBe(0);
    // The region's 4 pixels fit the budget: the directions live there, J applied to each (8 passes), exact.
    expect(result.stdout).toMatch(/local directions: 3 on the region's 4 values, exact there, in 8 of at most 1600 forward passes/);
    expect(result.stdout).toMatch(/null space R = 2 \(.*given\)/);
    const free = painter('analyze', 'manifold', '--model', join(FIXTURES, 'fixture-eps-int64'), '--steps', '10', '--k', '3', '--budget', '64', '--generator-k', '0', '--grid-directions', '0', '--mask', mask, '--support', 'free', '--json', join(out, 'free.json'));
    expect(free.code, free.stderr).toBe(0);
    expect(free.stdout).toMatch(/local directions: \d of 3 converged in \d+ of at most 1600 forward passes .*threshold 98 %/);
    const badSupport = painter('analyze', 'manifold', '--model', join(FIXTURES, 'fixture-eps-int64'), '--steps', '10', '--mask', mask, '--support', 'everywhere', '--json', join(out, 'bad.json'));
    expect(badSupport.code).toBe(2);
    expect(badSupport.stderr).toMatch(/--support must be auto, free or region; got "everywhere"/);
    const written = JSON.parse(readFileSync(json, 'utf-8')) as {
      result: { local: { mask: number[]; support: string; supportSize: number; nullSpaceRank: number; rankChosenBy: string; insideShare: number[]; convergenceDeg: number[]; forwardPasses: number; directions: number[] } };
    };
    expect(written.result.local.mask).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(written.result.local).toMatchObject({ support: 'region', supportSize: 4, nullSpaceRank: 2, rankChosenBy: 'user', convergenceDeg: [0, 0, 0] });
    expect(written.result.local.forwardPasses).toBeLessThanOrEqual(1600);
    expect(written.result.local.directions).toHaveLength(3 * 16);
    expect(readFileSync(join(out, 'local.png')).subarray(1, 4).toString()).toBe('PNG');

    const locality = join(out, 'locality.json');
    result = painter('analyze', 'locality', '--model', join(FIXTURES, 'gauss16'), '--steps', '10', '--seeds', '3', '--inject-steps', '3,6', '--budget', '64', '--json', locality, '--png', join(out, 'locality.png'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/step 3 .* top: final change inside — local/);
    expect(result.stdout).toMatch(/transfer step 6 /);
    const measured = JSON.parse(readFileSync(locality, 'utf-8')) as {
      result: { settings: { support: string; halo: number }; cells: Array<{ local: { n: number } }>; transfer: Array<{ others: { seeds: number[] } }>; cases: Array<{ support: string; energyThreshold: number }> };
    };
    expect(measured.result.settings).toMatchObject({ support: 'auto', halo: 0 });
    expect(measured.result.cases.every((c) => c.support === 'region' && c.energyThreshold === 0.995)).toBe(true);
    expect(measured.result.cells).toHaveLength(2 * 3);
    expect(measured.result.cases).toHaveLength(3 * 2 * 3);
    expect(measured.result.transfer[0]!.others.seeds).toEqual([1, 2]);
  });

  it('report --quick writes a self-contained HTML page with every claim and figure', () => {
    const dir = join(out, 'report');
    const result = painter('report', '--model', join(FIXTURES, 'fixture-eps-int64'), '--delta', join(FIXTURES, 'gauss16-delta'), '--gmm', join(FIXTURES, 'gauss16-gmm'), '--quick', '--out', dir);
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf-8');
    expect(html).toMatch(/<h2>Claims<\/h2>/);
    for (const claim of ['Trajectories are low-dimensional', 'Gaussian theory describes the early phase', 'High-variance features emerge first', 'Early perturbations', 'Teleportation', 'delta mixture retrieves', 'Local variations stay in their region']) expect(html).toContain(claim);
    expect(html).toContain('<h2>8 · Local variations</h2>');
    expect(html).toMatch(/converged<\/b> in \d+ forward passes/);
    expect(html).toMatch(/<svg /);
    expect(html).toMatch(/src="data:image\/png;base64,/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(existsSync(join(dir, 'report.json'))).toBe(true);
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['an unknown analysis', ['analyze', 'vibes', '--model', 'fashion-mnist-gaussian'], /needs an analysis: trajectory, agreement/],
    ['a flag of another analysis', ['analyze', 'trajectory', '--model', 'fashion-mnist-gaussian', '--budget', '3', '--json', 'x.json'], /Unknown flag --budget/],
    ['a bad direction', ['analyze', 'perturbation', '--model', 'fashion-mnist-gaussian', '--direction', 'sideways', '--json', 'x.json'], /--direction must be random, data-pc:K/],
    ['a retrieval without a training set', ['analyze', 'retrieval', '--model', join(FIXTURES, 'gauss16'), '--json', 'x.json'], /No training set/],
    ['a mask that is not a PNG', ['analyze', 'manifold', '--model', join(FIXTURES, 'gauss16'), '--mask', join(FIXTURES, 'gauss16', 'manifest.json'), '--json', 'x.json'], /is not a PNG file/],
  ];
  for (const [what, args, message] of failures) {
    it(`refuses ${what} with one line on stderr`, () => {
      const result = painter(...args);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    });
  }
});

describe('painter analyze gan-analogy / report with a GAN', () => {
  it('analyze gan-analogy puts the GAN, the network\'s generator map and the Gaussian\'s exact map side by side', () => {
    const json = join(out, 'gan-analogy.json');
    const png = join(out, 'gan-analogy.png');
    const result = painter('analyze', 'gan-analogy', '--gan', join(FIXTURES, 'fixture-gan-linear'), '--model', join(FIXTURES, 'fixture-eps-int64'), '--steps', '10', '--k', '4', '--blocks', '2', '--compare', '2', '--json', json, '--png', png);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/GAN generator z → x: s_4\/s_1 = .*effective rank/);
    expect(result.stdout).toMatch(/Gaussian model, exact map/);
    const written = JSON.parse(readFileSync(json, 'utf-8')) as { gan: string; model: string; result: { maps: Array<{ name: string; normalized: number[] }>; settings: { k: number; ganClass: number } } };
    expect(written.gan).toBe('fixture-gan-linear');
    expect(written.result.maps.map((m) => m.name)).toEqual(['gan', 'diffusion', 'gaussian']);
    expect(written.result.maps[0]!.normalized).toHaveLength(4);
    expect(written.result.settings.ganClass).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses a GAN whose images are not the model\'s size, and a denoiser given as the GAN', () => {
    let result = painter('analyze', 'gan-analogy', '--gan', join(FIXTURES, 'fixture-eps-int64'), '--model', join(FIXTURES, 'fixture-eps-int64'), '--json', join(out, 'x.json'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/is a onnx model, not a GAN generator/);
    result = painter('analyze', 'gan-analogy', '--gan', join(FIXTURES, 'fixture-gan-linear'), '--model', join(ROOT, 'native-models', 'emoji32'), '--json', join(out, 'x.json'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/all three must match|D = /);
  });

  it('report --quick --gan adds the GAN analogy section and its claim', () => {
    const dir = join(out, 'report-gan');
    const result = painter('report', '--model', join(FIXTURES, 'fixture-eps-int64'), '--gan', join(FIXTURES, 'fixture-gan-linear'), '--only', 'trajectory,gan-analogy', '--quick', '--out', dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/behaves like a GAN generator/);
    const html = readFileSync(join(dir, 'report.html'), 'utf-8');
    expect(html).toContain('8 · The GAN analogy');
    expect(html).toContain('Normalised singular values');
  });
});
