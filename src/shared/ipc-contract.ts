// The one contract between the window and the main-process services: commands (request → response)
// and events (pushed). Both transports (Electron IPC via the preload, WebSocket via `loadscope serve`)
// carry exactly these, and main validates every request with these schemas.
import { z } from 'zod';
import { RunConfigInputSchema, type FieldError, type RunConfig } from './run-config';
import { COMMAND_NAMES, EVENT_NAMES } from './ipc-names';
import { SweepSpecSchema, type SweepDetail, type SweepInfo } from './sweep';
import type { RunFacets } from './run-facets';
import type { RunCostReport } from './cost-model';
import type { BackendInfo, EvalReport, RunStatus, RunSummary, StepReport, TopTokensReport } from './reports';

const runId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not a run id');
const step = z.number().int().min(0);
const RunRef = z.object({ runId });

export const SERIES_IDS = ['scalars', 'loads', 'eval', 'top-tokens'] as const;

export const commandSchemas = {
  getSystemInfo: z.object({}),
  startRun: z.object({ config: RunConfigInputSchema }),
  pauseRun: RunRef,
  resumeRun: RunRef,
  stopRun: RunRef,
  checkpointRun: RunRef,
  listRuns: z.object({}),
  getRun: RunRef,
  renameRun: z.object({ runId, name: z.string().trim().min(1).max(120) }),
  tagRun: z.object({ runId, tags: z.array(z.string().trim().min(1).max(40)).max(20) }),
  deleteRun: z.object({ runId }),
  /** per-step scalars, downsampled to at most maxPoints */
  getScalars: z.object({ runId, fromStep: step.optional(), toStep: step.optional(), maxPoints: z.number().int().min(2).max(20000).default(2000) }),
  /** expert × step heatmap of one layer, at most maxColumns columns (mean and max per bucket) */
  getHeatmap: z.object({ runId, layer: z.number().int().min(0), fromStep: step.optional(), toStep: step.optional(), maxColumns: z.number().int().min(1).max(4000).default(400) }),
  /** layer × expert loads at one step (latest when step is absent) */
  getLoadsAt: z.object({ runId, step: step.optional() }),
  getExpert: z.object({ runId, layer: z.number().int().min(0), expert: z.number().int().min(0), maxPoints: z.number().int().min(2).max(20000).default(2000) }),
  listCheckpoints: RunRef,
  /** continue this run from one of its checkpoints (later steps are discarded into a backup) */
  resumeFromCheckpoint: z.object({ runId, step, steps: z.number().int().min(1).max(10_000_000).optional() }),
  /** a new run starting from a checkpoint of this one, with optional config changes */
  branchRun: z.object({ runId, step, name: z.string().trim().min(1).max(120).optional(), steps: z.number().int().min(1).max(10_000_000).optional() }),
  exportSeries: z.object({ runId, series: z.enum(SERIES_IDS), format: z.enum(['csv', 'json']) }),
  /** read a user-picked text file's size and first bytes (file datasets); path from the file picker */
  inspectDataFile: z.object({ path: z.string().min(1) }),
  // sweeps (src/shared/sweep.ts): a grid of runs on the training slots, one manifest per sweep
  startSweep: z.object({ spec: SweepSpecSchema }),
  resumeSweep: z.object({ sweepId: z.string().regex(/^sweep-[0-9-]+-[0-9a-f]{6}$/, 'not a sweep id') }),
  cancelSweep: z.object({ sweepId: z.string().regex(/^sweep-[0-9-]+-[0-9a-f]{6}$/, 'not a sweep id') }),
  listSweeps: z.object({}),
  getSweep: z.object({ sweepId: z.string().regex(/^sweep-[0-9-]+-[0-9a-f]{6}$/, 'not a sweep id') }),
  /** hyper-parameters, notes, sweep and parent of every run (runs list columns and filters) */
  listRunFacets: z.object({}),
  /** a run's free-text notes (empty clears them) */
  setRunNotes: z.object({ runId, notes: z.string().max(20_000, 'notes are limited to 20,000 characters') }),
} as const;

