import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxDenoiser } from '../../electron/engine/denoisers/onnx';
import { readManifest } from '../../electron/engine/models';
import type { OnnxManifest } from '../../electron/engine/manifest';
import { validateManifest } from '../../electron/engine/manifest-validate';
import { fixtureFolder } from '../helpers/fixtures';

const base = JSON.parse(readFileSync(join(fixtureFolder('fixture-eps-int64'), 'manifest.json'), 'utf-8')) as OnnxManifest;
const clone = (): OnnxManifest => JSON.parse(JSON.stringify(base)) as OnnxManifest;

/** Loads a manifest variant against the real fixture network. */
async function loadVariant(manifest: OnnxManifest, modelFolder = 'fixture-eps-int64'): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'painter-manifest-'));
  copyFileSync(join(fixtureFolder(modelFolder), 'model.onnx'), join(folder, 'model.onnx'));
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
  const { manifest: parsed } = readManifest(folder);
  const denoiser = await OnnxDenoiser.load(parsed as OnnxManifest, join(folder, 'model.onnx'));
  await denoiser.dispose();
}

describe('manifest validation', () => {
  it('accepts every fixture manifest', async () => {
    await expect(loadVariant(clone())).resolves.toBeUndefined();
  });

  it('refuses a tensor the graph does not have, naming it and the graph inputs', async () => {
    const manifest = clone();
    manifest.onnx.timestep.name = 'timestep';
    await expect(loadVariant(manifest)).rejects.toThrow(/timestep tensor "timestep" is not in the graph; the graph has "x", "t"/);
  });

  it('refuses a wrong image shape, naming the tensor and the expected shape', async () => {
    const manifest = clone();
    manifest.image.height = 8;
    await expect(loadVariant(manifest)).rejects.toThrow(/sample tensor "x" has shape \[batch, 1, 4, 4\]; the manifest's image needs \[batch, 1, 8, 4\]/);
  });

  it('refuses an unknown prediction type, listing the valid ones', () => {
    const manifest = clone() as unknown as Record<string, unknown>;
    manifest['prediction'] = 'score';
    expect(() => validateManifest(manifest, 'm.json')).toThrow(/"prediction" is "score"; expected one of epsilon, x0, v/);
  });

  it('refuses a dtype mismatch, naming the tensor and both dtypes', async () => {
    const manifest = clone();
    manifest.onnx.timestep.dtype = 'float32';
    await expect(loadVariant(manifest)).rejects.toThrow(/timestep tensor "t" is int64 in the graph but the manifest says float32/);
  });

  it('refuses a fixed-batch graph described as dynamic, and an undescribed graph input', async () => {
    const fixed = JSON.parse(readFileSync(join(fixtureFolder('fixture-eps-fixedbatch'), 'manifest.json'), 'utf-8')) as OnnxManifest;
    delete fixed.onnx.fixedBatch;
    await expect(loadVariant(fixed, 'fixture-eps-fixedbatch')).rejects.toThrow(/fixed batch of 2; set "fixedBatch": 2/);
    const classModel = JSON.parse(readFileSync(join(fixtureFolder('fixture-eps-class'), 'manifest.json'), 'utf-8')) as OnnxManifest;
    delete classModel.onnx.classLabel;
    await expect(loadVariant(classModel, 'fixture-eps-class')).rejects.toThrow(/graph input "y" not described by the manifest/);
  });

  it('refuses a scalar/batch timestep mismatch and missing fields', async () => {
    const manifest = clone();
    manifest.onnx.timestep.shape = 'scalar';
    await expect(loadVariant(manifest)).rejects.toThrow(/shape \[batch\] but the manifest says scalar/);
    const missing = clone() as unknown as Record<string, unknown>;
    delete missing['schedule'];
    expect(() => validateManifest(missing, 'm.json')).toThrow(/"schedule" must be an object/);
  });

  it('refuses a folder without a manifest, and a model file that is not ONNX', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'painter-empty-'));
    expect(() => readManifest(empty)).toThrow(/has no manifest.json/);
    const folder = mkdtempSync(join(tmpdir(), 'painter-garbage-'));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'model.onnx'), 'not a protobuf');
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify(clone()));
    const { manifest } = readManifest(folder);
    await expect(OnnxDenoiser.load(manifest as OnnxManifest, join(folder, 'model.onnx'))).rejects.toThrow(/ONNX Runtime cannot load/);
  });
});
