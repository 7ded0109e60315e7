/**
 * `painter` on diffusers folders (issue 10): `models add/remove`, `--model
 * PATH` and `sample --prompt`, on the fixture script's tiny SD pipeline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../../electron/engine/png';
import { readRun } from '../../electron/engine/runs';
import { painterCli } from '../helpers/painter-cli';

const ROOT = join(__dirname, '..', '..');
const FOLDER = join(ROOT, 'tests', 'fixtures', 'diffusers', 'tiny-sd');
const home = mkdtempSync(join(tmpdir(), 'painter-dcli-'));
const painter = painterCli({ home, extraArgs: ['--provider', 'cpu'], timeoutMs: 120_000 });
const out = mkdtempSync(join(tmpdir(), 'painter-dcli-out-'));

/** Every file of a folder with its size and modification time: what "never write in the user's folder" keeps. */
function snapshot(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: false })
    .map(String)
    .sort()
    .map((name) => {
      const stats = statSync(join(folder, name));
      return `${name} ${stats.size} ${stats.mtimeMs}`;
    });
}

describe('painter on a diffusers folder', () => {
  it('samples with --model PATH --prompt, writes the run (latents and prompt settings) and a PNG strip of decodes', () => {
    const before = snapshot(FOLDER);
    const run = join(out, 'fox.safetensors');
    const png = join(out, 'fox.png');
    const result = painter('sample', '--model', FOLDER, '--prompt', 'a watercolor fox', '--negative-prompt', '', '--guidance', '7.5', '--steps', '6', '--seed', '1', '--width', '64', '--height', '48', '--out', run, '--png', png, '--json');
    expect(result.code, result.stderr).toBe(0);
    const line = JSON.parse(result.stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ model: 'tiny-sd', prompt: 'a watercolor fox', steps: 6, evaluations: 6, out: run, png });
    const record = readRun(run);
    // Latents: 4 channels on the 64×48-pixel image's 8×6 grid; 7 states of x_t and of x̂0.
    expect(record.image).toMatchObject({ channels: 4, height: 6, width: 8 });
    expect(record.xt).toHaveLength(7 * 4 * 6 * 8);
    expect(record.summary.settings).toMatchObject({ prompt: 'a watercolor fox', negativePrompt: '', guidance: 7.5, width: 64, height: 48 });
    const strip = decodePng(readFileSync(png));
    // Two rows (x̂0, x_t) of the 7 states decoded at 64×48, 2-pixel gaps.
    expect(strip.width).toBe(7 * 64 + 8 * 2);
    expect(strip.height).toBe(2 * 48 + 3 * 2);
    expect(snapshot(FOLDER)).toEqual(before);
  });

  it('refuses a size that is not a multiple of the model\'s, and a missing prompt, naming what is expected', () => {
    const run = join(out, 'bad.safetensors');
    const odd = painter('sample', '--model', FOLDER, '--prompt', 'x', '--width', '60', '--out', run);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/width must be a multiple of 16/);
    const none = painter('sample', '--model', FOLDER, '--out', run);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs a prompt/);
    expect(existsSync(run)).toBe(false);
  });

  it('inspect says what a diffusers folder is', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'painter.cjs'), 'inspect', FOLDER], { env: { ...process.env, PAINTER_HOME: home }, encoding: 'utf-8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^model tiny-sd \(diffusers, latent 4×8×8 → 64×64 images, takes a prompt\): tiny-sd, StableDiffusionPipeline/m);
  });

  it('models add keeps the folder across launches; models remove forgets it and leaves its files', () => {
    const before = snapshot(FOLDER);
    const added = painter('models', 'add', FOLDER);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^Added tiny-sd \(diffusers, 64×64, takes a prompt\)/);
    const listed = JSON.parse(painter('models', '--json').stdout) as Array<{ id: string; kind: string; prompt?: { maxTokens: number }; decoded?: { scale: number } }>;
    expect(listed.find((m) => m.id === 'tiny-sd')).toMatchObject({ kind: 'diffusers', prompt: { maxTokens: 77 }, decoded: { scale: 8 } });
    // By id now, in a new process.
    const run = join(out, 'by-id.safetensors');
    expect(painter('sample', '--model', 'tiny-sd', '--prompt', '', '--steps', '2', '--out', run).code).toBe(0);

    const removed = painter('models', 'remove', 'tiny-sd');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/Removed tiny-sd/);
    const after = JSON.parse(painter('models', '--json').stdout) as Array<{ id: string }>;
    expect(after.map((m) => m.id)).not.toContain('tiny-sd');
    expect(JSON.parse(readFileSync(join(home, 'models.json'), 'utf8'))).toEqual([]);
    expect(snapshot(FOLDER)).toEqual(before);
    const again = painter('models', 'remove', 'tiny-sd');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/No model "tiny-sd"/);
    const bundled = painter('models', 'remove', 'fashion-mnist-gaussian');
    expect(bundled.stderr).toMatch(/bundled with Painter and cannot be removed/);
  });
});
