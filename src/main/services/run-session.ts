// The live state of one run inside the training service: its writer, its worker, its frames, the
// checkpoint requests waiting for the worker, and the figures for the final summary.
import type { RunConfig } from '../../shared/run-config';
import type { BackendInfo, EvalReport, RunStatus, RunSummary, StepReport } from '../../shared/reports';
import type { CheckpointData } from '../../shared/worker-protocol';
import type { RunWriter } from '../store/types';
import { messageOf, storeFailure } from './errors';
import type { RunFrames } from './run-frames';
import type { WorkerHost } from './worker-host';

interface CheckpointWaiter {
  reason: 'manual' | 'quit';
  resolve(step: number): void;
  reject(err: Error): void;
}

/** tokens/s samples kept for the median; beyond this, every other sample is dropped (stride doubles) */
const MAX_SAMPLES = 4096;

export class RunSession {
  status: RunStatus = 'created';
  /** end() has begun: the run still counts against the slots until its folder is closed */
  ending = false;
  /** trains in the shared worker (tfjs-node backend): such runs go one at a time */
  shared = false;
  /** the worker reported 'finished' or 'failed' for this run (else ending it must also stop it there) */
  workerDone = false;
  host: WorkerHost | null = null;
  backend: BackendInfo | null = null;
  lastReport: StepReport | null = null;
  lastEval: EvalReport | null = null;
  /** the first store write that failed: the run ends 'failed' with it */
  storeFailure: string | null = null;
  readonly waiters: CheckpointWaiter[] = [];
  private readonly writes = new Set<Promise<unknown>>();
  private readonly tpsSamples: number[] = [];
  private sampleStride = 1;
  private sampleCount = 0;
  /** when the worker was given the run (queue time is not wall time); null while queued */
  private launchedAt: number | null = null;
  /** 1-based place in the training queue while waiting; null once launched */
  queuePosition: number | null = null;
  /** a branch's origin, carried into its summary */
  parent: { runId: string; step: number } | null = null;
  /** resolves with the final status when the run leaves the service */
  readonly done: Promise<RunStatus>;
  private resolveDone!: (s: RunStatus) => void;

  constructor(
    readonly runId: string,
    public config: RunConfig,
    readonly writer: RunWriter,
    readonly frames: RunFrames,
    readonly resumeFrom?: CheckpointData,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Keep a store write in flight so closing waits for it; failures go to onError. */
  track<T>(p: Promise<T>, onError: (err: unknown) => void): Promise<T> {
    this.writes.add(p);
    p.then(
      () => this.writes.delete(p),
      (err: unknown) => {
        this.writes.delete(p);
        onError(err);
      },
    );
    return p;
  }

  async settled(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  markLaunched(): void {
    this.launchedAt ??= Date.now();
  }

  addStep(r: StepReport): void {
    this.lastReport = r;
    // the first step of a session includes kernel compilation and warm-up: keep it out of the median
    if (this.sampleCount++ === 0) return;
    if (this.sampleCount % this.sampleStride !== 0) return;
    this.tpsSamples.push(r.tokensPerSec);
    if (this.tpsSamples.length > MAX_SAMPLES) {
      for (let i = 0; i < this.tpsSamples.length / 2; i++) this.tpsSamples[i] = this.tpsSamples[2 * i];
      this.tpsSamples.length = Math.floor(this.tpsSamples.length / 2);
      this.sampleStride *= 2;
    }
  }

  summary(): RunSummary | null {
    const r = this.lastReport;
    if (!r) return null;
    const samples = this.tpsSamples.length > 0 ? this.tpsSamples : [r.tokensPerSec];
    const s: RunSummary = {
      steps: r.step,
      tokensPerSecMedian: median(samples),
      backend: this.backend?.name ?? 'unknown',
      finalLoss: r.loss,
      avgMaxVio: r.avgMaxVio,
      supMaxVio: r.supMaxVio,
      wallMs: this.launchedAt === null ? 0 : Date.now() - this.launchedAt,
      // the trainer's elapsedMs is the sum of step times, carried across resumes, reset for a branch
      trainMs: r.elapsedMs,
      dropRate: r.avgDropRate,
      demandAvgMaxVio: r.demandAvgMaxVio,
      demandSupMaxVio: r.demandSupMaxVio,
    };
    // gradient accumulation: the micro-batches' figures beside the global batch's avg/supMaxVio
    if (r.avgMaxVioMicro !== undefined) {
      s.avgMaxVioMicro = r.avgMaxVioMicro;
      s.supMaxVioMicro = r.supMaxVioMicro;
    }
    if (this.parent) s.parent = this.parent;
    if (this.lastEval) s.finalValPerplexity = this.lastEval.valPerplexity;
    return s;
  }

  settleWaiters(reason: string, step: number | Error): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (step instanceof Error) w.reject(step);
      else if (w.reason === reason) w.resolve(step);
      else continue;
      this.waiters.splice(i, 1);
    }
  }

  /**
   * Write the final status and summary and close the folder, once pending writes settled. A write that
   * failed while the run was ending (its last checkpoint), or fails now, turns any end into 'failed'.
   */
  async closeFolder(status: RunStatus, failure: string | undefined, warn: (message: string) => void): Promise<{ status: RunStatus; failure?: string }> {
    await this.settled();
    if (this.storeFailure) {
      status = 'failed';
      failure = this.storeFailure;
    }
    const summary = this.summary();
    try {
      this.writer.setStatus(status, { ...(this.backend ? { backend: this.backend } : {}), ...(failure ? { failure } : {}), ...(summary ? { summary } : {}) });
    } catch (err) {
      status = 'failed';
      failure = `${failure ? `${failure}; ` : ''}${storeFailure(err, 'meta.json')}`;
      warn(failure);
    }
    try {
      await this.writer.close();
    } catch (err) {
      if (status !== 'failed') {
        status = 'failed';
        failure = storeFailure(err, 'the run files at close');
        try {
          this.writer.setStatus('failed', { failure });
        } catch {
          // meta.json cannot be written either: the failure is still reported by the caller
        }
      }
      warn(`could not close its folder: ${messageOf(err)}`);
    }
    return { status, ...(failure ? { failure } : {}) };
  }

  finish(status: RunStatus): void {
    this.status = status;
    this.frames.dispose();
    this.settleWaiters('', new Error(`run ${this.runId} ended (${status}) before the checkpoint was written`));
    this.resolveDone(status);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
