// The training service's engine workers: a fresh worker per run, ended with it, or one long-lived shared
// worker that hosts its runs one after another. tfjs-node's addon loads in one thread per process, so the
// runs on that backend share the one worker that loaded it (and queue for it); LOADSCOPE_SHARED_WORKER=1
// sends every run there (tests: sequential runs in one thread on any backend).
import type { RunConfig } from '../../shared/run-config';
import type { WorkerReport } from '../../shared/worker-protocol';
import type { WorkerEntry } from '../engine/worker-path';
import { usesNativeBackend } from './system-info';
import { WorkerHost, type WorkerHostHandlers } from './worker-host';

export type Placement = 'own' | 'shared';

/** The default placement: tfjs-node runs (and, with LOADSCOPE_SHARED_WORKER=1, all runs) share the worker. */
export function defaultPlacement(config: Pick<RunConfig, 'backend'>): Placement {
  return usesNativeBackend(config) || process.env.LOADSCOPE_SHARED_WORKER === '1' ? 'shared' : 'own';
}

export class WorkerPool {
  private shared: WorkerHost | null = null;

  constructor(
    private readonly entry: () => WorkerEntry,
    private readonly handlers: WorkerHostHandlers,
  ) {}

  /** The shared worker can take a run now: none yet, a dead one (replaced), or one whose last run went idle. */
  sharedFree(): boolean {
    return !this.shared?.alive || this.shared.busyWith === null;
  }

  /** The worker that starts `runId` (the caller posts 'start'); a shared one must be free (sharedFree). */
  acquire(runId: string, placement: Placement): WorkerHost {
    let host: WorkerHost;
    if (placement === 'own') host = new WorkerHost(this.entry(), this.handlers);
    else {
      if (this.shared?.alive && this.shared.busyWith !== null) throw new Error(`the shared engine worker still hosts run ${this.shared.busyWith}; run ${runId} must wait for it`);
      if (!this.shared?.alive) this.shared = new WorkerHost(this.entry(), this.handlers, true);
      host = this.shared;
    }
    host.runIds.add(runId);
    host.busyWith = runId;
    return host;
  }

  /**
   * A run left the service. Its own worker ends; the shared one lives on, and is told to stop the run when
   * the run ended on the service's side (a failed store write) while the worker still trains it.
   */
  release(host: WorkerHost, runId: string, workerStillTraining: boolean): void {
    host.runIds.delete(runId);
    if (!host.shared) void host.terminate();
    else if (workerStillTraining) host.post({ type: 'stop', runId });
  }

  /** An 'idle' report: the worker disposed its run and takes the next start. True when that frees the shared worker. */
  idle(host: WorkerHost, msg: Extract<WorkerReport, { type: 'idle' }>): boolean {
    if (host.busyWith === msg.runId) host.busyWith = null;
    return host.shared && host === this.shared && host.busyWith === null;
  }

  /** A worker crashed: the shared one is replaced by a fresh one at the next shared run. */
  crashed(host: WorkerHost): void {
    if (this.shared === host) this.shared = null;
  }

  /** Quit: end the shared worker (own workers end with their runs). */
  async dispose(): Promise<void> {
    const host = this.shared;
    this.shared = null;
    await host?.terminate();
  }
}
