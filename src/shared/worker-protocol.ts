// The protocol between the training service (main thread) and an engine worker thread.
// Discriminated unions on `type`; errors travel as messages, never as thrown objects. A worker hosts one
// run at a time and any number in sequence: a 'start' is sent only after the previous run's 'idle'.
import type { RunConfig } from './run-config';
import type { BackendInfo, EvalReport, StepReport, TopTokensReport } from './reports';

/** A named array of a checkpoint: model weights, optimizer moments, strategy state. */
export interface NamedArray {
  /** e.g. "model/block0/attn/wq", "optimizer/m/model/block0/attn/wq", "strategy/layer0/q" */
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** Everything needed to continue a run exactly. */
export interface CheckpointData {
  /** completed steps at the time of the checkpoint */
  step: number;
  arrays: NamedArray[];
  /** JSON-able engine state: data cursor, random state, optimizer step count, running metrics */
  meta: Record<string, unknown>;
}

export type WorkerCommand =
  | { type: 'start'; runId: string; config: RunConfig; resumeFrom?: CheckpointData; stopAtStep?: number }
  | { type: 'pause'; runId: string }
  | { type: 'resume'; runId: string }
  | { type: 'stop'; runId: string }
  | { type: 'checkpoint'; runId: string; reason: 'manual' | 'quit' };

export type WorkerReport =
  | { type: 'ready'; runId: string; backend: BackendInfo; parameterCount: number }
  | { type: 'step'; runId: string; report: StepReport }
  | { type: 'eval'; runId: string; report: EvalReport }
  | { type: 'top-tokens'; runId: string; report: TopTokensReport }
  | { type: 'checkpoint'; runId: string; reason: 'manual' | 'periodic' | 'final' | 'quit'; checkpoint: CheckpointData }
  | { type: 'state'; runId: string; state: 'running' | 'paused' }
  /** the loop ended: all steps done ('completed') or a stop command ('stopped') */
  | { type: 'finished'; runId: string; state: 'completed' | 'stopped'; step: number }
  | { type: 'failed'; runId: string; message: string; stack?: string }
  /**
   * After 'finished' or 'failed': the run's trainer is disposed and the worker takes the next 'start'.
   * numTensors: tf.memory().numTensors now; leakedTensors: how many more than when the run began.
   */
  | { type: 'idle'; runId: string; threadId: number; numTensors: number; leakedTensors: number }
  | { type: 'log'; runId: string; level: 'info' | 'warn'; message: string };

/** Buffers of a report to pass in postMessage's transfer list (no copy across threads). */
export function transferablesOf(msg: WorkerReport): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (a: ArrayBufferView) => {
    if (a.buffer instanceof ArrayBuffer && !out.includes(a.buffer)) out.push(a.buffer);
  };
  if (msg.type === 'step') {
    add(msg.report.loadsLE);
    add(msg.report.maxVioL);
  } else if (msg.type === 'checkpoint') {
    for (const a of msg.checkpoint.arrays) add(a.data);
  }
  return out;
}
