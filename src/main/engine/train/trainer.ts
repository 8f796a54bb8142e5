// One training run in-process: model, AdamW, per-layer strategies and data; step(), evaluate(), checkpoints.
//
// Shape legend: L layers, E experts, K top-k slots, T = batch·ctx tokens of a micro-batch; loadsLE layer-major [L*E].
// A step is one optimizer update over k = config.microBatches micro-batches (k = 1: one batch); its loads and
// MaxVio are those of the global batch (k·T tokens), maxVioMicro the mean of the micro-batches' own.
import '../tf-setup';
import type { RunConfig } from '../../../shared/run-config';
import type { EvalReport, StepReport, TopTokensReport } from '../../../shared/reports';
import type { CheckpointData } from '../../../shared/worker-protocol';
import { Batcher } from '../data/batcher';
import { loadText, type TextData } from '../data/sources';
import { MoEModel } from '../model/model';
import { chooseDispatch, type DispatchMode, type RoutingContext } from '../model/moe';
import { Rng } from '../rng';
import { createLayerStrategy } from '../strategies/registry';
import type { BalancingStrategy } from '../strategies/types';
import { exportCheckpoint, importCheckpoint } from './checkpoint';
import { createExecutor, type StepExecutor, type TrainOptimizer } from './executor';
import { learningRate } from './optimizer';
import { objectiveRatio, topTokens } from './probes';
import { VioTracker, maxVioOf } from './vio';
import { BalanceTracker } from './balance';
import { concatInputs, mergeRoutings, microMaxVioL } from './accumulate';
import { layerCost, stepCost } from '../../../shared/cost-model';
import { finalEvalBatches } from '../../../shared/validation-size';
import { topicExpertMI } from '../../../shared/specialization';
import { syntheticTopicOfByte } from '../data/synthetic';

export interface StepOutcome {
  report: StepReport;
  topTokens?: TopTokensReport;
}

export interface StepOptions {
  /** compute objectiveRatio for this batch (solves the exact optimum per layer) */
  oracle?: boolean;
  topTokens?: boolean;
}

/** training steps averaged into the train loss an evaluation compares with */
const TRAIN_LOSS_WINDOW = 20;

/** gateNorm auto: softmax top-k > 1 renormalised over the k chosen (Minimind, Megatron), sigmoid not (as before). */
export function renormalizeGates(c: RunConfig): boolean {
  const mode = c.gateNorm ?? 'auto';
  return mode === 'auto' ? c.scoreFn === 'softmax' : mode === 'on';
}

export class Trainer {
  readonly model: MoEModel;
  /** host (fused kernels) or device (tf ops) step, chosen once from the active backend */
  readonly executor: StepExecutor;
  readonly optimizer: TrainOptimizer;
  readonly strategies: BalancingStrategy[];
  readonly batcher: Batcher;
  readonly dispatch: DispatchMode;
  /** completed training steps (optimizer steps: k micro-batches each) */
  step = 0;
  readonly vio = new VioTracker();
  /** running mean / max of the micro-batch MaxVio (reported when microBatches > 1) */
  readonly vioMicro = new VioTracker();
  /** some layer's aux loss takes f over the global batch (aux-loss scope global) */
  private readonly globalAux: boolean;
  /** demanded MaxVio, drop rate, entropy, CV, idle/dead experts, gate mass */
  readonly balance: BalanceTracker;
  /** wall time spent training, carried across resumes */
  elapsedMs = 0;
  /** LM losses (aux excluded) of the last TRAIN_LOSS_WINDOW steps, for the train/validation gap */
  private recentLm: number[] = [];
  /** known topic of each byte (synthetic data only; −1 = none), for the specialisation metric */
  private readonly topicOfByte: Int8Array | null;