export type CommandName = keyof typeof commandSchemas;
export { COMMAND_NAMES, EVENT_NAMES };
// compile-time check that the plain name list (used by the preload, which must not bundle zod) matches the schemas
const _namesMatch: Record<CommandName, true> = Object.fromEntries(COMMAND_NAMES.map((n) => [n, true])) as Record<(typeof COMMAND_NAMES)[number], true>;
void _namesMatch;
export type CommandRequest<C extends CommandName> = z.input<(typeof commandSchemas)[C]>;

export interface RunListItem {
  runId: string;
  name: string;
  status: RunStatus;
  strategy: string;
  preset: string;
  tags: string[];
  createdAt: string;
  steps: number;
  totalSteps: number;
  avgMaxVio: number | null;
  supMaxVio: number | null;
  perplexity: number | null;
  /** mean drop rate over the run's steps (dropped slots ÷ k·T); > 0 means the routed MaxVio flatters it */
  dropRate?: number | null;
  /** AvgMaxVio of the demanded load (top-k before capacity) */
  demandAvgMaxVio?: number | null;
  /** training time so far: the sum of step times */
  trainMs?: number | null;
  /** 1-based place in the training queue while the run waits for a slot */
  queuePosition?: number;
  /** while queued: 'shared-worker' for a tfjs-node run, which also waits for the one shared engine worker */
  queuedFor?: 'slot' | 'shared-worker';
  /** the run opened read-only because something was damaged */
  warnings: string[];
  /** written by another trainer (docs/trainers.md): read-only, no pause / stop / checkpoint */
  source?: 'external';
}

export interface CheckpointInfo {
  step: number;
  createdAt: string;
  bytes: number;
  reason: string;
}

export interface ScalarSeries {
  steps: number[];
  loss: number[];
  maxVio: number[];
  avgMaxVio: number[];
  supMaxVio: number[];
  tokensPerSec: number[];
  lr: number[];
  /** per step: dropped slots ÷ k·T, demanded MaxVio, load entropy, CV (means over layers), idle and dead experts (sums) */
  dropRate: number[];
  avgDropRate: number[];
  demandMaxVio: number[];
  demandAvgMaxVio: number[];
  entropy: number[];
  cv: number[];
  idle: number[];
  dead: number[];
  /** training time up to each step (sum of step times) */
  elapsedMs: number[];
  /** mean MaxVio of the step's micro-batches (gradient accumulation; NaN / null when one batch per step) */
  maxVioMicro: number[];
  eval: Array<{ step: number; valLoss: number; valPerplexity: number; valMaxVio: number; lossGap?: number }>;
}

export interface Heatmap {
  layer: number;
  experts: number;
  /** first step of each column */
  stepStarts: number[];
  /** last step of each column */
  stepEnds: number[];
  /** expert-major: mean[e * columns + c] and max[e * columns + c] of the load count */
  mean: number[];
  max: number[];
  /** ideal load k·T/N of one step, for colour = load ÷ ideal */
  idealLoad: number;
}

