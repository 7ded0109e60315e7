/**
 * Diffusers folders that must be refused (issue 10): a missing part, a graph
 * with the wrong signature, an unreadable tokenizer, external data outside
 * the part's folder. Each refusal names the file and what was expected.
 * Copies of the fixture's tiny-sd in a temporary folder, changed one way each.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { externalDataLocations, readDiffusersFolder, slugOf } from '../../electron/engine/diffusers/folder';
import { DiffusersPipeline } from '../../electron/engine/diffusers/pipeline';
import { ModelRegistry } from '../../electron/engine/models';
import { PainterError } from '../../electron/engine/errors';

const FIXTURES = join(__dirname, '..', 'fixtures', 'diffusers');

/** A fresh copy of a fixture pipeline, named `name`, changed by `change`. */
function copy(fixture: string, change: (folder: string) => void = () => {}, name = fixture): string {
  const folder = join(mkdtempSync(join(tmpdir(), 'painter-dfolder-')), name);
  cpSync(join(FIXTURES, fixture), folder, { recursive: true });
  change(folder);
  return folder;
}

async function refusal(folder: string): Promise<PainterError> {
  try {
    const pipeline = await DiffusersPipeline.load(readDiffusersFolder(folder), { provider: 'cpu' });
    await pipeline.dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(PainterError);
    return error as PainterError;
  }
  throw new Error(`${folder} was not refused`);
}

describe('refused diffusers folders name the file and what was expected', () => {
  it.each([
    ['vae_decoder/model.onnx', /without vae_decoder\/model\.onnx; expected the VAE decoder/],
    ['text_encoder/model.onnx', /without text_encoder\/model\.onnx; expected the CLIP text encoder/],
    ['unet/model.onnx', /without unet\/model\.onnx; expected the denoising UNet/],
    ['scheduler/scheduler_config.json', /no scheduler\/scheduler_config\.json/],
    ['unet/model.onnx_data', /needs its external data file .*unet\/model\.onnx_data, which is missing/],
  ])('a missing %s', async (part, message) => {
    const error = await refusal(copy('tiny-sd', (folder) => rmSync(join(folder, part))));
    expect(error.code).toBe('BAD_MODEL');
    expect(error.message).toMatch(message);
    expect(String(error.details?.['path'])).toContain(part);
  });

  it('a UNet with the wrong signature (a VAE decoder in its place)', async () => {
    const error = await refusal(
      copy('tiny-sd', (folder) => {
        rmSync(join(folder, 'unet', 'model.onnx_data'));
        cpSync(join(folder, 'vae_decoder', 'model.onnx'), join(folder, 'unet', 'model.onnx'));
      }),
    );
    expect(error.message).toMatch(/unet\/model\.onnx has no input "sample" \(the noisy sample \[batch, channels, height, width\]\); its inputs are "latent_sample"/);
  });

  it('an unconditional pixel UNet in a text-to-image folder', async () => {
    const error = await refusal(
      copy('tiny-sd', (folder) => {
        rmSync(join(folder, 'unet', 'model.onnx_data'));
        cpSync(join(FIXTURES, 'tiny-ddpm', 'unet', 'model.onnx'), join(folder, 'unet', 'model.onnx'));
      }),
    );
    // The DDPM UNet works on 3-channel pixels: refused for its sample before its missing text input.
    expect(error.message).toMatch(/unet\/model\.onnx takes 3-channel samples but the VAE's latents have 4 channels/);
  });

  it('a UNet whose sample is not the VAE\'s latent (channels differ, as an inpainting UNet\'s 9)', async () => {
    const error = await refusal(
      copy('tiny-sd', (folder) => {
        const path = join(folder, 'vae_decoder', 'config.json');
        writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), latent_channels: 9 }));
      }),
    );
    expect(error.message).toMatch(/unet\/model\.onnx takes 4-channel samples but the VAE's latents have 9 channels/);
  });

  it('a text encoder whose input is not integer token ids', async () => {
    const error = await refusal(copy('tiny-sd', (folder) => cpSync(join(folder, 'vae_encoder', 'model.onnx'), join(folder, 'text_encoder', 'model.onnx'))));
    expect(error.message).toMatch(/text_encoder\/model\.onnx has no input "input_ids" \(the token ids \[batch, tokens\]\)/);
  });

  it.each([
    ['vocab.json that is not JSON', 'vocab.json', '{"a": 1,', /tokenizer\/vocab\.json is not valid JSON/],
    ['vocab.json without the BOS token', 'vocab.json', '{"a</w>": 0, "<|endoftext|>": 1}', /vocab\.json has no "<\|startoftext\|>" token/],
    ['merges.txt with a broken line', 'merges.txt', '#version: 0.2\na b\nnot-a-merge\n', /merges\.txt line 3 is not a merge/],
    ['tokenizer_config.json that is a list', 'tokenizer_config.json', '[]', /tokenizer_config\.json is not a JSON object; expected a tokenizer configuration/],
  ])('an unreadable tokenizer: %s', async (_what, file, content, message) => {
    const error = await refusal(copy('tiny-sd', (folder) => writeFileSync(join(folder, 'tokenizer', file), content)));
    expect(error.message).toMatch(message);
  });

  it('a tokenizer folder with neither tokenizer.json nor vocab.json + merges.txt', async () => {
    const error = await refusal(copy('tiny-sd', (folder) => rmSync(join(folder, 'tokenizer', 'merges.txt'))));
    expect(error.message).toMatch(/tokenizer has no merges\.txt; a CLIP tokenizer needs tokenizer\.json or vocab\.json \+ merges\.txt/);
  });

  it('external data named outside the part\'s folder, or reached through a link that leads out', () => {
    const outside = copy('tiny-sd', (folder) => {
      // An ONNX TensorProto external_data entry {key: "location", value: "../escape.bin"}.
      const location = Buffer.from('../escape.bin');
      const entry = Buffer.concat([Buffer.from([0x0a, 0x08]), Buffer.from('location'), Buffer.from([0x12, location.length]), location]);
      writeFileSync(join(folder, 'unet', 'model.onnx'), Buffer.concat([Buffer.from('onnx-graph-bytes'), entry]));
      writeFileSync(join(folder, 'escape.bin'), 'x');
    });
    expect(externalDataLocations(join(outside, 'unet', 'model.onnx'))).toEqual(['../escape.bin']);
    expect(() => readDiffusersFolder(outside)).toThrow(/unet\/model\.onnx names external data "\.\.\/escape\.bin" outside its folder; external data must stay inside/);

    const linked = copy('tiny-sd', (folder) => {
      const elsewhere = join(mkdtempSync(join(tmpdir(), 'painter-elsewhere-')), 'weights.bin');
      cpSync(join(folder, 'unet', 'model.onnx_data'), elsewhere);
      rmSync(join(folder, 'unet', 'model.onnx_data'));
      symlinkSync(elsewhere, join(folder, 'unet', 'model.onnx_data'));
    });
    expect(() => readDiffusersFolder(linked)).toThrow(/model\.onnx_data is a link that leads outside .*unet; external data must stay inside the part's folder/);
  });

  it('reads the real external data of tiny-sd (unet/model.onnx_data) and ignores safety_checker / feature_extractor', () => {
    const folder = readDiffusersFolder(join(FIXTURES, 'tiny-sd'));
    expect(externalDataLocations(folder.parts.unet)).toEqual(['model.onnx_data']);
    expect(folder.files.map((file) => file.path)).toContain(join(FIXTURES, 'tiny-sd', 'unet', 'model.onnx_data'));
    expect(folder.conditioning).toBe('text');
    expect(folder.parts.vaeEncoder).not.toBeNull();
    expect(folder.scalingFactor).toBe(0.18215);
    expect(folder.vaeScale).toBe(8);
    const ddpm = readDiffusersFolder(join(FIXTURES, 'tiny-ddpm'));
    expect(ddpm).toMatchObject({ conditioning: 'none', vaeScale: 1, parts: { textEncoder: null, tokenizer: null, vaeDecoder: null } });
  });
});

