/**
 * Diffusers ONNX folders as Optimum (`optimum-cli export onnx`) writes them
 * (DESIGN.md §4: read without a hand-written manifest):
 *
 *   model_index.json                 the pipeline's parts
 *   scheduler/scheduler_config.json  the noise schedule (scheduler-config.ts)
 *   unet/model.onnx (+ model.onnx_data, weights.pb: external data)
 *   text_encoder/model.onnx, tokenizer/   text-to-image pipelines
 *   vae_decoder/model.onnx, optional vae_encoder/model.onnx   latent pipelines
 *
 * or an unconditional pixel-space pipeline (DDPM/DDIM: unet/ + scheduler/).
 * safety_checker/ and feature_extractor/ are ignored. Nothing here writes in
 * the folder; what is read is named in every refusal.
 */
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { PainterError } from '../errors';
import { checkRegularFile, quoteText, readJsonFile } from '../files';
import type { DiffusersFolder } from '../manifest';

export const MODEL_INDEX = 'model_index.json';

export type { DiffusersFolder, DiffusersParts } from '../manifest';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether `folder` is a diffusers pipeline (has model_index.json), without reading anything else. */
export function isDiffusersFolder(folder: string): boolean {
  return existsSync(join(folder, MODEL_INDEX));
}

/** A model id from a folder name: lower case, runs of anything but [a-z0-9] become "-". */
export function slugOf(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return slug.length > 0 ? slug : 'diffusers-model';
}

function refuse(message: string, path: string, details: Record<string, unknown> = {}): never {
  throw new PainterError('BAD_MODEL', message, { path, ...details });
}

/** A part's `model.onnx`, checked, with its external data files (which must stay in the part's folder). */
function onnxPart(folder: string, part: string, role: string, checkRead: (path: string) => void, files: DiffusersFolder['files']): string {
  const partFolder = join(folder, part);
  const path = join(partFolder, 'model.onnx');
  if (!existsSync(path)) refuse(`${quoteText(folder)} is a diffusers pipeline without ${part}/model.onnx; expected ${role} there (Optimum's layout).`, path, { part });
  checkRead(path);
  files.push({ path, size: checkRegularFile(path, 'onnx') });
  for (const location of externalDataLocations(path)) {
    const target = normalize(join(partFolder, location));
    const inside = relative(partFolder, target);
    if (isAbsolute(location) || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      refuse(`${quoteText(path)} names external data "${quoteText(location, 80)}" outside its folder; external data must stay inside ${quoteText(partFolder)}.`, path, { location });
    }
    if (!existsSync(target)) refuse(`${quoteText(path)} needs its external data file ${quoteText(target)}, which is missing.`, target, { location });
    checkRead(target);
    // After links too: a link inside the part's folder may not lead out of it.
    const real = realpathSync(target);
    const realInside = relative(realpathSync(partFolder), real);
    if (realInside.startsWith(`..${sep}`) || realInside === '..' || isAbsolute(realInside)) {
      refuse(`${quoteText(target)} is a link that leads outside ${quoteText(partFolder)}; external data must stay inside the part's folder.`, target, { location });
    }
    files.push({ path: target, size: checkRegularFile(target, 'onnx') });
  }
  return path;
}

/**
 * External data locations named in an ONNX file. A TensorProto's
 * `external_data` is a list of StringStringEntryProto {key: 1, value: 2};
 * the entry "location" is encoded as 0x0a 0x08 "location" 0x12 <varint> <path>.
 * The file is scanned in chunks (a model with embedded weights is large and
 * names none).
 */
export function externalDataLocations(path: string): string[] {
  const marker = Buffer.from([0x0a, 0x08, ...Buffer.from('location'), 0x12]);
  const found = new Set<string>();
  const chunk = 16 * 1024 * 1024;
  const overlap = marker.length + 5 + 4096;
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(chunk + overlap);
    for (let position = 0; position < size; position += chunk) {
      const length = readSync(fd, buffer, 0, Math.min(chunk + overlap, size - position), position);
      const view = buffer.subarray(0, length);
      let at = view.indexOf(marker);
      while (at >= 0 && at < chunk) {
        let cursor = at + marker.length;
        let textLength = 0;
        let shift = 0;
        while (cursor < view.length && shift < 35) {
          const byte = view[cursor++]!;
          textLength |= (byte & 0x7f) << shift;
          shift += 7;
          if ((byte & 0x80) === 0) break;
        }
        if (textLength > 0 && textLength <= 4096 && cursor + textLength <= view.length) found.add(view.toString('utf8', cursor, cursor + textLength));
        at = view.indexOf(marker, at + 1);
      }
    }
  } finally {
    closeSync(fd);
  }
  return [...found];
}

function readConfig(path: string, what: string, checkRead: (path: string) => void, files: DiffusersFolder['files']): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  checkRead(path);
  const value = readJsonFile(path, 'json');
  if (!isRecord(value)) refuse(`${quoteText(path)} is not a JSON object; expected ${what}.`, path);
  files.push({ path, size: checkRegularFile(path, 'json') });
  return value;
}

