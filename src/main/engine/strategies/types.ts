// The one interface every balancing strategy implements, one instance per MoE layer.
//
// Shape legend: T tokens in the batch, E experts, K = top-k slots per token.
//   scoresTE  gate scores (softmax or sigmoid of the router logits)
//   logitsTE  raw router logits
//   idxTK     chosen expert per (token, slot), row-major [T*K]
//   keepTK    1 = the slot is routed, 0 = dropped / left empty (capacity, optimal)
//   loadE     (token, slot) assignments per expert in this step
import type * as tf from '@tensorflow/tfjs-core';
import type { StrategyId, StrategyOptions } from '../../../shared/strategy-descriptors';

/** Fixed facts about one MoE layer's routing. */
export interface LayerSpec {
  layer: number;
  experts: number;
  topK: number;
  scoreFn: 'softmax' | 'sigmoid';
}

/** One batch's routing problem, outside the gradient tape (tensors are detached; the caller disposes them). */
export interface RoutingBatch {
  scoresTE: tf.Tensor2D;
  logitsTE: tf.Tensor2D;
  /** tokens per sequence (T = sequences × seqLen), for sequence-wise work */
  seqLen: number;
  /** false during validation: strategies must not change their state then */
  training: boolean;
  /**
   * Per-expert capacity C for this batch, overriding the strategy's own (bip, optimal); e.g. `loadscope route
   * --capacity`. Default: ⌈k·T/E⌉ (bip) or ⌈CF·k·T/E⌉ (optimal).
   */
  capacity?: number;
}

/** The experts each token goes to. */
export interface Selection {
  idxTK: Int32Array;
  keepTK: Uint8Array;
  /**
   * Each token's demanded choice before capacity or dropping, [T*K], when it differs from idxTK (optimal: plain
   * top-k of the gate scores). Absent: idxTK with every slot, dropped ones included, is the demand.
   */
  demandTK?: Int32Array;
}

/** What an auxiliary loss sees, inside the gradient tape. */
export interface AuxLossInputs {
  /** with gradient */
  logitsTE: tf.Tensor2D;
  /** with gradient */
  scoresTE: tf.Tensor2D;
  /** constant 0/1 mask [T, E] of the selected (token, expert) pairs */
  selectedTE: tf.Tensor2D;
  seqLen: number;
  /**
   * f_E of the whole optimizer step's batch (all micro-batches: selected slots per expert ÷ K·T_global), given
   * when a strategy asks for it (globalBatchAux) and the step routed every micro-batch first; a constant.
   */
  globalFractionE?: Float32Array;
}

export interface BalancingStrategy {
  readonly id: StrategyId;
  /** Choose the experts of every token. No gradient flows through this. */
  select(batch: RoutingBatch): Selection;
  /** Its aux loss wants AuxLossInputs.globalFractionE: the trainer routes all micro-batches of a step before the taped passes. */
  globalBatchAux?: boolean;
  /** A loss term added to the language-model loss, computed inside the gradient closure. */
  auxLoss?(inputs: AuxLossInputs): tf.Scalar;
  /**
   * Called once per training step after the optimizer step, with this layer's load of that step: with
   * gradient accumulation the load of the global batch (summed over the micro-batches), as Megatron does.
   */
  afterStep?(loadE: Float32Array): void;
  /** Per-layer state a checkpoint must carry (biases, prices q, accumulators) as plain arrays. */
  getState(): Record<string, Float32Array>;
  setState(state: Record<string, Float32Array>): void;
  /** Plain numbers about the last select (e.g. sinkhorn iterations), for logs and tests; optional. */
  diagnostics?(): Record<string, number>;
  /** Free any tf variables or tensors the strategy owns. */
  dispose(): void;
}

export type StrategyFactory = (spec: LayerSpec, options: StrategyOptions) => BalancingStrategy;
