// Starts, controls and watches training runs: one engine worker per run, or for runs on the native
// tfjs-node backend (whose addon loads in one thread per process) one shared long-lived worker they queue
// for (worker-pool.ts); every report appended to the run store, coalesced frames and statuses pushed.
import { existsSync } from 'node:fs';
import type { EventName, EventPayloads } from '../../shared/ipc-contract';
import { resolveRunConfig, type RunConfig } from '../../shared/run-config';
import type { RunStatus, RunSummary } from '../../shared/reports';
import type { WorkerReport } from '../../shared/worker-protocol';
import { engineWorkerEntry, type WorkerEntry } from '../engine/worker-path';
import type { RunStoreApi } from '../store/types';
import { totalmem } from 'node:os';
import { memoryProblem } from '../../shared/memory-estimate';
import { conflict, invalid, messageOf, notFound, ServiceError, storeFailure } from './errors';
import { RunFrames } from './run-frames';
import { RunQueue } from './run-queue';
import { RunSession } from './run-session';
import type { WorkerHost } from './worker-host';
import { usesNativeBackend } from './system-info';
import { defaultPlacement, WorkerPool, type Placement } from './worker-pool';
import { webgpuUnavailable } from '../engine/worker-path';
import { INTERRUPTED_MESSAGE, loadCheckpoint, recoverInterrupted, withTimeout } from './run-origins';

export interface TrainingServiceOptions {
  store: RunStoreApi;
  emit<E extends EventName>(event: E, payload: EventPayloads[E]): void;
  /** read on every scheduling decision, so a settings change applies to the next start */
  maxConcurrentRuns(): number;
  workerEntry?: () => WorkerEntry;
  /** 'shared': the run trains in the one long-lived worker, one run at a time (default: defaultPlacement) */
  placement?: (config: RunConfig) => Placement;
  /** every worker report, unthrottled, after it was stored (the CLI prints steps from here) */
  onReport?: (msg: WorkerReport) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
  checkpointTimeoutMs?: number;
}

export { INTERRUPTED_MESSAGE };

/** Refuse, before any folder is made or worker started, a model the backend cannot hold. */
function assertFits(config: RunConfig): void {
  const backend = usesNativeBackend(config) ? 'tensorflow' : config.backend === 'cpu' ? 'cpu' : 'wasm';
  const problem = memoryProblem(config.model, { dense: config.dispatch === 'dense', backend, machineBytes: totalmem() });
  if (problem) throw invalid(problem, [{ path: config.preset === 'custom' ? 'model' : 'preset', message: problem }]);
}

export class TrainingService {
  private readonly runs = new Map<string, RunSession>();
  private readonly queue = new RunQueue((status) => this.opts.emit('run:status', status));
  private readonly pool: WorkerPool;
  private disposed = false;
  /** why each ended run failed (also when meta.json could not take the reason) */
  private readonly failures = new Map<string, string | null>();

  constructor(private readonly opts: TrainingServiceOptions) {
    this.pool = new WorkerPool(opts.workerEntry ?? engineWorkerEntry, {
      report: (h, m) => this.onReport(h, m),
      crashed: (h, reason, ids) => this.onCrash(h, reason, ids),
    });
  }

  /** Mark runs a dead process left running/paused as failed (see recovery.ts). */
  recoverInterrupted(): Promise<string[]> {
    return recoverInterrupted(this.opts.store, (id) => this.runs.has(id), this.opts.emit, (l, m) => this.log(l, m));
  }

