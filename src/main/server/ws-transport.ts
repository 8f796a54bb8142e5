// The command/event contract over one WebSocket: {id, command, request} → {id, result}; events pushed
// as {event, payload}; anything malformed gets an {error} reply and the connection carries on.
// Per-socket limits keep one slow or hostile client from costing the others: a bounded number of
// requests in flight and a bounded reply backlog (reading pauses), and a socket far past it is dropped.
import type { RawData, WebSocket } from 'ws';
import type { WireServerMessage } from '../../shared/ipc-contract';
import type { EventHub } from '../services/client-channel';
import type { Dispatch } from '../services/dispatcher';

/** Above this many unsent bytes a client counts as slow: its frames are merged, not queued. */
export const SLOW_CLIENT_BYTES = 1 << 20;

export interface SocketLimits {
  /** requests being answered at once; further messages wait unread (TCP pushes back on the client) */
  maxInFlight: number;
  /** unsent reply bytes above which reading pauses until the client takes them */
  pauseBytes: number;
  /** unsent bytes above which the client is dropped (it stopped reading long ago) */
  dropBytes: number;
}

export const DEFAULT_LIMITS: SocketLimits = { maxInFlight: 8, pauseBytes: SLOW_CLIENT_BYTES, dropBytes: 64 << 20 };

export function attachWebSocket(ws: WebSocket, dispatch: Dispatch, events: EventHub, limits: SocketLimits = DEFAULT_LIMITS): void {
  let inFlight = 0;
  let paused = false;
  // messages that arrived (already read from the socket) while holding: handled once a slot frees up
  const pending: Array<{ data: RawData; isBinary: boolean }> = [];
  const holding = () => inFlight >= limits.maxInFlight || ws.bufferedAmount > limits.pauseBytes;
  // reading resumes once the backlog is small again and a request slot is free
  const flow = () => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.dropBytes) {
      ws.terminate();
      return;
    }
    while (pending.length > 0 && !holding()) {
      const m = pending.shift()!;
      handle(m.data, m.isBinary);
    }
    const hold = holding();
    if (hold && !paused) ws.pause();
    else if (!hold && paused) ws.resume();
    paused = hold;
  };
  const send = (msg: WireServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    // the callback runs once the bytes left for the socket: the moment to look at the backlog again
    ws.send(JSON.stringify(msg), () => flow());
    flow();
  };
  const unsubscribe = events.subscribe({
    send: (event, payload) => send({ event, payload }),
    isBusy: () => ws.readyState !== ws.OPEN || ws.bufferedAmount > SLOW_CLIENT_BYTES,
  });
  ws.on('close', unsubscribe);
  ws.on('error', unsubscribe);
  ws.on('message', (data, isBinary) => {
    if (holding() || pending.length > 0) {
      pending.push({ data, isBinary });
      flow();
    } else handle(data, isBinary);
  });
  ws.on('close', () => (pending.length = 0));

  function handle(data: RawData, isBinary: boolean): void {
    if (isBinary) return send({ error: 'binary messages are not supported: send JSON text' });
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return send({ error: 'not JSON: expected {"id": number, "command": string, "request": object}' });
    }
    const m = msg as { id?: unknown; command?: unknown; request?: unknown } | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m) || !Number.isSafeInteger(m.id) || typeof m.command !== 'string') {
      return send({ error: 'malformed message: expected {"id": number, "command": string, "request": object}' });
    }
    const id = m.id as number;
    inFlight++;
    flow();
    dispatch(m.command, m.request)
      .then(
        (result) => send({ id, result }),
        (err: unknown) => send({ id, result: { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } } }),
      )
      .finally(() => {
        inFlight--;
        flow();
      });
  }
}
