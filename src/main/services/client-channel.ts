// Per-client event delivery with bounded memory: while a client is slow (its transport reports busy),
// pending run frames are merged (scalar points concatenated, latest loads kept) instead of queued.
import type { EventName, EventPayloads } from '../../shared/ipc-contract';

type Frame = EventPayloads['run:frame'];
type Pending = { event: EventName; payload: unknown };

/** What a transport offers a channel: a way to send, and whether its outgoing buffer is full. */
export interface ClientTransport {
  send(event: EventName, payload: unknown): void;
  isBusy(): boolean;
}

/** Points kept per run while a client is stalled; older ones are dropped (the client can refetch with getScalars). */
export const MAX_PENDING_POINTS = 10_000;

export function mergeFrames(older: Frame, newer: Frame, maxPoints = MAX_PENDING_POINTS): Frame {
  const points = older.points.concat(newer.points);
  return {
    ...newer,
    points: points.length > maxPoints ? points.slice(points.length - maxPoints) : points,
    eval: newer.eval ?? older.eval,
    topTokens: newer.topTokens ?? older.topTokens,
  };
}

export class ClientChannel {
  /** keyed by event (+ runId): at most one pending entry per key, so memory is bounded by the number of runs */
  private readonly pending = new Map<string, Pending>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** frames merged into a pending one instead of sent (observability for tests and logs) */
  mergedFrames = 0;

  constructor(
    private readonly transport: ClientTransport,
    private readonly retryMs = 50,
  ) {}

  push<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    if (this.closed) return;
    if (this.pending.size === 0 && !this.transport.isBusy()) {
      this.transport.send(event, payload);
      return;
    }
    const runId = (payload as { runId?: string }).runId;
    const key = runId === undefined ? event : `${event}|${runId}`;
    const prev = this.pending.get(key);
    if (event === 'run:frame' && prev) {
      this.mergedFrames++;
      prev.payload = mergeFrames(prev.payload as Frame, payload as Frame);
    } else {
      // a newer status replaces the older one, and moves behind the frames already waiting
      this.pending.delete(key);
      this.pending.set(key, { event, payload });
    }
    this.schedule();
  }

  /** Send what is pending while the transport accepts it. */
  flush(): void {
    this.timer = null;
    if (this.closed) return;
    for (const [key, p] of this.pending) {
      if (this.transport.isBusy()) break;
      this.pending.delete(key);
      this.transport.send(p.event, p.payload);
    }
    if (this.pending.size > 0) this.schedule();
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.timer && !this.closed) this.timer = setTimeout(() => this.flush(), this.retryMs);
  }
}

/** Fan-out of service events to every connected client (the Electron window, each WebSocket). */
export class EventHub {
  private readonly channels = new Set<ClientChannel>();

  subscribe(transport: ClientTransport): () => void {
    const channel = new ClientChannel(transport);
    this.channels.add(channel);
    return () => {
      channel.close();
      this.channels.delete(channel);
    };
  }

  emit<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    for (const c of this.channels) c.push(event, payload);
  }

  get clientCount(): number {
    return this.channels.size;
  }
}
