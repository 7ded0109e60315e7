/** Whether the engine can be reached (browser mode reconnects on its own), and how its process is doing. */
import type { EngineStatus } from '../../../electron/api/contract';
import { api, ApiError, type ConnectionStatus } from '../api';
import { notices } from './notices.svelte';

class Connection {
  status = $state<ConnectionStatus>({ state: 'connecting' });
  readonly open = $derived(this.status.state === 'open');
  /** The last word from the engine's watchdog (null while it never stopped). */
  engine = $state<EngineStatus | null>(null);

  constructor() {
    api.onStatus((status) => {
      this.status = status;
    });
    // The engine runs in its own process: when it crashes, hangs or runs out of memory, its
    // supervisor restarts it with the open runs and says so here (issue 9, item 10).
    api.onEvent('engine', (status) => {
      this.engine = status;
      notices.report(new ApiError('ENGINE_STOPPED', status.message));
    });
  }
}

export const connection = new Connection();
