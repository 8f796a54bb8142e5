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

/** One training step. Loads are counts of (token, slot) assignments, layer-major: loadsLE[l*E + e]. */
export interface StepReport {
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
  wallMs: number;
}
