// Appends to one run folder: loads record first, then the steps.jsonl line that commits the step.
import { closeSync, fsyncSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../shared/run-config';
import type { BackendInfo, EvalReport, RunStatus, RunSummary, StepReport, TopTokensReport } from '../../shared/reports';
import type { CheckpointData } from '../../shared/worker-protocol';
import type { CheckpointInfo } from '../../shared/ipc-contract';
import type { RunMeta, RunWriter } from './types';
import { DTYPE_FLOAT32, FILES, idealLoadOf } from './format';
import { lockContent, openWritersHere } from './fs-util';
import { LoadsAppender } from './loads-writer';
import { readMeta, writeMeta } from './meta';
import { pruneCheckpoints, writeCheckpointFile } from './checkpoint-io';

export class RunWriterImpl implements RunWriter {
  private stepsFd: number;
  private evalFd: number;
  private topFd: number;
  private closed = false;

  constructor(
    readonly runId: string,
    readonly dir: string,
    private meta: RunMeta,
    private config: RunConfig,
    private loads: LoadsAppender | null,
    /** last step on disk: appends must come after it */
    private lastStep: number,
  ) {
    this.stepsFd = openSync(join(dir, FILES.steps), 'a');
    this.evalFd = openSync(join(dir, FILES.eval), 'a');
    this.topFd = openSync(join(dir, FILES.topTokens), 'a');
    writeFileSync(join(dir, FILES.lock), lockContent());
    openWritersHere.add(dir);
  }

  private check(): void {
    if (this.closed) throw new Error(`run ${this.runId}: writer is closed`);
  }

  appendStep(report: StepReport): void {
    this.check();
    if (!(report.step > this.lastStep)) throw new Error(`run ${this.runId}: step ${report.step} is not after the last step ${this.lastStep}`);
    if (!this.loads) {
      const { layers, experts } = report;
      this.loads = LoadsAppender.create(this.dir, { layers, experts, dtype: DTYPE_FLOAT32, idealLoad: idealLoadOf(this.config.model) });
    }
    const h = this.loads.header;
    if (report.layers !== h.layers || report.experts !== h.experts) {
      throw new Error(`run ${this.runId}: step ${report.step} reports ${report.layers}×${report.experts} loads, the run has ${h.layers}×${h.experts}`);
    }
    this.loads.append(report.step, report.loadsLE);
    // the steps.jsonl line commits the step: a crash before it leaves an uncommitted loads record, dropped on open
    const { loadsLE: _loads, maxVioL, ...scalars } = report;
    writeSync(this.stepsFd, JSON.stringify({ ...scalars, maxVioL: Array.from(maxVioL) }) + '\n');
    this.lastStep = report.step;
  }

  appendEval(report: EvalReport): void {
    this.check();
    writeSync(this.evalFd, JSON.stringify(report) + '\n');
  }

  appendTopTokens(report: TopTokensReport): void {
    this.check();
    writeSync(this.topFd, JSON.stringify(report) + '\n');
  }

  setStatus(status: RunStatus, extra: { backend?: BackendInfo; failure?: string; summary?: RunSummary } = {}): void {
    this.check();
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
    if (status !== 'running') this.sync();
    writeMeta(this.dir, this.meta);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.sync();
    this.loads?.close();
    closeSync(this.stepsFd);
    closeSync(this.evalFd);
    closeSync(this.topFd);
    rmSync(join(this.dir, FILES.lock), { force: true });
    openWritersHere.delete(this.dir);
    this.closed = true;
  }
}