/**
 * Reads and checks a diffusers folder's layout and configuration files (the
 * ONNX graphs' signatures are checked when their sessions open, pipeline.ts).
 * @param checkRead throws when a file may not be read (browser mode's path policy)
 */
export function readDiffusersFolder(folder: string, checkRead: (path: string) => void = () => {}): DiffusersFolder {
  const files: DiffusersFolder['files'] = [];
  const indexPath = join(folder, MODEL_INDEX);
  const index = readConfig(indexPath, 'a diffusers model_index.json', checkRead, files);
  if (index === null) refuse(`${quoteText(folder)} has no ${MODEL_INDEX}; a diffusers pipeline folder needs one.`, indexPath);
  const pipelineClass = typeof index['_class_name'] === 'string' ? index['_class_name'] : 'unknown pipeline';
  /** A part the index lists with a real library (safety_checker: [null, null] is absent). */
  const listed = (part: string): boolean => Array.isArray(index[part]) && (index[part] as unknown[]).some((v) => v !== null);
  const present = (part: string): boolean => listed(part) || existsSync(join(folder, part));

  const schedulerConfig = join(folder, 'scheduler', 'scheduler_config.json');
  const schedulerJson = readConfig(schedulerConfig, 'a diffusers scheduler configuration', checkRead, files);
  if (schedulerJson === null) refuse(`${quoteText(folder)} has no scheduler/scheduler_config.json; a diffusers pipeline needs its scheduler's configuration.`, schedulerConfig);

  const unet = onnxPart(folder, 'unet', 'the denoising UNet', checkRead, files);
  const textual = present('text_encoder') || present('tokenizer');
  let textEncoder: string | null = null;
  let tokenizer: string | null = null;
  if (textual) {
    textEncoder = onnxPart(folder, 'text_encoder', 'the CLIP text encoder', checkRead, files);
    tokenizer = join(folder, 'tokenizer');
    if (!existsSync(tokenizer) || statSync(tokenizer).isDirectory() !== true) {
      refuse(`${quoteText(folder)} has a text encoder but no tokenizer/ folder; expected tokenizer.json or vocab.json + merges.txt there.`, tokenizer);
    }
    for (const name of ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      const path = join(tokenizer, name);
      if (existsSync(path)) {
        checkRead(path);
        files.push({ path, size: checkRegularFile(path, 'json') });
      }
    }
  }
  const latent = present('vae_decoder') || textual;
  const vaeDecoder = latent ? onnxPart(folder, 'vae_decoder', 'the VAE decoder (latents → image)', checkRead, files) : null;
  const vaeEncoder = present('vae_encoder') ? onnxPart(folder, 'vae_encoder', 'the VAE encoder (image → latents)', checkRead, files) : null;

  let scalingFactor = 0.18215;
  let vaeScale = 8;
  let latentChannels: number | null = null;
  for (const part of ['vae_decoder', 'vae_encoder', 'vae']) {
    const config = readConfig(join(folder, part, 'config.json'), 'a VAE configuration', checkRead, files);
    if (config === null) continue;
    const factor = config['scaling_factor'];
    if (factor !== undefined) {
      if (typeof factor !== 'number' || !(factor > 0) || !Number.isFinite(factor)) refuse(`${quoteText(join(folder, part, 'config.json'))}: scaling_factor must be a positive number; got ${JSON.stringify(factor)}.`, join(folder, part, 'config.json'));
      scalingFactor = factor;
    }
    const blocks = config['block_out_channels'];
    if (Array.isArray(blocks) && blocks.length >= 1 && blocks.length <= 8) vaeScale = 2 ** (blocks.length - 1);
    const channels = config['latent_channels'];
    if (typeof channels === 'number' && Number.isInteger(channels) && channels >= 1 && channels <= 64) latentChannels = channels;
    break;
  }
  const unetConfig = readConfig(join(folder, 'unet', 'config.json'), 'a UNet configuration', checkRead, files);
  const size = unetConfig?.['sample_size'];
  const sampleSize = typeof size === 'number' && Number.isInteger(size) && size >= 1 && size <= 1024 ? size : null;
  const inChannels = unetConfig?.['in_channels'];
  const unetChannels = typeof inChannels === 'number' && Number.isInteger(inChannels) && inChannels >= 1 && inChannels <= 64 ? inChannels : null;
  const unetBlocks = unetConfig?.['block_out_channels'];
  const unetDownsampling = Array.isArray(unetBlocks) && unetBlocks.length >= 1 && unetBlocks.length <= 8 ? 2 ** (unetBlocks.length - 1) : 8;

  const name = basename(folder);
  return {
    folder,
    id: slugOf(name),
    name,
    pipelineClass,
    conditioning: textual ? 'text' : 'none',
    parts: { unet, textEncoder, tokenizer, vaeDecoder, vaeEncoder, schedulerConfig },
    schedulerJson,
    scalingFactor,
    vaeScale: latent ? vaeScale : 1,
    latentChannels: latent ? latentChannels : null,
    sampleSize,
    unetChannels,
    unetDownsampling,
    files,
  };
}
