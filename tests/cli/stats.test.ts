/**
 * `painter stats` on the diffusers fixture: statistics saved in Painter's data
 * folder (PAINTER_HOME), never in the model folder, from samples or images,
 * and read back by the theory lab (`painter analyze … --prompt`).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../electron/engine/png';
import { readSafetensors, readSafetensorsMetadata } from '../../electron/engine/safetensors';
import { painterCli } from '../helpers/painter-cli';

const ROOT = join(__dirname, '..', '..');
const MODEL = join(ROOT, 'tests', 'fixtures', 'diffusers', 'tiny-sd');
const home = mkdtempSync(join(tmpdir(), 'painter-stats-cli-'));
const painter = painterCli({ home, extraArgs: ['--provider', 'cpu'] });

describe('painter stats', () => {
  const statsFile = join(home, 'diffusers', 'tiny-sd', 'stats.safetensors');
  const modelFiles = readdirSync(MODEL, { recursive: true }).sort();

  it('from generated samples', () => {
    const result = painter('stats', '--model', MODEL, '--from-samples', '6', '--steps', '3', '--prompt', 'a watercolor fox', '--rank', '4');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Wrote ${statsFile}`);
    expect(result.stdout).toMatch(/6 latents of 4×8×8 \(D = 256\) from samples: 6 × 3 euler steps, seeds 0…5, prompt "a watercolor fox"/);
    const file = readSafetensors(statsFile);
    expect(file.tensors.get('mean')!.shape).toEqual([256]);
    // 6 samples in D = 256: at most (6 − 1)/2 = 2 directions, the rest is the residual variance
    expect(file.tensors.get('eigvecs')!.shape).toEqual([256, 2]);
    expect(file.tensors.get('eigvals')!.shape).toEqual([2]);
    expect(file.tensors.get('residual_variance')!.data[0]).toBeGreaterThan(0);
    expect(file.tensors.get('residual_variance')!.shape).toEqual([1]);
    expect(readSafetensorsMetadata(statsFile)).toMatchObject({ generator: 'painter stats', folder: MODEL, count: '6', image: '4x8x8' });
    expect(readdirSync(MODEL, { recursive: true }).sort()).toEqual(modelFiles);
  });

  it('from a folder of PNG images', () => {
    const images = join(home, 'images');
    mkdirSync(images);
    for (let k = 0; k < 3; k++) {
      const pixels = new Uint8Array(80 * 100 * 3).map((_, i) => (i * (k + 3)) % 251);
      writeFileSync(join(images, `${k}.png`), encodePng({ width: 100, height: 80, channels: 3, pixels }));
    }
    const result = painter('stats', '--model', MODEL, '--images', images);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`3 latents of 4×8×8 (D = 256) from images: ${images}`);
    expect(readSafetensors(statsFile).tensors.get('eigvals')!.shape).toEqual([1]);
    expect(existsSync(join(MODEL, 'stats.safetensors'))).toBe(false);
  });

  it('the theory lab finds them (analyze with a prompt on the same folder)', () => {
    const json = join(home, 'emergence.json');
    const result = painter('analyze', 'emergence', '--model', MODEL, '--prompt', 'a watercolor fox', '--seeds', '2', '--steps', '8', '--json', json);
    expect(result.code, result.stderr).toBe(0);
    const written = JSON.parse(readFileSync(json, 'utf8')) as { sources: Record<string, string> };
    expect(written.sources['gaussian']).toBe(statsFile);
    const unprompted = painter('analyze', 'emergence', '--model', 'fashion-mnist-gaussian', '--prompt', 'x', '--json', json, '--force');
    expect(unprompted.code).toBe(2);
    expect(unprompted.stderr).toMatch(/takes no prompt/);
  });

  it('refuses a model that is not a diffusers pipeline, and a missing source', () => {
    const other = painter('stats', '--model', 'fashion-mnist-gaussian', '--from-samples', '4');
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/is a gaussian model; stats computes the statistics of diffusers pipelines/);
    const neither = painter('stats', '--model', MODEL);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/exactly one of --images DIR .* or --from-samples N/);
  });
});
