/**
 * The settings of the next run (the left sidebar): seed, steps, sampler,
 * class, guidance; for a text-conditional pipeline its prompt and negative
 * prompt, and for a latent one the decoded image's width and height. They are the user's: switching model keeps every value the
 * user chose (a model's defaults fill in only what the user never set), a new
 * seed is drawn for each run unless the user turns that off, and any run's
 * settings can be taken over with one click. Every change can be undone.
 */
import type { GenerateRequest, ModelInfo, RunSummary, SamplerName } from '../../../electron/api/contract';
import { randomSeed } from '../random';
import { history } from './history.svelte';
import { models } from './models.svelte';

const NEW_SEED_KEY = 'painter.newSeedEachRun';

function storedFlag(key: string, fallback: boolean): boolean {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : value === '1';
  } catch {
    return fallback; // storage can be unavailable; the default will do
  }
}

/** Fields the user can set, and the undo label of each. */
export const FIELD_LABELS = {
  seed: 'Seed',
  steps: 'Steps',
  sampler: 'Sampler',
  classLabel: 'Class',
  guidance: 'Guidance',
  prompt: 'Prompt',
  negativePrompt: 'Negative prompt',
  width: 'Width',
  height: 'Height',
} as const;
export type NextRunField = keyof typeof FIELD_LABELS;

interface Values {
  seed: number;
  steps: number;
  sampler: SamplerName;
  /** Per model: the class picked (null = unconditional). */
  classLabel: number | null;
  guidance: number;
  prompt: string;
  negativePrompt: string;
  /** The selected model's decoded size (null: not a latent model). */
  width: number | null;
  height: number | null;
}

/** Why a width or height cannot be asked of a latent model, or null when it can (issue 10: multiples of 8 and the UNet's downsampling). */
export function sizeProblem(model: ModelInfo, side: 'Width' | 'Height', value: number): string | null {
  const spec = model.decoded;
  if (spec === undefined) return null;
  if (!Number.isInteger(value)) return `${side} must be a whole number of pixels.`;
  if (value < spec.minSize || value > spec.maxSize) return `${side} must be between ${spec.minSize} and ${spec.maxSize} pixels; got ${value}.`;
  if (value % spec.sizeMultiple !== 0) {
    const below = Math.max(spec.minSize, Math.floor(value / spec.sizeMultiple) * spec.sizeMultiple);
    return `${side} must be a multiple of ${spec.sizeMultiple} (this model's latent grid); ${below} or ${below + spec.sizeMultiple} would do.`;
  }
  return null;
}

/** Fields kept per model: undoing them shows that model again. */
const PER_MODEL: ReadonlySet<NextRunField> = new Set(['classLabel', 'width', 'height']);

class NextRun {
  seed = $state(randomSeed());
  newSeedEachRun = $state(storedFlag(NEW_SEED_KEY, true));
  /** null until the user sets it: then the model's default applies. */
  private chosenSteps = $state<number | null>(null);
  private chosenGuidance = $state<number | null>(null);
  sampler = $state<SamplerName>('euler');
  /** The class picked per model id (class lists differ between models). */
  private classes = $state<Record<string, number | null>>({});
  /** The prompt and negative prompt are the user's text, kept across model switches. */
  prompt = $state('');
  negativePrompt = $state<string | null>(null);
  /** Decoded size per model id (sizes allowed differ between models). */
  private sizes = $state<Record<string, { width: number | null; height: number | null }>>({});
  /** The seed the last generation used: with "new seed each run", the next one draws a fresh seed instead of repeating it. */
  private lastUsedSeed: number | null = null;

  readonly model = $derived(models.selected);
  readonly steps = $derived(this.chosenSteps ?? this.model?.defaultSteps ?? 50);
  readonly guidance = $derived(this.chosenGuidance ?? this.model?.defaultGuidance ?? 1);
  readonly classLabel = $derived(this.model === null ? null : this.classOf(this.model));
  readonly width = $derived(this.model === null ? null : this.sizeOf(this.model).width);
  readonly height = $derived(this.model === null ? null : this.sizeOf(this.model).height);
  /** The negative prompt: the user's, else the model's default. */
  readonly negative = $derived(this.negativePrompt ?? this.model?.prompt?.defaultNegativePrompt ?? '');
  /** Classifier-free guidance needs both a class and the unconditional model, or a prompt (guided away from the negative prompt). */
  readonly guidanceApplies = $derived(
    this.model !== null && (this.model.prompt !== undefined || (this.model.classes !== null && this.model.unconditional && this.classLabel !== null)),
  );

  /** A latent model's decoded size: the user's for it, else the model's default; nulls for a pixel model. */
  sizeOf(model: ModelInfo): { width: number | null; height: number | null } {
    if (model.decoded === undefined) return { width: null, height: null };
    const chosen = this.sizes[model.id];
    return { width: chosen?.width ?? model.decoded.image.width, height: chosen?.height ?? model.decoded.image.height };
  }

  /** The class for a model: the user's pick for it, else its first class (or none, if it takes none). */
  classOf(model: ModelInfo): number | null {
    if (model.classes === null || model.classes.length === 0) return null;
    const picked = this.classes[model.id];
    if (picked === null && model.unconditional) return null;
    if (picked !== undefined && picked !== null && picked < model.classes.length) return picked;
    return 0;
  }

