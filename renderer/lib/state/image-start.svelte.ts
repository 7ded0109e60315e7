/**
 * An image dropped on the studio, made ready to start a run from (SDEdit,
 * electron/engine/image-start.ts): scaled and cropped to the selected model's
 * image, converted to its channels and data range, optionally inverted (a
 * dark garment on white becomes Fashion-MNIST's light on black). A latent
 * pipeline takes the image at the decoded size of the next run (RGB, the
 * decoded range); the engine encodes it with the pipeline's VAE.
 */
import type { ModelInfo } from '../../../electron/api/contract';
import type { ImageSpec } from '../../../electron/engine/manifest';
import { ApiError } from '../api';
import { visibleRegion } from '../tensor-image';
import { models } from './models.svelte';
import { nextRun } from './next-run.svelte';
import { notices } from './notices.svelte';
import { ui } from './ui.svelte';

/** The image a run of `model` starts from: a latent pipeline's decoded image at the next run's size, else the model's own. */
export function startImage(model: ModelInfo): ImageSpec {
  if (model.decoded === undefined) return model.image;
  const size = nextRun.sizeOf(model);
  const range = model.decoded.image.range;
  return { channels: 3, width: size.width ?? model.decoded.image.width, height: size.height ?? model.decoded.image.height, range: [range[0], range[1]] };
}

class ImageStart {
  file = $state.raw<File | null>(null);
  bitmap = $state.raw<ImageBitmap | null>(null);
  invert = $state(false);
  /** Fraction of the steps left to the model (1: from pure noise, nothing of the image kept). */
  freedom = $state(0.6);

  async offer(file: File): Promise<void> {
    try {
      this.bitmap = await createImageBitmap(file);
    } catch {
      notices.report(new ApiError('BAD_FILE', `${file.name} could not be read as an image (PNG, JPEG, WebP, GIF or BMP).`));
      return;
    }
    this.file = file;
    // A light picture on a greyscale model trained on light-on-black data is most often meant inverted.
    this.invert = models.selected?.image.channels === 1 && averageBrightness(this.bitmap) > 0.55;
    ui.open('drop-image');
  }

  /** The image as the model's data: C·H·W values, NCHW, in its range; outside the crop, the range's low end. */
  toModel(model: ModelInfo): Float32Array | null {
    const bitmap = this.bitmap;
    if (bitmap === null) return null;
    const seen = startImage(model);
    const { channels, height, width, range } = seen;
    const region = visibleRegion(seen);
    const canvas = new OffscreenCanvas(region.width, region.height);
    const context = canvas.getContext('2d');
    if (context === null) return null;
    // Cover the region, centred (the picture's middle is kept).
    const scale = Math.max(region.width / bitmap.width, region.height / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    context.fillStyle = this.invert ? '#fff' : '#000';
    context.fillRect(0, 0, region.width, region.height);
    context.drawImage(bitmap, (region.width - w) / 2, (region.height - h) / 2, w, h);
    const pixels = context.getImageData(0, 0, region.width, region.height).data;
    const [low, high] = range;
    const values = new Float32Array(channels * height * width).fill(low);
    for (let y = 0; y < region.height; y++) {
      for (let x = 0; x < region.width; x++) {
        const p = (y * region.width + x) * 4;
        const rgb = [pixels[p]!, pixels[p + 1]!, pixels[p + 2]!].map((v) => (this.invert ? 255 - v : v) / 255);
        for (let c = 0; c < channels; c++) {
          const unit = channels === 3 ? rgb[c]! : 0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
          values[(c * height + region.top + y) * width + region.left + x] = low + unit * (high - low);
        }
      }
    }
    return values;
  }

  clear(): void {
    this.bitmap?.close();
    this.bitmap = null;
    this.file = null;
  }
}

function averageBrightness(bitmap: ImageBitmap): number {
  const canvas = new OffscreenCanvas(16, 16);
  const context = canvas.getContext('2d');
  if (context === null) return 0;
  context.drawImage(bitmap, 0, 0, 16, 16);
  const data = context.getImageData(0, 0, 16, 16).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
  return sum / (256 * 255);
}

export const imageStart = new ImageStart();
