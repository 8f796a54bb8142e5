// The command/event contract over one WebSocket: {id, command, request} → {id, result}; events pushed
// as {event, payload}; anything malformed gets an {error} reply and the connection carries on.
import type { WebSocket } from 'ws';
import type { WireServerMessage } from '../../shared/ipc-contract';
import type { EventHub } from '../services/client-channel';
import type { Dispatch } from '../services/dispatcher';

/** Above this many unsent bytes a client counts as slow: its frames are merged, not queued. */
export const SLOW_CLIENT_BYTES = 1 << 20;

export function attachWebSocket(ws: WebSocket, dispatch: Dispatch, events: EventHub): void {
  const send = (msg: WireServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const unsubscribe = events.subscribe({
    send: (event, payload) => send({ event, payload }),
    isBusy: () => ws.readyState !== ws.OPEN || ws.bufferedAmount > SLOW_CLIENT_BYTES,
  });
  ws.on('close', unsubscribe);
  ws.on('error', unsubscribe);
  ws.on('message', (data, isBinary) => {
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
    dispatch(m.command, m.request).then(
      (result) => send({ id, result }),
      (err: unknown) => send({ id, result: { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } } }),
    );
  });
}
