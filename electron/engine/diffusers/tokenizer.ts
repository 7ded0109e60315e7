/**
 * The CLIP tokenizer of a diffusers folder, through @huggingface/tokenizers
 * (no hand-written BPE). It reads the folder's own files: `tokenizer.json`
 * when present, else the slow tokenizer's `vocab.json` + `merges.txt`, from
 * which the same fast-tokenizer description is built (the layout of
 * transformers' CLIPConverter: NFC, whitespace runs → " ", lowercase; CLIP's
 * split pattern, byte-level; BPE with "</w>" word ends; BOS … EOS).
 *
 * Every prompt becomes exactly `maxLength` ids (77 for Stable Diffusion):
 * BOS, the text truncated so that EOS still fits, EOS, then the pad token the
 * folder names — SD 1.x pads with "<|endoftext|>", SD 2.x with "!".
 * @see https://huggingface.co/docs/transformers/model_doc/clip#transformers.CLIPTokenizer
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { PainterError } from '../errors';
import { quoteText, readJsonFile, readTextFile } from '../files';

/** CLIP's pre-tokenizer split (the openai/CLIP `pat`, without its special-token alternatives, as in CLIPConverter). */
const CLIP_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

export interface PromptTokens {
  /** maxLength ids: BOS, text, EOS, padding. */
  ids: number[];
  /** How many text tokens were cut to fit (0 when the prompt fits). */
  truncated: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A special token as tokenizer_config.json / special_tokens_map.json write it: a string or {content}. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value['content'] === 'string') return value['content'];
  return undefined;
}

export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxLength: number,
    readonly bosId: number,
    readonly eosId: number,
    readonly padId: number,
    /** The files it was read from (named in errors). */
    readonly folder: string,
  ) {}

  /**
   * Reads `folder` (a pipeline's tokenizer/): refuses, naming the file, a
   * folder without a readable vocabulary or whose special tokens are not in it.
   */
  static load(folder: string): ClipTokenizer {
    const configPath = join(folder, 'tokenizer_config.json');
    const mapPath = join(folder, 'special_tokens_map.json');
    const config = existsSync(configPath) ? readJsonFile(configPath, 'json') : {};
    const map = existsSync(mapPath) ? readJsonFile(mapPath, 'json') : {};
    if (!isRecord(config)) throw new PainterError('BAD_MODEL', `${quoteText(configPath)} is not a JSON object; expected a tokenizer configuration.`, { path: configPath });
    if (!isRecord(map)) throw new PainterError('BAD_MODEL', `${quoteText(mapPath)} is not a JSON object; expected the special tokens of a CLIP tokenizer.`, { path: mapPath });
    const special = (key: string, fallback: string): string => tokenText(map[key]) ?? tokenText(config[key]) ?? fallback;
    const bos = special('bos_token', '<|startoftext|>');
    const eos = special('eos_token', '<|endoftext|>');
    const unk = special('unk_token', '<|endoftext|>');
    const pad = special('pad_token', eos);
    const declared = config['model_max_length'];
    // transformers writes a huge sentinel when a tokenizer has no limit; CLIP's text encoder reads 77.
    const maxLength = typeof declared === 'number' && Number.isInteger(declared) && declared >= 3 && declared <= 4096 ? declared : 77;

    const fastPath = join(folder, 'tokenizer.json');
    let description: unknown;
    if (existsSync(fastPath)) {
      description = readJsonFile(fastPath, 'json');
      if (!isRecord(description) || !isRecord(description['model'])) {
        throw new PainterError('BAD_MODEL', `${quoteText(fastPath)} has no "model" section; expected a Hugging Face tokenizer.json.`, { path: fastPath });
      }
    } else {
      description = clipDescription(folder, { bos, eos, unk });
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(description as object, { ...config, bos_token: bos, eos_token: eos, unk_token: unk, pad_token: pad });
    } catch (error) {
      const file = existsSync(fastPath) ? fastPath : join(folder, 'vocab.json');
      throw new PainterError('BAD_MODEL', `${quoteText(file)} could not be read as a CLIP tokenizer: ${(error as Error).message.split('\n')[0]}.`, { path: file });
    }
    const idOf = (token: string, role: string): number => {
      const id = tokenizer.token_to_id(token);
      if (id === undefined) {
        throw new PainterError('BAD_MODEL', `The tokenizer in ${quoteText(folder)} has no ${role} token "${quoteText(token, 40)}" in its vocabulary.`, { path: folder, token });
      }
      return id;
    };
    return new ClipTokenizer(tokenizer, maxLength, idOf(bos, 'BOS'), idOf(eos, 'EOS'), idOf(pad, 'padding'), folder);
  }

  /** The prompt's maxLength ids (truncated and padded as CLIP's tokenizer does for Stable Diffusion pipelines). */
  encode(prompt: string): PromptTokens {
    const text = this.tokenizer.encode(prompt, { add_special_tokens: false }).ids;
    const room = this.maxLength - 2;
    const kept = text.slice(0, room);
    const ids = [this.bosId, ...kept, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return { ids, truncated: Math.max(0, text.length - room) };
  }
}

/**
 * The fast-tokenizer description of a slow CLIP tokenizer's vocab.json and
 * merges.txt (the first line of merges.txt is a "#version" header).
 */
function clipDescription(folder: string, special: { bos: string; eos: string; unk: string }): object {
  const vocabPath = join(folder, 'vocab.json');
  const mergesPath = join(folder, 'merges.txt');
  for (const path of [vocabPath, mergesPath]) {
    if (!existsSync(path)) {
      throw new PainterError('BAD_MODEL', `${quoteText(folder)} has no ${path === vocabPath ? 'vocab.json' : 'merges.txt'}; a CLIP tokenizer needs tokenizer.json or vocab.json + merges.txt.`, { path });
    }
  }
  const vocab = readJsonFile(vocabPath, 'json');
  if (!isRecord(vocab) || Object.keys(vocab).length === 0 || !Object.values(vocab).every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0)) {
    throw new PainterError('BAD_MODEL', `${quoteText(vocabPath)} is not a vocabulary; expected a JSON object from token to id.`, { path: vocabPath });
  }
  const merges: string[] = [];
  const lines = readTextFile(mergesPath, 'json').split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.length === 0 || (index === 0 && line.startsWith('#version'))) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new PainterError('BAD_MODEL', `${quoteText(mergesPath)} line ${index + 1} is not a merge ("left right").`, { path: mergesPath, line: index + 1 });
    }
    merges.push(line);
  }
  const added = [special.bos, special.eos].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  }));
  const missing = added.find((token) => typeof token.id !== 'number');
  if (missing !== undefined) {
    throw new PainterError('BAD_MODEL', `${quoteText(vocabPath)} has no "${quoteText(missing.content, 40)}" token; a CLIP vocabulary needs its BOS and EOS tokens.`, { path: vocabPath });
  }
  return {
    version: '1.0',
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: special.unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
