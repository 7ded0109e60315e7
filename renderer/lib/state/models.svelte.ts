/** The model registry as the studio sees it, and the model the user picked for the next run. */
import type { ModelInfo } from '../../../electron/api/contract';
import { api } from '../api';
import { history } from './history.svelte';
import { notices } from './notices.svelte';

/** The studio starts on the best bundled network when it is installed. */
export const PREFERRED_MODELS = ['fashion-mnist', 'emoji32', 'fashion-mnist-gmm'];

class Models {
  list = $state<ModelInfo[]>([]);
  selectedId = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);
  /** Text typed in the model list's filter. */
  filter = $state('');
  readonly selected = $derived(this.list.find((model) => model.id === this.selectedId) ?? null);
  readonly choices = $derived(this.list);
  readonly shown = $derived.by(() => {
    const words = this.filter.trim().toLowerCase().split(/\s+/).filter((word) => word !== '');
    if (words.length === 0) return this.choices;
    return this.choices.filter((model) => {
      const text = `${model.name} ${model.id} ${model.kind} ${model.description}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
  });

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.list = await api.call('listModels', {});
      this.loaded = true;
      // Keep the user's pick across reloads; otherwise start on the best network there is.
      if (this.selected === null) {
        const preferred = PREFERRED_MODELS.find((id) => this.choices.some((model) => model.id === id));
        this.selectedId = preferred ?? this.choices[0]?.id ?? null;
      }
    } catch (error) {
      notices.report(error);
    } finally {
      this.loading = false;
    }
  }

  /** Selects without recording (undo itself, a run's settings taken over). */
  select(id: string): void {
    this.selectedId = id;
  }

  /** The user picks a model: undoable. */
  choose(id: string): void {
    const before = this.selectedId;
    if (before === id) return;
    this.selectedId = id;
    const name = this.list.find((model) => model.id === id)?.name ?? id;
    history.record({
      label: `model ${name}`,
      coalesce: 'model',
      undo: () => {
        this.selectedId = before;
      },
      redo: () => {
        this.selectedId = id;
      },
    });
  }

  nameOf(id: string): string {
    return this.list.find((model) => model.id === id)?.name ?? id;
  }

  /**
   * Forgets a model folder the user added (the folder and its files stay);
   * undo adds the same folder again.
   */
  async remove(id: string): Promise<boolean> {
    const model = this.list.find((candidate) => candidate.id === id);
    if (model === undefined || model.source !== 'user') return false;
    try {
      await api.call('removeModel', { modelId: id });
    } catch (error) {
      notices.report(error);
      return false;
    }
    const at = this.list.indexOf(model);
    this.list = this.list.filter((candidate) => candidate.id !== id);
    if (this.selectedId === id) this.selectedId = this.list[Math.min(at, this.list.length - 1)]?.id ?? null;
    notices.say(`Removed ${model.name} from the list (its folder is untouched; Ctrl+Z adds it back)`);
    history.record({
      label: `remove model ${model.name}`,
      undo: async () => {
        await this.addFolder(model.folder);
      },
      redo: async () => {
        await this.remove(id);
      },
    });
    return true;
  }

  /** Registers a user's model folder and selects it. */
  async addFolder(folder: string): Promise<boolean> {
    try {
      const added = await api.call('addModelFolder', { folder });
      this.list = [...this.list.filter((model) => model.id !== added.id), added];
      this.selectedId = added.id;
      notices.dismiss();
      notices.say(`Added ${added.name}`);
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }
}

export const models = new Models();
