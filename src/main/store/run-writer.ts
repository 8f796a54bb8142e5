// Appends to one run folder: loads record first, then the steps.jsonl line that commits the step.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../shared/run-config';
import type { BackendInfo, EvalReport, RunStatus, RunSummary, StepReport, TopTokensReport } from '../../shared/reports';
import type { CheckpointData } from '../../shared/worker-protocol';
import type { CheckpointInfo } from '../../shared/ipc-contract';
import type { RunMeta, RunWriter } from './types';
import { DTYPE_FLOAT32, FILES, idealLoadOf } from './format';
import { acquireLock, openWritersHere, removeTempFiles, writeAllSync } from './fs-util';
import { conflict } from '../services/errors';
import { LoadsAppender } from './loads-writer';
import { readMeta, writeMeta } from './meta';
import { pruneCheckpoints, writeCheckpointFile } from './checkpoint-io';

export class RunWriterImpl implements RunWriter {
  private stepsFd: number;
  private evalFd: number;
  private topFd: number;
  private closed = false;
  /** the first failed append: later appends are refused, so a gap can never follow a lost record */
  private broken: unknown = null;

  constructor(
    readonly runId: string,
    readonly dir: string,
    private meta: RunMeta,
    private config: RunConfig,
    private loads: LoadsAppender | null,
    /** last step on disk: appends must come after it */
    private lastStep: number,
  ) {
    // the store takes the lock before it cuts the folder (openWriter); a writer made elsewhere takes it here
    if (!openWritersHere.has(dir) && !acquireLock(dir)) throw conflict(`run ${runId} is being written by another training`);
    try {
      this.stepsFd = openSync(join(dir, FILES.steps), 'a');
      this.evalFd = openSync(join(dir, FILES.eval), 'a');
      this.topFd = openSync(join(dir, FILES.topTokens), 'a');
    } catch (err) {
      this.releaseLock();
      throw err;
    }
  }

  /**
   * Append one JSONL line; a failed or short write is cut back off, so a torn line never stands for a
   * committed record.
   */
  private appendLine(fd: number, line: string): void {
    const before = fstatSync(fd).size;
    try {
      writeAllSync(fd, line);
    } catch (err) {
      try {
        ftruncateSync(fd, before);
      } catch {
        // the cut itself failed: the torn line is dropped when the run is opened again
      }
      throw err;
    }
  }

  private check(): void {
    if (this.closed) throw new Error(`run ${this.runId}: writer is closed`);
    if (this.broken) throw this.broken;
  }

  private guarded(f: () => void): void {
    this.check();
    try {
      f();
    } catch (err) {
      this.broken = err;
      throw err;
    }
  }

  appendStep(report: StepReport): void {
    this.guarded(() => this.appendStepNow(report));
  }

  private appendStepNow(report: StepReport): void {
    if (!(report.step > this.lastStep)) throw new Error(`run ${this.runId}: step ${report.step} is not after the last step ${this.lastStep}`);
    if (!this.loads) {
      const { layers, experts } = report;
      this.loads = LoadsAppender.create(this.dir, { layers, experts, dtype: DTYPE_FLOAT32, idealLoad: idealLoadOf(this.config.model, this.config.microBatches) });
    }
    const h = this.loads.header;
    if (report.layers !== h.layers || report.experts !== h.experts) {
      throw new Error(`run ${this.runId}: step ${report.step} reports ${report.layers}×${report.experts} loads, the run has ${h.layers}×${h.experts}`);
    }
    this.loads.append(report.step, report.loadsLE);
    // the steps.jsonl line commits the step: a crash before it leaves an uncommitted loads record, dropped on open
    const { loadsLE: _loads, maxVioL, ...scalars } = report;
    this.appendLine(this.stepsFd, JSON.stringify({ ...scalars, maxVioL: Array.from(maxVioL) }) + '\n');
    this.lastStep = report.step;
  }

  appendEval(report: EvalReport): void {
    this.guarded(() => this.appendLine(this.evalFd, JSON.stringify(report) + '\n'));
  }

  appendTopTokens(report: TopTokensReport): void {
    this.guarded(() => this.appendLine(this.topFd, JSON.stringify(report) + '\n'));
  }

  setStatus(status: RunStatus, extra: { backend?: BackendInfo; failure?: string; summary?: RunSummary } = {}): void {
    if (this.closed) throw new Error(`run ${this.runId}: writer is closed`);
    // name and tags may have been changed by rename/tag since this writer opened: start from the file
    const issues: string[] = [];
    const onDisk = readMeta(this.dir, this.runId, issues);
    const base = onDisk.ok ? onDisk.meta : this.meta;
    this.meta = {
      ...base,
      status,
      backend: extra.backend ?? base.backend,
      failure: extra.failure ?? (status === 'failed' ? base.failure : null),
      summary: extra.summary ?? base.summary,
    };
    if (status !== 'running') {
      try {
        this.sync();
      } catch (err) {
        if (status !== 'failed') throw err; // a failing disk still gets its 'failed' recorded if it can
      }
    }
    try {
      writeMeta(this.dir, this.meta);
    } catch {
      // a full disk: free what failed writes left (temp files) and try once more, so 'failed' gets recorded
      removeTempFiles(this.dir);
      removeTempFiles(join(this.dir, FILES.checkpoints));
      writeMeta(this.dir, this.meta);
    }
  }

  async writeCheckpoint(checkpoint: CheckpointData, reason: string): Promise<CheckpointInfo> {
    this.check();
    // the series up to the checkpoint are on disk before the checkpoint is
    this.sync();
    const info = await writeCheckpointFile(this.dir, checkpoint, reason);
    pruneCheckpoints(this.dir, this.config.keepCheckpoints);
    return info;
  }

  private sync(): void {
    this.loads?.sync();
    fsyncSync(this.stepsFd);
    fsyncSync(this.evalFd);
    fsyncSync(this.topFd);
  }

  /** Close every fd and release the lock even when a sync fails (the first error is rethrown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let first: unknown = null;
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (err) {
        first ??= err;
      }
    };
    attempt(() => this.sync());
    attempt(() => this.loads?.close());
    for (const fd of [this.stepsFd, this.evalFd, this.topFd]) attempt(() => closeSync(fd));
    removeTempFiles(this.dir);
    removeTempFiles(join(this.dir, FILES.checkpoints));
    this.releaseLock();
    if (first) throw first;
  }

  private releaseLock(): void {
    rmSync(join(this.dir, FILES.lock), { force: true });
    openWritersHere.delete(this.dir);
  }
}
