/** The model registry as the studio sees it, and the model the user picked. */
import type { ModelInfo } from '../../../electron/api/contract';
import { api } from '../api';
import { notices } from './notices.svelte';

class Models {
  list = $state<ModelInfo[]>([]);
  selectedId = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);
  readonly selected = $derived(this.list.find((model) => model.id === this.selectedId) ?? null);

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.list = await api.call('listModels', {});
      this.loaded = true;
      // Keep the user's pick across reloads; otherwise start on the first model.
      if (this.selected === null) this.selectedId = this.list[0]?.id ?? null;
    } catch (error) {
      notices.report(error);
    } finally {
      this.loading = false;
    }
  }

  select(id: string): void {
    this.selectedId = id;
  }

  /** Registers a user's model folder and selects it. */
  async addFolder(folder: string): Promise<void> {
    try {
      const added = await api.call('addModelFolder', { folder });
      this.list = [...this.list.filter((model) => model.id !== added.id), added];
      this.selectedId = added.id;
      notices.dismiss();
    } catch (error) {
      notices.report(error);
    }
  }
}

export const models = new Models();