describe('registration', () => {
  it('gives each folder a slug id from its name, unique across folders', async () => {
    expect(slugOf('Stable Diffusion v1.5 (ONNX)')).toBe('stable-diffusion-v1-5-onnx');
    const first = copy('tiny-sd', undefined, 'My SD');
    const second = copy('tiny-sd', undefined, 'My SD');
    const registry = new ModelRegistry({ bundledFolder: join(tmpdir(), 'painter-no-bundled'), userFolders: [first, second], provider: 'cpu' });
    expect(registry.list().map((m) => m.manifest.id)).toEqual(['my-sd', 'my-sd-2']);
    const info = await registry.info('my-sd-2');
    expect(info).toMatchObject({ kind: 'diffusers', space: 'latent', prompt: { maxTokens: 77, defaultNegativePrompt: '' }, decoded: { scale: 8, image: { channels: 3, height: 64, width: 64 } } });
    await registry.dispose();
  });

  it('refuses a broken folder when it is added, and keeps nothing of it', async () => {
    const broken = copy('tiny-sd', (folder) => writeFileSync(join(folder, 'tokenizer', 'vocab.json'), 'nope'));
    const registry = new ModelRegistry({ bundledFolder: join(tmpdir(), 'painter-no-bundled'), provider: 'cpu' });
    await expect(registry.addFolder(broken)).rejects.toThrow(/vocab\.json is not valid JSON/);
    expect(registry.list()).toEqual([]);
    await registry.dispose();
  });
});