export interface SystemInfo {
  version: string;
  runsDir: string;
  /** which backends this machine can load, best first */
  backends: Array<{ name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'; available: boolean; detail: string }>;
  maxConcurrentRuns: number;
  transport: 'electron' | 'websocket';
}

export interface RunDetail extends RunListItem {
  config: RunConfig;
  backend: BackendInfo | null;
  summary: RunSummary | null;
  failure: string | null;
  readOnly: boolean;
  /** a branch: the run and step it started from */
  parent?: { runId: string; step: number } | null;
  /** external runs: the trainer's framework, the config fields it did not declare (show as unknown) */
  external?: { framework: string; unknown: string[]; tokensPerStep: number | null; loadsCounted: 'before-drop' | 'after-drop' | null };
  /** the expert-parallel cost model over the run and at its latest step (src/shared/cost-model.ts) */
  costModel?: RunCostReport;
}

export interface CommandResponses {
  getSystemInfo: SystemInfo;
  startRun: { runId: string };
  pauseRun: { ok: true };
  resumeRun: { ok: true };
  stopRun: { ok: true };
  checkpointRun: { step: number };
  listRuns: RunListItem[];
  getRun: RunDetail;
  renameRun: { ok: true };
  tagRun: { ok: true };
  deleteRun: { ok: true };
  getScalars: ScalarSeries;
  getHeatmap: Heatmap;
  /** gateMassLE: mean gate score per (layer, expert), when that step is the run's latest and recorded it */
  getLoadsAt: { step: number; layers: number; experts: number; loadsLE: number[]; idealLoad: number; gateMassLE?: number[] };
  getExpert: { steps: number[]; share: number[]; idealShare: number; overStreakMax: number; underStreakMax: number; topTokens: Array<[number | string, number]> };
  listCheckpoints: CheckpointInfo[];
  resumeFromCheckpoint: { runId: string };
  branchRun: { runId: string };
  exportSeries: { filename: string; mime: string; content: string };
  inspectDataFile: { bytes: number; preview: string };
  startSweep: { sweepId: string; runIds: string[] };
  resumeSweep: { sweepId: string; runIds: string[] };
  cancelSweep: { stopped: number };
  listSweeps: SweepInfo[];
  getSweep: SweepDetail;
  listRunFacets: RunFacets[];
  setRunNotes: { ok: true };
}
export type CommandResponse<C extends CommandName> = CommandResponses[C];

/** A failed command: `code` for programs, `message` for people; fieldErrors for forms. */
export interface CommandError {
  code: 'invalid' | 'not-found' | 'conflict' | 'read-only' | 'internal';
  message: string;
  fieldErrors?: FieldError[];
}
export type CommandResult<C extends CommandName> = { ok: true; value: CommandResponse<C> } | { ok: false; error: CommandError };

/** balance figures every frame point carries (live runs list, Compare, curves) */
export type FramedBalance = 'dropRate' | 'avgDropRate' | 'demandMaxVio' | 'demandAvgMaxVio' | 'entropy' | 'cv' | 'idle' | 'dead' | 'elapsedMs' | 'maxVioMicro';

/** Pushed events. run:frame is coalesced to at most ~20 per second per run. */
export interface EventPayloads {
  'run:frame': {
    runId: string;
    /** latest step in this frame */
    step: number;
    totalSteps: number;
    /** scalar points of every step since the previous frame (none skipped) */
    points: Array<Pick<StepReport, 'step' | 'loss' | 'maxVio' | 'avgMaxVio' | 'supMaxVio' | 'tokensPerSec' | 'lr' | 'dropped'> & Partial<Pick<StepReport, FramedBalance>>>;
    /** the latest step's loads, layer-major, as plain numbers */
    loadsLE: number[];
    /** the latest step's mean gate score per (layer, expert) */
    gateMassLE?: number[];
    layers: number;
    experts: number;
    idealLoad: number;
    etaMs: number | null;
    eval?: EvalReport;
    topTokens?: TopTokensReport;
  };
  /**
   * queuePosition: 1-based place in the training queue, sent to every queued run whenever the queue changes;
   * queuedFor 'shared-worker': a tfjs-node run, which also waits for the one shared engine worker to be idle
   */
  'run:status': { runId: string; status: RunStatus; message?: string; backend?: BackendInfo; queuePosition?: number; queuedFor?: 'slot' | 'shared-worker' };
  'runs:changed': { reason: string };
}
export type EventName = keyof EventPayloads;

/** What the renderer talks to; the preload and the WebSocket client both implement it. */
export type LoadscopeApi = {
  [C in CommandName]: (request: CommandRequest<C>) => Promise<CommandResult<C>>;
} & {
  /** returns an unsubscribe function */
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void;
};

/** WebSocket framing for `loadscope serve`. */
export type WireClientMessage = { id: number; command: string; request: unknown };
export type WireServerMessage =
  | { id: number; result: CommandResult<CommandName> }
  | { event: EventName; payload: unknown }
  | { error: string };
