/**
 * The one client of the API contract (electron/api/contract.ts).
 *
 * `api.call(method, params)` returns the method's typed result or throws an
 * {@link ApiError}; nothing else in the renderer sees envelopes, transports
 * or wire messages. The transport is picked once, on first use:
 * - in Electron, the preload's `window.painter` bridge (IPC);
 * - in a browser (`painter serve`), a WebSocket to `/api` on the page's own
 *   host, authenticated by the `token` query parameter of the page URL, with
 *   reconnection when the server goes away.
 */
import type {
  ApiEventName,
  ApiEvents,
  ApiMethod,
  ApiParams,
  ApiResponse,
  ApiResult,
  ErrorCode,
  ErrorPayload,
  PainterBridge,
  WireMessage,
} from '../../electron/api/contract';
import { decodeWire, encodeWire } from '../../electron/api/wire';

/** Contract error codes, plus the one failure only a client can see. */
export type ClientErrorCode = ErrorCode | 'UNREACHABLE';

/** A failed call: a stable code and a sentence the user can act on. */
export class ApiError extends Error {
  readonly code: ClientErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ClientErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }

  static fromPayload(payload: ErrorPayload): ApiError {
    return new ApiError(payload.code, payload.message, payload.details);
  }
}

export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'closed'; message: string };

type EventRelay = (name: ApiEventName, payload: unknown) => void;
type StatusListener = (status: ConnectionStatus) => void;

interface Transport {
  readonly kind: 'ipc' | 'websocket';
  invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>>;
  onEvent(relay: EventRelay): () => void;
  onStatus(listener: StatusListener): () => void;
  readonly pickFolder: (() => Promise<string | null>) | null;
}

/** Electron: the preload bridge; the window and its engine live and die together. */
function ipcTransport(bridge: PainterBridge): Transport {
  return {
    kind: 'ipc',
    invoke: (method, params) => bridge.invoke(method, params),
    onEvent: (relay) => bridge.onEvent(relay),
    onStatus(listener) {
      listener({ state: 'open' });
      return () => {};
    },
    pickFolder: bridge.pickFolder ? () => bridge.pickFolder!() : null,
  };
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;

interface Pending {
  resolve: (response: ApiResponse<unknown>) => void;
  reject: (error: ApiError) => void;
}

/** Browser mode: one JSON text frame per {@link WireMessage}. */
class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  readonly pickFolder = null;

  private socket: WebSocket | null = null;
  private opening: Promise<WebSocket> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly relays = new Set<EventRelay>();
  private readonly statusListeners = new Set<StatusListener>();
  private status: ConnectionStatus = { state: 'connecting' };
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly url: string,
    private readonly hasToken: boolean,
  ) {
    void this.connect().catch(() => {});
  }

  async invoke(method: ApiMethod, params: unknown): Promise<ApiResponse<unknown>> {
    const socket = await this.ready();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: WireMessage = { type: 'request', id, method, params };
      socket.send(encodeWire(request));
    });
  }

  onEvent(relay: EventRelay): () => void {
    this.relays.add(relay);
    return () => this.relays.delete(relay);
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  private ready(): Promise<WebSocket> {
    if (this.socket !== null && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    return this.connect();
  }

  private connect(): Promise<WebSocket> {
    if (this.opening !== null) return this.opening;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.setStatus({ state: 'connecting' });
    this.opening = new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(this.url);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.socket = socket;
        this.retryMs = FIRST_RETRY_MS;
        this.setStatus({ state: 'open' });
        resolve(socket);
      };
      socket.onmessage = (message: MessageEvent) => this.receive(message.data);
      socket.onclose = () => {
        this.socket = null;
        this.opening = null;
        const error = new ApiError('UNREACHABLE', this.closedMessage(opened));
        for (const pending of this.pending.values()) pending.reject(error);
        this.pending.clear();
        this.setStatus({ state: 'closed', message: error.message });
        reject(error);
        this.scheduleReconnect();
      };
    });
    return this.opening;
  }

  private closedMessage(wasOpen: boolean): string {
    if (wasOpen) return 'Lost the connection to the engine; reconnecting…';
    return this.hasToken
      ? `No answer from ${location.host}. Is \`painter serve\` still running? (If it was restarted, open the new link it printed.) Retrying…`
      : `This page was opened without its access token. Open the full link that \`painter serve\` printed.`;
  }

  private scheduleReconnect(): void {
    if (this.retryTimer !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect().catch(() => {});
    }, delay);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: WireMessage;
    try {
      message = decodeWire(data) as WireMessage;
    } catch {
      return; // not ours to show; a malformed frame cannot be matched to a call
    }
    if (message.type === 'response') {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.resolve(message.response);
    } else if (message.type === 'event') {
      for (const relay of this.relays) relay(message.name, message.payload);
    }
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

function pickTransport(): Transport {
  if (window.painter !== undefined) return ipcTransport(window.painter);
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`;
  return new WebSocketTransport(url, token !== '');
}

let transport: Transport | null = null;
function getTransport(): Transport {
  transport ??= pickTransport();
  return transport;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const api = {
  /** Calls the engine; resolves to the typed result or throws {@link ApiError}. */
  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    let response: ApiResponse<unknown>;
    try {
      response = await getTransport().invoke(method, params);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError('INTERNAL', `The ${method} call could not be delivered: ${describe(error)}`);
    }
    if (response.ok) return response.value as ApiResult<M>;
    throw ApiError.fromPayload(response.error);
  },

  /** Subscribes to one kind of engine event; returns the unsubscribe function. */
  onEvent<N extends ApiEventName>(name: N, listener: (payload: ApiEvents[N]) => void): () => void {
    return getTransport().onEvent((eventName, payload) => {
      if (eventName === name) listener(payload as ApiEvents[N]);
    });
  },

  /** Connection state (always open in Electron); the listener is called at once. */
  onStatus(listener: StatusListener): () => void {
    return getTransport().onStatus(listener);
  },

  /** Native folder picker, or null where there is none (browser mode). */
  get pickFolder(): (() => Promise<string | null>) | null {
    return getTransport().pickFolder;
  },
};
