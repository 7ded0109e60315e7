/**
 * The pipeline's VAE: decode (latent / scaling_factor → image in [−1, 1])
 * and encode (image → latent · scaling_factor), as diffusers' ONNX pipelines
 * call vae_decoder and vae_encoder. Batches run one image at a time: VAE
 * graphs are large and their exports often have a batch of 1.
 */
import { PainterError } from '../errors';
import { quoteText } from '../files';
import type { ImageSpec } from '../manifest';
import type { OnnxPart } from './onnx-part';

const FLOATS = ['float32', 'float16'] as const;

export class Vae {
  /**
   * The encoder's output: `latent_sample` (diffusers' conversion script, older
   * Optimum), or `latent_parameters` (newer Optimum: the posterior's mean and
   * log-variance stacked on channels, of which the mean is used).
   */
  private readonly encoderOutput: 'latent_sample' | 'latent_parameters' = 'latent_sample';

  constructor(
    readonly decoder: OnnxPart,
    readonly encoder: OnnxPart | null,
    readonly scalingFactor: number,
    /** Pixels per latent cell. */
    readonly scale: number,
  ) {
    decoder.expect('input', 'latent_sample', FLOATS, [4], 'latents [batch, channels, height, width]');
    decoder.expect('output', 'sample', FLOATS, [4], 'the decoded image [batch, 3, height, width]');
    if (encoder !== null) {
      encoder.expect('input', 'sample', FLOATS, [4], 'an image [batch, 3, height, width]');
      if (encoder.outputs().some((entry) => entry.name === 'latent_parameters')) this.encoderOutput = 'latent_parameters';
      else encoder.expect('output', 'latent_sample', FLOATS, [4], 'latents [batch, channels, height, width] (or "latent_parameters")');
    }
  }

  /** The decoded image's spec for a latent grid. */
  imageOf(latent: ImageSpec): ImageSpec {
    return { channels: 3, height: latent.height * this.scale, width: latent.width * this.scale, range: [-1, 1] };
  }

  /** Decodes `count` scaled latents ([count·C·h·w]) to images in [−1, 1] ([count·3·H·W]). */
  async decode(latents: Float32Array, latent: ImageSpec): Promise<Float32Array> {
    const dim = latent.channels * latent.height * latent.width;
    const count = latents.length / dim;
    const image = this.imageOf(latent);
    const imageDim = image.channels * image.height * image.width;
    const out = new Float32Array(count * imageDim);
    for (let b = 0; b < count; b++) {
      const input = new Float32Array(dim);
      for (let i = 0; i < dim; i++) input[i] = latents[b * dim + i]! / this.scalingFactor;
      const { data } = await this.decoder.run({ latent_sample: { values: input, dims: [1, latent.channels, latent.height, latent.width] } }, 'sample');
      if (data.length !== imageDim) {
        throw new PainterError('BAD_MODEL', `${quoteText(this.decoder.path)} decoded a ${latent.height}×${latent.width} latent to ${data.length} values; expected 3×${image.height}×${image.width}.`, {
          path: this.decoder.path,
        });
      }
      out.set(data, b * imageDim);
    }
    return out;
  }

  /** Encodes images in [−1, 1] ([count·3·H·W]) to scaled latents. */
  async encode(images: Float32Array, image: ImageSpec, channels: number): Promise<Float32Array> {
    if (this.encoder === null) throw new PainterError('BAD_ARGUMENT', 'This pipeline has no vae_encoder/model.onnx, so it cannot encode images.');
    const imageDim = 3 * image.height * image.width;
    const count = images.length / imageDim;
    const latentDim = channels * (image.height / this.scale) * (image.width / this.scale);
    const out = new Float32Array(count * latentDim);
    for (let b = 0; b < count; b++) {
      const { data } = await this.encoder.run({ sample: { values: images.subarray(b * imageDim, (b + 1) * imageDim), dims: [1, 3, image.height, image.width] } }, this.encoderOutput);
      // latent_parameters: [mean; log-variance] on channels; the mean comes first.
      const expected = this.encoderOutput === 'latent_parameters' ? 2 * latentDim : latentDim;
      if (data.length !== expected) {
        throw new PainterError('BAD_MODEL', `${quoteText(this.encoder.path)} encoded an image to ${data.length} values; expected ${expected}.`, { path: this.encoder.path });
      }
      for (let i = 0; i < latentDim; i++) out[b * latentDim + i] = data[i]! * this.scalingFactor;
    }
    return out;
  }
}
