import { describe, expect, it } from 'vitest';
import { calibrateLocalPatches } from '../../../electron/engine/analysis/local-calibration';
import { AnalyticDenoiser } from '../../../electron/engine/denoisers/analytic';
import { DeltaMixtureModel } from '../../../electron/engine/denoisers/mixture';
import { loadAnalytic } from '../../helpers/fixtures';

const fixture = loadAnalytic('gauss16-delta');
const all = fixture.delta!;

describe('patch-size calibration of the local model', () => {
  it('against a "network" that is the delta mixture of its 8 training images, it picks the whole image at every σ, with r² = 1', async () => {
    const eight = new DeltaMixtureModel(all.images.subarray(0, 8 * 16), 16, all.labels!.subarray(0, 8));
    const network = new AnalyticDenoiser(fixture.manifest, { kind: 'delta', model: eight });
    const progress: number[] = [];
    const result = await calibrateLocalPatches(network, 'delta-of-8', all, 'fixture-delta', { trainingImages: 8, probes: 4, sigmas: [0.1, 1, 5], candidates: [1, 3, 7] }, {
      onProgress: (done) => progress.push(done),
    });
    expect(result.sigmas).toEqual([0.1, 1, 5]);
    expect(result.patchSizes).toEqual([7, 7, 7]);
    result.bestR2.forEach((r2) => expect(1 - r2).toBeLessThan(1e-6));
    // Smaller patches do worse than the whole image somewhere (they mix pixels of different images).
    expect(Math.min(...result.medianR2.map((row) => row[0]!))).toBeLessThan(0.999);
    expect(result).toMatchObject({ network: 'delta-of-8', trainingImages: 8, probes: 4, shiftWindow: 0, candidates: [1, 3, 7] });
    expect(progress.at(-1)).toBe(12);
  });

  it('refuses training + probes beyond the set, naming the counts', async () => {
    await expect(calibrateLocalPatches(fixture, 'x', all, 'fixture-delta', { trainingImages: 10, probes: 4 })).rejects.toThrow(/from one set of 12: got 10 training \+ 4 probes/);
  });
});
