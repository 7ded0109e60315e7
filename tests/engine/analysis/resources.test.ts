import { afterAll, describe, expect, it } from 'vitest';
import { dataProbes, findAnalytic, findGaussian, findJudge, probeImages, resolveModel } from '../../../electron/engine/analysis/resources';
import { ModelRegistry } from '../../../electron/engine/models';
import { FIXTURES, fixtureFolder } from '../../helpers/fixtures';

const registry = new ModelRegistry({ bundledFolder: FIXTURES });
afterAll(() => registry.dispose());

describe('finding what an analysis compares a model with', () => {
  it('an ONNX network: the Gaussian its manifest names, the mixture and training set of its image size, no judge', async () => {
    const { model, denoiser } = await resolveModel(registry, 'fixture-eps-int64');
    const gaussian = await findGaussian(registry, model, denoiser);
    expect(gaussian.source).toMatch(/gauss16[/\\]stats\.safetensors$/);
    expect(gaussian.gaussian.rank).toBe(16);
    expect((await findAnalytic(registry, model, 'gmm'))?.id).toBe('fixture-gmm');
    expect((await findAnalytic(registry, model, 'delta'))?.id).toBe('fixture-delta');
    expect(await findAnalytic(registry, model, 'delta', 'none')).toBeNull();
    expect(await findJudge(registry, model, denoiser)).toBeNull();
  });

  it('a mixture model falls back to the Gaussian model of its image size; a folder works as a model', async () => {
    const { model, denoiser } = await resolveModel(registry, fixtureFolder('gauss16-gmm'));
    expect(model.manifest.id).toBe('fixture-gmm');
    expect((await findGaussian(registry, model, denoiser)).source).toBe('fixture-gaussian');
    await expect(findGaussian(registry, model, denoiser, 'fixture-delta')).rejects.toThrow(/not a Gaussian model/);
    await expect(findAnalytic(registry, model, 'delta', 'fixture-gaussian')).rejects.toThrow(/is a gaussian model, not a delta model/);
  });

  it('probe data: training images of a class, or the model\'s own samples without a training set', async () => {
    const delta = (await findAnalytic(registry, (await resolveModel(registry, 'fixture-gaussian')).model, 'delta'))!;
    const images = probeImages(delta.denoiser, 10, 1);
    expect(images.length).toBe(4 * 16); // only 4 training images have class 1
    const training = delta.denoiser.delta!;
    for (let n = 0; n < 4; n++) {
      const row = Array.from(images.subarray(n * 16, (n + 1) * 16));
      const index = [4, 5, 6, 7].find((i) => Array.from(training.images.subarray(i * 16, (i + 1) * 16)).every((v, k) => v === row[k]));
      expect(index).toBeDefined();
    }
    const { denoiser } = await resolveModel(registry, 'fixture-gaussian');
    const own = await dataProbes(denoiser, null, 3, { steps: 8 }, {});
    expect(own.images.length).toBe(3 * 16);
    expect(own.source).toMatch(/samples of the model itself/);
  });
});
