/** Whether the engine can be reached (browser mode reconnects on its own). */
import { api, type ConnectionStatus } from '../api';

class Connection {
  status = $state<ConnectionStatus>({ state: 'connecting' });
  readonly open = $derived(this.status.state === 'open');

  constructor() {
    api.onStatus((status) => {
      this.status = status;
    });
  }
}

export const connection = new Connection();