  /** `sweep`: the sweep this run belongs to (recorded in its meta.json). */
  async start(input: unknown, extra?: { sweep?: { id: string; cell: string } }): Promise<{ runId: string }> {
    this.assertOpen();
    const resolved = resolveRunConfig(input);
    if (!resolved.ok) throw invalid(`invalid run config: ${resolved.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, resolved.errors);
    const data = resolved.config.data;
    if (data.kind === 'file' && !existsSync(data.path)) throw invalid(`data file not found: ${data.path}`, [{ path: 'data.path', message: `file not found: ${data.path}` }]);
    await this.assertBackendUsable(resolved.config);
    const name = (input as { name?: string } | null)?.name;
    assertFits(resolved.config);
    const writer = await this.opts.store.create(resolved.config, { ...(name ? { name } : {}), ...(extra?.sweep ? { sweep: extra.sweep } : {}) });
    return this.enqueue(new RunSession(writer.runId, resolved.config, writer, this.framesFor(writer.runId, resolved.config)));
  }

  /** Continue a run from one of its checkpoints; `steps` is the new total (default: the config's). */
  async resumeFromCheckpoint(runId: string, step: number, steps?: number): Promise<{ runId: string }> {
    this.assertOpen();
    if (this.runs.has(runId)) throw conflict(`run ${runId} is already ${this.runs.get(runId)!.status}`);
    const { config, checkpoint } = await loadCheckpoint(this.opts.store, runId, step, steps);
    await this.assertBackendUsable(config);
    assertFits(config);
    // no checkpoint (step 0): everything recorded moves to backup/ and the run trains from scratch
    const writer = await this.opts.store.openWriter(runId, { truncateAfterStep: checkpoint ? step : -1, totalSteps: config.steps });
    return this.enqueue(new RunSession(runId, config, writer, this.framesFor(runId, config), checkpoint ?? undefined));
  }

  /** A new run that starts from a checkpoint of another one. */
  async branch(runId: string, step: number, name?: string, steps?: number): Promise<{ runId: string }> {
    this.assertOpen();
    const { config, checkpoint, parentName } = await loadCheckpoint(this.opts.store, runId, step, steps);
    if (!checkpoint) throw notFound(`run ${runId} has no checkpoint at step ${step} to branch from`);
    await this.assertBackendUsable(config);
    assertFits(config);
    const writer = await this.opts.store.create(config, { name: name ?? `${parentName} from step ${step}`, parent: { runId, step } });
    // a branch's running figures (AvgMaxVio, drop rate, training time) cover its own steps: drop the parent's
    const own = { ...checkpoint, meta: { ...checkpoint.meta, vio: undefined, balance: undefined, elapsedMs: 0 } };
    const session = new RunSession(writer.runId, config, writer, this.framesFor(writer.runId, config), own);
    session.parent = { runId, step };
    return this.enqueue(session);
  }

  /** An explicit webgpu choice without a usable adapter fails here, before a run folder exists. */
  private async assertBackendUsable(config: RunConfig): Promise<void> {
    if (config.backend !== 'webgpu') return;
    const why = await webgpuUnavailable();
    if (why) throw invalid(why);
  }

  pause(runId: string): void {
    const run = this.launched(runId);
    if (run.status !== 'running') throw conflict(`run ${runId} is ${run.status}, not running`);
    run.host!.post({ type: 'pause', runId });
  }

  resume(runId: string): void {
    const run = this.launched(runId);
    if (run.status !== 'paused') throw conflict(`run ${runId} is ${run.status}, not paused`);
    run.host!.post({ type: 'resume', runId });
  }

  /** Ask the run to stop; it writes a final checkpoint and ends 'stopped' (awaited by waitFor). */
  async stop(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run) throw notFound(`run ${runId} is not training`);
    if (this.queue.remove(run)) {
      // cancelling a queued run: it never trained, so it ends 'stopped' with no checkpoint, and the runs behind move up
      await this.end(run, 'stopped', undefined, 'cancelled before it started');
      this.queue.announcePlaces();
      return;
    }
    run.host!.post({ type: 'stop', runId });
  }

  /** Checkpoint now; resolves with the checkpoint's step once it is on disk. */
  checkpoint(runId: string, reason: 'manual' | 'quit' = 'manual'): Promise<number> {
    const run = this.launched(runId);
    const timeoutMs = this.opts.checkpointTimeoutMs ?? 60_000;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ServiceError('internal', `no checkpoint from run ${runId} within ${timeoutMs / 1000} s`)), timeoutMs);
      run.waiters.push({
        reason,
        resolve: (s) => (clearTimeout(timer), resolve(s)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      run.host!.post({ type: 'checkpoint', runId, reason });
    });
  }

  /** The final status of a run the service holds (immediately null if it holds none). */
  waitFor(runId: string): Promise<RunStatus | null> {
    return this.runs.get(runId)?.done ?? Promise.resolve(null);
  }

  /** The failure reason of a run that ended in this service (null: none, or not ended here). */
  failureOf(runId: string): string | null {
    return this.failures.get(runId) ?? null;
  }

  statusOf(runId: string): RunStatus | null {
    return this.runs.get(runId)?.status ?? null;
  }

  activeRunIds(): string[] {
    return [...this.runs.keys()];
  }

  /** The worker thread of a run (diagnostics and crash tests). */
  workerOf(runId: string): WorkerHost['worker'] | null {
    return this.runs.get(runId)?.host?.worker ?? null;
  }

  /** Quit: checkpoint and stop every run, then end the workers. Queued runs are marked stopped. */
  async dispose(timeoutMs = 30_000): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const run of this.queue.drain()) await this.end(run, 'stopped');
    const live = [...this.runs.values()];
    await Promise.all(
      live.map(async (run) => {
        try {
          await withTimeout(this.checkpoint(run.runId, 'quit'), timeoutMs);
        } catch (err) {
          this.log('warn', `run ${run.runId}: no checkpoint at quit (${messageOf(err)})`);
        }
        run.host?.post({ type: 'stop', runId: run.runId });
        const ended = await withTimeout(run.done, timeoutMs).catch(() => null);
        if (!ended) await this.end(run, 'failed', 'did not stop in time when Loadscope quit');
      }),
    );
    await this.pool.dispose();
  }

  // ---- internals ----

  private framesFor(runId: string, config: RunConfig): RunFrames {
    return new RunFrames(runId, config.steps, config.model.topK, (frame) => this.opts.emit('run:frame', frame));
  }

  private enqueue(run: RunSession): { runId: string } {
    run.shared = (this.opts.placement ?? defaultPlacement)(run.config) === 'shared';
    this.runs.set(run.runId, run);
    this.queue.push(run);
    this.opts.emit('runs:changed', { reason: 'run created' });
    this.pump();
    return { runId: run.runId };
  }

  /** 1-based place of a run in the training queue; null when it is not queued. */
  queuePositionOf(runId: string): number | null {
    return this.queue.positionOf(runId);
  }

  /** What a queued run waits for: a free slot, or also the shared engine worker (tfjs-node); null when not queued. */
  queuedForOf(runId: string): 'slot' | 'shared-worker' | null {
    return this.queue.waitsFor(runId);
  }

  /** The figures of a run still training (the stored summary is written only when it ends). */
  liveSummaryOf(runId: string): RunSummary | null {
    return this.runs.get(runId)?.summary() ?? null;
  }

  /** Start queued runs while there are free slots; a shared run also waits until the shared worker is idle. */
  private pump(): void {
    while (this.runs.size - this.queue.length < Math.max(1, this.opts.maxConcurrentRuns())) {
      const run = this.queue.takeNext((r) => !r.shared || this.pool.sharedFree());
      if (!run) break;
      this.launch(run);
    }
    this.queue.announcePlaces();
  }

  private launch(run: RunSession): void {
    const host = this.pool.acquire(run.runId, run.shared ? 'shared' : 'own');
    run.host = host;
    run.markLaunched();
    this.setStatus(run, 'running');
    host.post({ type: 'start', runId: run.runId, config: run.config, resumeFrom: run.resumeFrom });
  }

  private onReport(host: WorkerHost, msg: WorkerReport): void {
    if (msg.type === 'idle') {
      // after its run has left the service: the shared worker takes the next queued run now
      if (this.pool.idle(host, msg) && !this.disposed) this.pump();
      this.opts.onReport?.(msg);
      return;
    }
    const run = this.runs.get(msg.runId);
    if (!run || run.host !== host) return;
    // a checkpoint that could not be written fails the run: nothing may report a save that did not happen
    const onError = (err: unknown) => {
      const reason = storeFailure(err, msg.type === 'checkpoint' ? `the checkpoint of step ${msg.checkpoint.step}` : 'the run');
      run.storeFailure ??= reason;
      this.log('warn', `run ${run.runId}: ${reason}`);
      void this.end(run, 'failed', reason);
    };
    try {
      switch (msg.type) {
        case 'ready':
          run.backend = msg.backend;
          this.setStatus(run, 'running');
          break;
        case 'step':
          run.writer.appendStep(msg.report);
          run.addStep(msg.report);
          run.frames.addStep(msg.report);
          break;
        case 'eval':
          run.writer.appendEval(msg.report);
          run.lastEval = msg.report;
          run.frames.addEval(msg.report);
          break;
        case 'top-tokens':
          run.writer.appendTopTokens(msg.report);
          run.frames.addTopTokens(msg.report);
          break;
        case 'checkpoint': {
          const p = run.track(run.writer.writeCheckpoint(msg.checkpoint, msg.reason), onError);
          p.then(
            (info) => {
              run.settleWaiters(msg.reason, info.step);
              // checkpoint lists refresh while the run trains, not only when it ends
              this.opts.emit('runs:changed', { reason: `checkpoint ${info.step} written` });
            },
            (err: unknown) => run.settleWaiters(msg.reason, new Error(`checkpoint not written: ${messageOf(err)}`)),
          );
          break;
        }
        case 'state':
          this.setStatus(run, msg.state);
          break;
        case 'finished':
          run.workerDone = true;
          void this.end(run, msg.state);
          break;
        case 'failed':
          run.workerDone = true;
          void this.end(run, 'failed', msg.message);
          break;
        case 'log':
          this.log(msg.level, `run ${msg.runId}: ${msg.message}`);
          break;
      }
    } catch (err) {
      // a store failure must not take the service down: the run fails with the reason
      const reason = storeFailure(err, msg.type === 'step' ? `step ${msg.report.step}` : `the ${msg.type} report`);
      run.storeFailure ??= reason;
      void this.end(run, 'failed', reason);
      return;
    }
    this.opts.onReport?.(msg);
  }

  private onCrash(host: WorkerHost, reason: string, runIds: string[]): void {
    this.pool.crashed(host);
    const why = host.shared ? `${reason} (the shared worker; the next run starts a new one)` : reason;
    for (const id of runIds) {
      const run = this.runs.get(id);
      if (run && run.host === host) void this.end(run, 'failed', why);
    }
  }

  private setStatus(run: RunSession, status: RunStatus, message?: string): void {
    run.status = status;
    run.frames.flush();
    run.writer.setStatus(status, { ...(run.backend ? { backend: run.backend } : {}) });
    this.opts.emit('run:status', { runId: run.runId, status, ...(message ? { message } : {}), ...(run.backend ? { backend: run.backend } : {}) });
  }

  /** A run leaves the service: final status, summary, writer closed, worker released. */
  private async end(run: RunSession, status: RunStatus, failure?: string, note?: string): Promise<void> {
    if (run.ending || this.runs.get(run.runId) !== run) return;
    run.ending = true;
    run.frames.flush();
    ({ status, failure } = await run.closeFolder(status, failure, (m) => this.log('warn', `run ${run.runId}: ${m}`)));
    this.failures.set(run.runId, failure ?? null);
    if (run.host) this.pool.release(run.host, run.runId, !run.workerDone);
    this.runs.delete(run.runId);
    run.finish(status);
    const message = failure ?? note;
    this.opts.emit('run:status', { runId: run.runId, status, ...(message ? { message } : {}), ...(run.backend ? { backend: run.backend } : {}) });
    this.opts.emit('runs:changed', { reason: `run ${status}` });
    if (!this.disposed) this.pump();
  }

  private launched(runId: string): RunSession {
    const run = this.runs.get(runId);
    if (!run) throw notFound(`run ${runId} is not training`);
    if (!run.host) throw conflict(`run ${runId} is queued and has not started yet`);
    return run;
  }

  private assertOpen(): void {
    if (this.disposed) throw conflict('Loadscope is shutting down');
  }

  private log(level: 'info' | 'warn', message: string): void {
    (this.opts.log ?? ((l, m) => (l === 'warn' ? console.warn(m) : console.log(m))))(level, message);
  }
}