  constructor(
    readonly config: RunConfig,
    data: TextData = loadText(config.data),
  ) {
    const s = config.model;
    this.batcher = new Batcher(data, s.batch, s.ctx, config.validationFraction, config.seed);
    this.topicOfByte = config.data.kind === 'synthetic' ? syntheticTopicOfByte() : null;
    this.dispatch = chooseDispatch(config.dispatch, s);
    this.balance = new BalanceTracker(s.layers, s.experts, s.topK);
    this.model = new MoEModel(s, config.scoreFn, new Rng(config.seed), renormalizeGates(config));
    this.executor = createExecutor(this.model, config);
    this.optimizer = this.executor.optimizer;
    this.strategies = [];
    try {
      for (let l = 0; l < s.layers; l++) {
        const spec = { layer: l, experts: s.experts, topK: s.topK, scoreFn: config.scoreFn };
        this.strategies.push(createLayerStrategy({ strategy: config.strategy, strategyOptions: config.strategyOptions, zLoss: config.zLoss, composeCapacity: config.composeCapacity, composeSeqAux: config.composeSeqAux }, spec));
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
    this.globalAux = this.strategies.some((st) => st.globalBatchAux);
  }

  /** micro-batches per optimizer step (runs recorded before the option have none: 1) */
  get microBatches(): number {
    return this.config.microBatches ?? 1;
  }

  private context(training: boolean, keepScores: boolean): RoutingContext {
    return { training, seqLen: this.config.model.ctx, dispatch: this.dispatch, strategies: this.strategies, keepScores, layers: [], auxLosses: [], routingMs: 0 };
  }

  /**
   * lr → forward/backward of each micro-batch → one optimizer step → strategy after-step (once, with the global
   * batch's loads, as Megatron's bias update) → the step's report. Selection-time state (bip's prices, sinkhorn)
   * moves per micro-batch, as each micro-batch is routed.
   */
  async trainStep(opts: StepOptions = {}): Promise<StepOutcome> {
    const c = this.config;
    const { batch: B, ctx: S, layers: L, experts: E, topK: K } = c.model;
    const k = this.microBatches;
    const t0 = performance.now();
    const lr = learningRate(this.step, c);
    const batches = Array.from({ length: k }, () => this.batcher.nextTrain());
    const ctxs = batches.map(() => this.context(true, !!opts.oracle));
    const { loss, auxLoss, gradNorm, forwardBackwardMs, optimizerMs } = await this.executor.trainStep(batches, lr, ctxs, this.globalAux);
    const t2 = performance.now();
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${this.step + 1}: loss is ${loss} (try a lower lr)`);
    this.recentLm.push(loss - auxLoss);
    if (this.recentLm.length > TRAIN_LOSS_WINDOW) this.recentLm.shift();

    const tokens = k * B * S;
    const loadsLE = new Float32Array(L * E);
    const maxVioL = new Float32Array(L);
    let dropped = 0;
    // the global batch as one routing of k·T tokens (k = 1: the batch's own)
    const ctx = { layers: mergeRoutings(ctxs.map((x) => x.layers)), routingMs: ctxs.reduce((ms, x) => ms + x.routingMs, 0) };
    ctx.layers.forEach((r, l) => {
      this.strategies[l]!.afterStep?.(r.loadE);
      loadsLE.set(r.loadE, l * E);
      maxVioL[l] = maxVioOf(r.loadE, K, tokens);
      dropped += r.dropped;
    });
    const t3 = performance.now();
    this.step++;
    const totalMs = t3 - t0;
    this.elapsedMs += totalMs;
    const report: StepReport = {
      step: this.step,
      loss,
      auxLoss,
      lr,
      gradNorm,
      tokens,
      tokensPerSec: tokens / (totalMs / 1000),
      layers: L,
      experts: E,
      loadsLE,
      maxVioL,
      ...this.vio.push(maxVioL),
      ...this.balance.push(ctx.layers, tokens),
      dropped,
      timing: { forwardBackwardMs, optimizerMs, routingMs: ctx.routingMs + (t3 - t2), totalMs },
      elapsedMs: this.elapsedMs,
    };
    if (k > 1) {
      const maxVioMicroL = microMaxVioL(ctxs.map((x) => x.layers), K, B * S);
      const micro = this.vioMicro.push(maxVioMicroL);
      report.microBatches = k;
      report.maxVioMicroL = maxVioMicroL;
      report.maxVioMicro = micro.maxVio;
      report.avgMaxVioMicro = micro.avgMaxVio;
      report.supMaxVioMicro = micro.supMaxVio;
    }
    const ep = c.expertParallel;
    report.ep = stepCost(ctx.layers.map((r) => layerCost(ep, r.idxTK, r.keepTK, tokens, K, E, c.model.dModel)), ep.devices);
    if (opts.oracle) report.objectiveRatio = objectiveRatio(ctx.layers, tokens, E, K);
    const out: StepOutcome = { report };
    if (opts.topTokens) out.topTokens = { step: this.step, tokens: topTokens(ctx.layers, concatInputs(batches), E, K) };
    return out;
  }

  /**
   * Validation loss and MaxVio_global over the fixed validation batches; strategies do not learn here. Periodic
   * evaluations read evalBatches batches; the final one (end of the run) the whole held-out size valTokens.
   */
  async evaluate(opts: { final?: boolean } = {}): Promise<EvalReport> {
    const { batch: B, ctx: S, layers: L, experts: E, topK: K } = this.config.model;
    const n = opts.final ? Math.max(this.config.evalBatches, finalEvalBatches(this.config)) : this.config.evalBatches;
    const globalLE = Array.from({ length: L }, () => new Float64Array(E));
    const topics = this.topicOfByte ? Math.max(...this.topicOfByte) + 1 : 0;
    const countsLPE = Array.from({ length: topics ? L : 0 }, () => new Float64Array(topics * E));
    let lossSum = 0;
    for (let i = 0; i < n; i++) {
      const batch = this.batcher.valBatch(i, n);
      const ctx = this.context(false, false);
      lossSum += await this.executor.evalLoss(batch, ctx);
      ctx.layers.forEach((r, l) => r.loadE.forEach((x, e) => (globalLE[l]![e]! += x)));
      if (this.topicOfByte) {
        ctx.layers.forEach((r, l) => {
          for (let i = 0; i < r.idxTK.length; i++) {
            const topic = this.topicOfByte![batch.inputs[Math.floor(i / K)]!]!;
            if (topic >= 0 && r.keepTK[i]) countsLPE[l]![topic * E + r.idxTK[i]!]!++;
          }
        });
      }
    }
    const valLoss = lossSum / n;
    const valMaxVioL = globalLE.map((loadE) => maxVioOf(loadE, K, n * B * S));
    const report: EvalReport = { step: this.step, valLoss, valPerplexity: Math.exp(valLoss), valMaxVioL, valMaxVio: valMaxVioL.reduce((a, b) => a + b, 0) / L, valTokens: n * B * S };
    if (opts.final) report.final = true;
    if (topics) {
      const per = countsLPE.map((c) => topicExpertMI(c, topics, E));
      report.topicMIL = per.map((p) => p.mi);
      report.topicEntropy = per[0]?.topicEntropy ?? 0;
    }
    if (this.recentLm.length > 0) {
      report.trainLoss = this.recentLm.reduce((a, b) => a + b, 0) / this.recentLm.length;
      report.lossGap = valLoss - report.trainLoss;
    }
    return report;
  }

  exportCheckpoint(): Promise<CheckpointData> {
    return exportCheckpoint(this);
  }

  importCheckpoint(cp: CheckpointData): void {
    importCheckpoint(this, cp);
  }

  dispose(): void {
    this.model?.dispose();
    this.executor?.dispose();
    for (const s of this.strategies ?? []) s.dispose();
  }
}
