// The run store's API as the services use it (implementation: run-store.ts; format: docs/run-format.md).
import type { CheckpointData } from '../../shared/worker-protocol';
import type { RunConfig } from '../../shared/run-config';
import type { BackendInfo, EvalReport, RunStatus, RunSummary, StepReport, TopTokensReport } from '../../shared/reports';
import type { CheckpointInfo, Heatmap, RunListItem, ScalarSeries, CommandResponses } from '../../shared/ipc-contract';

export interface RunMeta {
  runId: string;
  name: string;
  createdAt: string;
  tags: string[];
  status: RunStatus;
  backend: BackendInfo | null;
  failure: string | null;
  summary: RunSummary | null;
  /** a branch records where it came from */
  parent: { runId: string; step: number } | null;
  /** a run queued by a sweep: the sweep's id and the run's grid cell (absent otherwise) */
  sweep?: { id: string; cell: string };
  formatVersion: number;
  /** "external": written by another trainer (docs/trainers.md), which owns its status */
  source?: 'external';
  /** the trainer's framework, for external runs */
  framework?: string;
}

/** Appends to one run folder. Appends are synchronous and cheap (called once per training step). */
export interface RunWriter {
  readonly runId: string;
  readonly dir: string;
  appendStep(report: StepReport): void;
  appendEval(report: EvalReport): void;
  appendTopTokens(report: TopTokensReport): void;
  setStatus(status: RunStatus, extra?: { backend?: BackendInfo; failure?: string; summary?: RunSummary }): void;
  /** atomic (temp file, fsync, rename); prunes to the run's keepCheckpoints, never the newest */
  writeCheckpoint(checkpoint: CheckpointData, reason: string): Promise<CheckpointInfo>;
  close(): Promise<void>;
}

/** A read view of one run; damaged runs open read-only with warnings saying what was dropped. */
export interface RunReader {
  /** the run folder */
  readonly dir: string;
  readonly meta: RunMeta;
  readonly config: RunConfig;
  readonly warnings: string[];
  readonly readOnly: boolean;
  /** external runs: the framework and what their config did not declare */
  readonly external: import('./external').ExternalInfo | null;
  /** the last complete lines of steps.jsonl and eval.jsonl (no full parse) */
  lastRecords(): { step: Record<string, unknown> | null; eval: Record<string, unknown> | null };
  /** the last complete step on disk */
  readonly lastStep: number;
  scalars(opts: { fromStep?: number; toStep?: number; maxPoints: number }): ScalarSeries;
  heatmap(layer: number, opts: { fromStep?: number; toStep?: number; maxColumns: number }): Heatmap;
  /** exact per-layer loads of a step range (inclusive): rows[step - fromStep] is layer-major L×E */
  loadRows(fromStep: number, toStep: number): Float32Array[];
  loadsAt(step?: number): CommandResponses['getLoadsAt'];
  expert(layer: number, expert: number, maxPoints: number): CommandResponses['getExpert'];
  listCheckpoints(): CheckpointInfo[];
  readCheckpoint(step: number): Promise<CheckpointData>;
  exportSeries(series: 'scalars' | 'loads' | 'eval' | 'top-tokens', format: 'csv' | 'json'): { filename: string; mime: string; content: string };
  close(): void;
}

export interface RunStoreApi {
  readonly root: string;
  create(config: RunConfig, opts?: { name?: string; parent?: { runId: string; step: number }; sweep?: { id: string; cell: string } }): Promise<RunWriter>;
  /**
   * Reopen a run to append more steps (resume). Steps after `truncateAfterStep` are moved aside into a
   * backup file inside the run folder (never deleted) so the series continue seamlessly.
   */
  openWriter(runId: string, opts?: { truncateAfterStep?: number; totalSteps?: number }): Promise<RunWriter>;
  open(runId: string): Promise<RunReader>;
  list(): Promise<RunListItem[]>;
  rename(runId: string, name: string): Promise<void>;
  tag(runId: string, tags: string[]): Promise<void>;
  delete(runId: string): Promise<void>;
  /** Mark runs left 'running' by a crashed or killed writer as 'failed' (services: on start-up); returns their ids. */
  markCrashedRuns?(): Promise<string[]>;
}
