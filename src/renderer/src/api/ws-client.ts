// LoadscopeApi over a WebSocket (`loadscope serve`): numbered requests, pushed events, reconnect with backoff.
import { COMMAND_NAMES } from '../../../shared/ipc-names';
import type {
  CommandError,
  CommandName,
  CommandResult,
  EventName,
  EventPayloads,
  LoadscopeApi,
  WireClientMessage,
  WireServerMessage,
} from '../../../shared/ipc-contract';

export interface ConnectionState {
  connected: boolean;
  /** reconnect attempts since the last successful open (0 while connected) */
  attempt: number;
  /** the last protocol or socket error, for the banner */
  lastError: string | null;
}

export interface WsClient {
  api: LoadscopeApi;
  /** called on every connection change; returns an unsubscribe */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

export interface WsClientOptions {
  url: string;
  /** a command waits this long for its answer before failing (ms) */
  requestTimeoutMs?: number;
  /** backoff bounds for reconnects (ms) */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** injectable for tests */
  WebSocketImpl?: typeof WebSocket;
}

type Pending = { resolve: (r: CommandResult<CommandName>) => void; timer: ReturnType<typeof setTimeout>; sent: boolean };

const failure = (code: CommandError['code'], message: string): CommandResult<CommandName> => ({ ok: false, error: { code, message } });

/** The default address: the same host that served the page, path /ws (the session cookie authorises it). */
export function defaultWsUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export function createWsClient(opts: WsClientOptions): WsClient {
  const WS = opts.WebSocketImpl ?? WebSocket;
  const timeoutMs = opts.requestTimeoutMs ?? 60_000;
  const minDelay = opts.minDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 10_000;
  const pending = new Map<number, Pending>();
  /** messages written while the socket was not open; flushed on open */
  const outbox: Array<{ id: number; text: string }> = [];
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();
  const state: ConnectionState = { connected: false, attempt: 0, lastError: null };
  let nextId = 1;
  let socket: WebSocket | null = null;
  let closed = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  const publish = () => {
    const snapshot = { ...state };
    for (const l of connectionListeners) l(snapshot);
  };

  function connect(): void {
    if (closed) return;
    const ws = new WS(opts.url);
    socket = ws;
    ws.onopen = () => {
      state.connected = true;
      state.attempt = 0;
      state.lastError = null;
      publish();
      for (const m of outbox.splice(0)) {
        const p = pending.get(m.id);
        if (!p) continue; // timed out while waiting
        p.sent = true;
        ws.send(m.text);
      }
    };
    ws.onmessage = (ev) => handle(String(ev.data));
    ws.onerror = () => {
      state.lastError = 'connection error';
    };
    ws.onclose = (ev) => {
      if (socket !== ws) return;
      socket = null;
      state.connected = false;
      if (ev.reason) state.lastError = ev.reason;
      // Requests already sent will never be answered on a new socket: fail them now.
      // Unsent ones stay in the outbox for the next socket.
      for (const [id, p] of pending) {
        if (!p.sent) continue;
        clearTimeout(p.timer);
        pending.delete(id);
        p.resolve(failure('internal', 'disconnected from the server before it answered'));
      }
      if (closed) return;
      state.attempt += 1;
      publish();
      // exponential backoff with jitter, so many tabs do not reconnect in lockstep
      const delay = Math.min(maxDelay, minDelay * 2 ** Math.min(state.attempt - 1, 8)) * (0.75 + Math.random() * 0.5);
      reconnectTimer = setTimeout(connect, delay);
    };
  }

  function handle(text: string): void {
    let msg: WireServerMessage;
    try {
      msg = JSON.parse(text) as WireServerMessage;
    } catch {
      state.lastError = 'the server sent something that is not JSON';
      publish();
      return;
    }
    if ('id' in msg && typeof msg.id === 'number') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      clearTimeout(p.timer);
      p.resolve(msg.result);
    } else if ('event' in msg) {
      for (const l of listeners.get(msg.event) ?? []) (l as (p: unknown) => void)(msg.payload);
    } else if ('error' in msg) {
      state.lastError = msg.error;
      publish();
    }
  }

  function send(command: CommandName, request: unknown): Promise<CommandResult<CommandName>> {
    return new Promise((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(failure('internal', `the server did not answer ${command} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const message: WireClientMessage = { id, command, request: request ?? {} };
      const text = JSON.stringify(message);
      const open = socket !== null && socket.readyState === WS.OPEN;
      pending.set(id, { resolve, timer, sent: open });
      if (open) socket!.send(text);
      else outbox.push({ id, text });
    });
  }

  const api = {
    on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  } as Record<string, unknown>;
  for (const name of COMMAND_NAMES) api[name] = (request: unknown) => send(name, request);

  connect();
  return {
    api: api as unknown as LoadscopeApi,
    onConnection(listener) {
      connectionListeners.add(listener);
      listener({ ...state });
      return () => connectionListeners.delete(listener);
    },
    close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      socket?.close();
    },
  };
}
