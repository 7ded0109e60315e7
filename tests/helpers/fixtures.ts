import { join } from 'node:path';
import { AnalyticDenoiser } from '../../electron/engine/denoisers/analytic';
import { OnnxDenoiser } from '../../electron/engine/denoisers/onnx';
import { readManifest } from '../../electron/engine/models';
import type { AnalyticManifest, OnnxManifest } from '../../electron/engine/manifest';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export function fixtureFolder(name: string): string {
  return join(FIXTURES, name);
}

export function loadAnalytic(name: string): AnalyticDenoiser {
  const folder = fixtureFolder(name);
  return AnalyticDenoiser.load(readManifest(folder).manifest as AnalyticManifest, folder);
}

export async function loadOnnx(name: string): Promise<OnnxDenoiser> {
  const folder = fixtureFolder(name);
  const manifest = readManifest(folder).manifest as OnnxManifest;
  return OnnxDenoiser.load(manifest, join(folder, manifest.onnx.file));
}

/** ‖a − b‖ / ‖b‖ */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
