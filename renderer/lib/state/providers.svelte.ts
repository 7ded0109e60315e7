/** The execution provider setting (Settings → Execution provider): what this machine offers and the choice in force. */
import type { ProviderChoice, ProviderSettings } from '../../../electron/api/contract';
import { api } from '../api';
import { models } from './models.svelte';
import { notices } from './notices.svelte';

class Providers {
  settings = $state.raw<ProviderSettings | null>(null);
  saving = $state(false);

  async load(): Promise<void> {
    try {
      this.settings = await api.call('providerSettings', {});
    } catch (error) {
      notices.report(error);
    }
  }

  /** Saves the choice; networks reload on it at their next run, so the model list is refreshed. */
  async choose(provider: ProviderChoice): Promise<void> {
    this.saving = true;
    try {
      this.settings = await api.call('setProvider', { provider });
      await models.load();
    } catch (error) {
      notices.report(error);
    } finally {
      this.saving = false;
    }
  }
}

export const providers = new Providers();
