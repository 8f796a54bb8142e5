// The training queue: runs waiting for a slot (and, for shared-worker runs, for the shared engine worker to
// be idle), in arrival order; each queued run is told its 1-based place whenever that place changes.
import type { EventPayloads } from '../../shared/ipc-contract';
import type { RunSession } from './run-session';

type QueuedStatus = EventPayloads['run:status'];

export class RunQueue {
  private readonly waiting: RunSession[] = [];

  constructor(private readonly announce: (status: QueuedStatus) => void) {}

  get length(): number {
    return this.waiting.length;
  }

  push(run: RunSession): void {
    this.waiting.push(run);
  }

  /** Take a run out (cancelled before it started); false when it was not queued. */
  remove(run: RunSession): boolean {
    const i = this.waiting.indexOf(run);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    run.queuePosition = null;
    return true;
  }

  /** The first queued run that may start now (`ready`), taken out of the queue; null when none may. */
  takeNext(ready: (run: RunSession) => boolean): RunSession | null {
    const i = this.waiting.findIndex(ready);
    if (i < 0) return null;
    const [run] = this.waiting.splice(i, 1);
    run!.queuePosition = null;
    return run!;
  }

  /** Every queued run, taken out (quit). */
  drain(): RunSession[] {
    const all = this.waiting.splice(0);
    for (const run of all) run.queuePosition = null;
    return all;
  }

  /** 1-based place of a run in the queue; null when it is not queued. */
  positionOf(runId: string): number | null {
    const i = this.waiting.findIndex((r) => r.runId === runId);
    return i >= 0 ? i + 1 : null;
  }

  /** What a queued run waits for: a free slot, or also the shared engine worker (tfjs-node); null when not queued. */
  waitsFor(runId: string): 'slot' | 'shared-worker' | null {
    const run = this.waiting.find((r) => r.runId === runId);
    return run ? (run.shared ? 'shared-worker' : 'slot') : null;
  }

  /** Tell every queued run whose place changed (runs start, end or are cancelled) its new place. */
  announcePlaces(): void {
    this.waiting.forEach((run, i) => {
      const queuePosition = i + 1;
      if (run.queuePosition === queuePosition) return;
      run.queuePosition = queuePosition;
      const behind = run.shared ? ', one run at a time on the shared engine worker' : '';
      const queuedFor = run.shared ? 'shared-worker' : 'slot';
      this.announce({ runId: run.runId, status: 'created', message: `queued (position ${queuePosition}${behind})`, queuePosition, queuedFor });
    });
  }
}