  private values(): Values {
    return {
      seed: this.seed,
      steps: this.steps,
      sampler: this.sampler,
      classLabel: this.classLabel,
      guidance: this.guidance,
      prompt: this.prompt,
      negativePrompt: this.negative,
      width: this.width,
      height: this.height,
    };
  }

  private write(field: NextRunField, value: number | string | null): void {
    switch (field) {
      case 'seed':
        this.seed = value as number;
        this.lastUsedSeed = null;
        break;
      case 'steps':
        this.chosenSteps = value as number;
        break;
      case 'sampler':
        this.sampler = value as SamplerName;
        break;
      case 'guidance':
        this.chosenGuidance = value as number;
        break;
      case 'classLabel':
        if (this.model !== null) this.classes = { ...this.classes, [this.model.id]: value as number | null };
        break;
      case 'prompt':
        this.prompt = value as string;
        break;
      case 'negativePrompt':
        this.negativePrompt = value as string;
        break;
      case 'width':
      case 'height':
        if (this.model !== null) {
          const size = this.sizes[this.model.id] ?? { width: null, height: null };
          this.sizes = { ...this.sizes, [this.model.id]: { ...size, [field]: value as number | null } };
        }
        break;
    }
  }

  /** Sets one field as the user did; undoable (quick repeats of one field merge into one step). */
  set(field: NextRunField, value: number | string | null, shown?: string): void {
    const before = this.values()[field];
    if (before === value) return;
    const modelId = this.model?.id;
    this.write(field, value);
    history.record({
      label: `${FIELD_LABELS[field]} ${shown ?? String(value)}`,
      coalesce: `next-run:${field}`,
      undo: () => {
        if (PER_MODEL.has(field) && modelId !== undefined) models.select(modelId);
        this.write(field, before);
      },
      redo: () => {
        if (PER_MODEL.has(field) && modelId !== undefined) models.select(modelId);
        this.write(field, value);
      },
    });
  }

  rollSeed(): void {
    this.set('seed', randomSeed());
  }

  setNewSeedEachRun(on: boolean): void {
    this.newSeedEachRun = on;
    try {
      localStorage.setItem(NEW_SEED_KEY, on ? '1' : '0');
    } catch {
      // not remembered, still applied
    }
  }

  /**
   * The request for the next run on `model`. With "new seed each run" a seed
   * that a generation already used is replaced by a fresh one first (a seed
   * the user typed is always used once).
   */
  takeRequest(model: ModelInfo): GenerateRequest {
    if (this.newSeedEachRun && this.lastUsedSeed === this.seed) this.seed = randomSeed();
    this.lastUsedSeed = this.seed;
    const classLabel = this.classOf(model);
    const guidanceApplies = model.prompt !== undefined || (model.classes !== null && model.unconditional && classLabel !== null);
    const request: GenerateRequest = { modelId: model.id, seed: this.seed, steps: this.steps, sampler: this.sampler, classLabel, guidance: guidanceApplies ? this.guidance : 1 };
    if (model.prompt !== undefined) {
      request.prompt = this.prompt;
      request.negativePrompt = this.negativePrompt ?? model.prompt.defaultNegativePrompt;
    }
    const size = this.sizeOf(model);
    if (size.width !== null && size.height !== null) {
      request.width = size.width;
      request.height = size.height;
    }
    return request;
  }

  /** Takes over a run's settings (model included) for the next run, as one undoable step. */
  useRunSettings(summary: RunSummary): void {
    const before = {
      model: models.selectedId,
      seed: this.seed,
      steps: this.chosenSteps,
      sampler: this.sampler,
      classes: this.classes,
      guidance: this.chosenGuidance,
      prompt: this.prompt,
      negativePrompt: this.negativePrompt,
      sizes: this.sizes,
    };
    const apply = (): void => {
      const { settings } = summary;
      if (models.list.some((model) => model.id === settings.modelId)) models.select(settings.modelId);
      this.seed = settings.seed;
      this.lastUsedSeed = null; // reproduce the run: use this seed once even with "new seed each run"
      this.chosenSteps = settings.steps;
      this.sampler = settings.sampler;
      this.classes = { ...this.classes, [settings.modelId]: settings.classLabel };
      if (settings.classLabel !== null || settings.prompt !== undefined) this.chosenGuidance = settings.guidance;
      if (settings.prompt !== undefined) this.prompt = settings.prompt;
      if (settings.negativePrompt !== undefined) this.negativePrompt = settings.negativePrompt;
      if (settings.width !== undefined && settings.height !== undefined) this.sizes = { ...this.sizes, [settings.modelId]: { width: settings.width, height: settings.height } };
    };
    apply();
    history.record({
      label: "use a run's settings",
      undo: () => {
        if (before.model !== null) models.select(before.model);
        this.seed = before.seed;
        this.chosenSteps = before.steps;
        this.sampler = before.sampler;
        this.classes = before.classes;
        this.chosenGuidance = before.guidance;
        this.prompt = before.prompt;
        this.negativePrompt = before.negativePrompt;
        this.sizes = before.sizes;
      },
      redo: apply,
    });
  }
}

export const nextRun = new NextRun();
