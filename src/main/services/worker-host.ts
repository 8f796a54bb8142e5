// One engine worker thread and the runs it hosts. Reports come back tagged with their runId; a crash or
// an unexpected exit is reported once, with a reason, for every run still on the worker.
import { Worker } from 'node:worker_threads';
import type { WorkerCommand, WorkerReport } from '../../shared/worker-protocol';
import type { WorkerEntry } from '../engine/worker-path';
import { preferSoftwareVulkan } from '../engine/worker-path';

export interface WorkerHostHandlers {
  report(host: WorkerHost, msg: WorkerReport): void;
  crashed(host: WorkerHost, reason: string, runIds: string[]): void;
}

let nextHostId = 1;

export class WorkerHost {
  readonly id = nextHostId++;
  readonly runIds = new Set<string>();
  /** the run whose 'start' was posted and whose 'idle' has not come back: the worker takes no other start */
  busyWith: string | null = null;
  readonly worker: Worker;
  private closing = false;
  private crashReason: string | null = null;
  private exited = false;
  readonly exitedPromise: Promise<number>;

  constructor(
    entry: WorkerEntry,
    private readonly handlers: WorkerHostHandlers,
    /** a long-lived worker that hosts runs one after another (tfjs-node) rather than one per run */
    readonly shared = false,
  ) {
    // the Vulkan loader reads the process environment, which a worker's env copy cannot change
    preferSoftwareVulkan();
    this.worker = new Worker(entry.filename, { workerData: entry.sourceEntry ? { __entry: entry.sourceEntry } : {} });
    this.worker.on('message', (msg: WorkerReport) => this.handlers.report(this, msg));
    this.worker.on('error', (err: Error) => {
      this.crashReason ??= `engine worker crashed: ${err.message}`;
    });
    this.worker.on('messageerror', (err: Error) => {
      this.crashReason ??= `engine worker sent an unreadable message: ${err.message}`;
    });
    this.exitedPromise = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        this.exited = true;
        resolve(code);
        if (this.closing || this.runIds.size === 0) return;
        const reason = this.crashReason ?? `engine worker exited unexpectedly (exit code ${code})`;
        this.handlers.crashed(this, reason, [...this.runIds]);
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  post(cmd: WorkerCommand): void {
    if (!this.exited) this.worker.postMessage(cmd);
  }

  /** End the thread on purpose (its runs are done): not a crash. */
  async terminate(): Promise<void> {
    this.closing = true;
    if (!this.exited) await this.worker.terminate();
  }
}
