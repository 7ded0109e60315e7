/** `--provider` on the CLI verbs that run a model, with the real onnxruntime-node of this machine. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../electron/engine/runs';
import { providerOptionsHere } from '../../electron/engine/denoisers/onnx';
import { buildCliBeforeAll, runPainter, type CliResult } from '../helpers/painter-cli';

const home = mkdtempSync(join(tmpdir(), 'painter-cli-provider-'));
const out = mkdtempSync(join(tmpdir(), 'painter-cli-provider-out-'));

/** The CLI with PAINTER_PROVIDER unset (and `extra` laid over the environment). */
function painterWith(extra: Record<string, string>, ...args: string[]): CliResult {
  return runPainter({ home }, args, { PAINTER_PROVIDER: undefined, ...extra });
}

function painter(...args: string[]): CliResult {
  return painterWith({}, ...args);
}

/** Our own lines on stderr (native libraries such as Dawn may print their own warnings there too). */
const noticeLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line.startsWith('painter: '));

buildCliBeforeAll();

describe('painter --provider', () => {
  it('--provider cpu samples on CPU, prints no notice, and records "cpu" in the run and the JSON line', () => {
    const run = join(out, 'cpu.safetensors');
    const result = painter('sample', '--model', 'fashion-mnist', '--class', '1', '--steps', '3', '--provider', 'cpu', '--out', run, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(noticeLines(result.stderr)).toEqual([]);
    expect(JSON.parse(result.stdout)).toMatchObject({ provider: 'cpu' });
    expect(readRun(run).summary.provider).toBe('cpu');
  });

  it.runIf(providerOptionsHere().find((option) => option.name === 'webgpu')!.available)(
    'auto (the default): WebGPU with no adapter prints exactly one notice line, then runs on CPU',
    () => {
      const run = join(out, 'auto.safetensors');
      const result = painter('sample', '--model', 'fashion-mnist', '--class', '1', '--steps', '3', '--out', run, '--json');
      expect(result.code, result.stderr).toBe(0);
      const provider = (JSON.parse(result.stdout) as { provider: string }).provider;
      if (provider === 'webgpu') {
        expect(noticeLines(result.stderr)).toEqual([]);
      } else {
        expect(provider).toBe('cpu');
        const lines = noticeLines(result.stderr);
        expect(lines).toHaveLength(1);
        // Here: "…: No supported adapters"; Dawn may word the reason otherwise on other GPU-less machines.
        expect(lines[0]).toMatch(/^painter: notice: WebGPU could not start for model "fashion-mnist" \(Failed to get a WebGPU adapter: [^()]+\); running on CPU\.$/);
      }
      expect(readRun(run).summary.provider).toBe(provider);
    },
  );

  it('the flag works on analyze and report verbs too (before or after other flags, and as --provider=…)', () => {
    const json = join(out, 'trajectory.json');
    const result = painter('analyze', 'trajectory', '--provider=cpu', '--model', 'fashion-mnist', '--seeds', '2', '--steps', '4', '--json', json);
    expect(result.code, result.stderr).toBe(0);
    expect(noticeLines(result.stderr)).toEqual([]);
    expect(JSON.parse(readFileSync(json, 'utf-8'))).toMatchObject({ model: 'fashion-mnist', provider: 'cpu' });
  });

  it('PAINTER_PROVIDER sets the default; an unknown provider is one line and exit code 2', () => {
    const run = join(out, 'env.safetensors');
    const fromEnvironment = painterWith({ PAINTER_PROVIDER: 'cpu' }, 'sample', '--model', 'fashion-mnist', '--class', '2', '--steps', '2', '--out', run, '--json');
    expect(fromEnvironment.code, fromEnvironment.stderr).toBe(0);
    expect(noticeLines(fromEnvironment.stderr)).toEqual([]);
    expect(readRun(run).summary.provider).toBe('cpu');
    const bad = painter('sample', '--model', 'fashion-mnist', '--provider', 'tpu', '--out', join(out, 'x.safetensors'));
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['painter: --provider must be one of auto, webgpu, cuda, dml, coreml, cpu; got "tpu".']);
    const missing = painter('models', '--provider');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--provider needs a value/);
  });
});
