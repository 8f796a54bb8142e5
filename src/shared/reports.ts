// What training produces, as plain numbers and typed arrays: the only things that leave the engine.
import type { StepCost } from './cost-model';

/** Which TF.js backend runs a training, as recorded in the run and shown in the UI. */
export interface BackendInfo {
  /** 'tensorflow' (tfjs-node or tfjs-node-gpu), 'webgpu', 'wasm' or 'cpu' */
  name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** e.g. "GPU: NVIDIA H100", "CPU (libtensorflow)", "wasm SIMD, 1 thread", "pure JS" */
  device: string;
  /** why faster backends were skipped, e.g. "tfjs-node-gpu: not installed" */
  notes: string[];
  /** the WebGPU adapter a 'webgpu' run trains on */
  adapter?: AdapterInfo;
}

/** A WebGPU adapter as Dawn describes it; software = CPU emulation (SwiftShader), for tests only. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  software: boolean;
}

export interface StepTiming {
  /** forward and backward pass, routing included */
  forwardBackwardMs: number;
  optimizerMs: number;
  /** routing + strategy work (gate scores, selection, strategy updates) inside the step */
  routingMs: number;
  totalMs: number;
}

/**
 * Balance figures of one step beyond routed MaxVio (docs/strategies.md "Metrics"). Per-layer arrays end in L,
 * layer-major per-expert arrays in LE; the plain names are the step's mean over layers (idle, dead: sums).
 */
export interface BalanceStep {
  /** MaxVio of the demanded load (each token's top-k choice before capacity or dropping) */
  demandMaxVioL: number[];
  demandMaxVio: number;
  /** running mean / max over steps of demandMaxVio */
  demandAvgMaxVio: number;
  demandSupMaxVio: number;
  /** dropped (token, slot) pairs ÷ k·T */
  dropRateL: number[];
  dropRate: number;
  /** running mean over steps of dropRate */
  avgDropRate: number;
  /** normalised entropy of the routed load, H(p)/ln E */
  entropyL: number[];
  entropy: number;
  /** coefficient of variation (population std / mean) of the routed load */
  cvL: number[];
  cv: number;
  /** experts with zero routed load this step (sum over layers for `idle`) */
  idleL: number[];
  idle: number;
  /** experts with zero routed load in each of the last DEAD_WINDOW (20) steps (sum over layers for `dead`) */
  deadL: number[];
  dead: number;
  /** demanded load per (layer, expert) */
  demandLoadsLE: number[];
  /** mean gate score (router probability) per (layer, expert) */
  gateMassLE: number[];
}

/**
 * One training step. Loads are counts of (token, slot) assignments, layer-major: loadsLE[l*E + e]. The engine
 * always fills the balance figures; they are optional for steps read from other trainers' runs.
 */
export interface StepReport extends Partial<BalanceStep> {
  step: number;
  loss: number;
  /** auxiliary losses (aux, seq-aux, z) summed, already inside loss */
  auxLoss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  tokensPerSec: number;
  layers: number;
  experts: number;
  loadsLE: Float32Array;
  /** MaxVio_batch per layer */
  maxVioL: Float32Array;
  /** mean over layers of MaxVio_batch (this step's v_t) */
  maxVio: number;
  /** running mean over steps of maxVio */
  avgMaxVio: number;
  /** running max over steps of maxVio */
  supMaxVio: number;
  /** running max over steps and layers */
  supMaxVioLayer: number;
  /**
   * Gradient accumulation only (microBatches > 1; with one batch per step these equal maxVio): the step's
   * micro-batches, and MaxVio of each micro-batch's own load (ideal K·T_micro/E) averaged over the micro-batches,
   * per layer and over layers, with its running mean / max over steps. maxVio above is the global batch's.
   */
  microBatches?: number;
  maxVioMicroL?: number[];
  maxVioMicro?: number;
  avgMaxVioMicro?: number;
  supMaxVioMicro?: number;
  /** (token, slot) assignments dropped this step (capacity strategy), summed over layers */
  dropped: number;
  timing: StepTiming;
  /** routing objective of one batch ÷ exact optimum, at oracle intervals (mean over layers) */
  objectiveRatio?: number;
  elapsedMs: number;
  /** the expert-parallel cost model's figures for this step (config.expertParallel) */
  ep?: StepCost;
}

export interface EvalReport {
  step: number;
  valLoss: number;
  valPerplexity: number;
  /** MaxVio_global over the validation set, per layer, and their mean */
  valMaxVioL: number[];
  valMaxVio: number;
  /**
   * mean language-model loss (aux losses excluded) of the last training steps before this evaluation, and
   * valLoss − trainLoss: routing that sees its own batch (bip route=current, capacity drops) trains with information
   * validation does not get, which shows as a larger gap than the causal methods'
   */
  trainLoss?: number;
  lossGap?: number;
  /** validation tokens this evaluation read */
  valTokens?: number;
  /** the end-of-run evaluation over the whole held-out size (config.valTokens) */
  final?: boolean;
  /** synthetic data: I(topic; expert) in bits per layer over the validation tokens with a known topic */
  topicMIL?: number[];
  /** H(topic) of those tokens in bits (the upper bound of topicMIL together with log2 E) */
  topicEntropy?: number;
}

/** The byte tokens each expert of each layer receives most, at intervals (expert inspector). */
export interface TopTokensReport {
  step: number;
  /** [layer][expert] → up to 16 (byte, count) pairs, most frequent first */
  tokens: Array<Array<Array<[number, number]>>>;
}

export type RunStatus = 'created' | 'running' | 'paused' | 'stopped' | 'completed' | 'failed';

/** Final summary of a run (CLI `--json` last line, runs list). */
export interface RunSummary {
  steps: number;
  tokensPerSecMedian: number;
  backend: string;
  finalLoss: number;
  avgMaxVio: number;
  supMaxVio: number;
  finalValPerplexity?: number;
  /** wall time from launch (not from queueing) to the end, pauses included; a resume starts it again */
  wallMs: number;
  /** training time: the sum of this run's step times (no queue, no pause); absent in runs written before it */
  trainMs?: number;
  /** mean over this run's steps of the step drop rate (dropped slots ÷ k·T, mean over layers) */
  dropRate?: number;
  /** AvgMaxVio / SupMaxVio of the demanded load (top-k before capacity) */
  demandAvgMaxVio?: number;
  demandSupMaxVio?: number;
  /** gradient accumulation (microBatches > 1): AvgMaxVio / SupMaxVio of the micro-batch MaxVio (avg/supMaxVio: global batch) */
  avgMaxVioMicro?: number;
  supMaxVioMicro?: number;
  /** a branch: the run and step it started from; its figures cover only its own steps */
  parent?: { runId: string; step: number };
}
