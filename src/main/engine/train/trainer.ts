// One training run in-process: model, AdamW, per-layer strategies and data; step(), evaluate(), checkpoints.
//
// Shape legend: L layers, E experts, K top-k slots, T = batch·ctx tokens; loadsLE layer-major [L*E].
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

export interface StepOutcome {
  report: StepReport;
  topTokens?: TopTokensReport;
}

export interface StepOptions {
  /** compute objectiveRatio for this batch (solves the exact optimum per layer) */
  oracle?: boolean;
  topTokens?: boolean;
}

export class Trainer {
  readonly model: MoEModel;
  /** host (fused kernels) or device (tf ops) step, chosen once from the active backend */
  readonly executor: StepExecutor;
  readonly optimizer: TrainOptimizer;
  readonly strategies: BalancingStrategy[];
  readonly batcher: Batcher;
  readonly dispatch: DispatchMode;
  /** completed training steps */
  step = 0;
  readonly vio = new VioTracker();
  /** wall time spent training, carried across resumes */
  elapsedMs = 0;

  constructor(
    readonly config: RunConfig,
    data: TextData = loadText(config.data),
  ) {
    const s = config.model;
    this.batcher = new Batcher(data, s.batch, s.ctx, config.validationFraction, config.seed);
    this.dispatch = chooseDispatch(config.dispatch, s);
    this.model = new MoEModel(s, config.scoreFn, new Rng(config.seed));
    this.executor = createExecutor(this.model, config);
    this.optimizer = this.executor.optimizer;
    this.strategies = [];
    try {
      for (let l = 0; l < s.layers; l++) {
        const spec = { layer: l, experts: s.experts, topK: s.topK, scoreFn: config.scoreFn };
        this.strategies.push(createLayerStrategy({ strategy: config.strategy, strategyOptions: config.strategyOptions, zLoss: config.zLoss }, spec));
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  private context(training: boolean, keepScores: boolean): RoutingContext {
    return { training, seqLen: this.config.model.ctx, dispatch: this.dispatch, strategies: this.strategies, keepScores, layers: [], auxLosses: [], routingMs: 0 };
  }

  /** lr → forward/backward/step → strategy after-step → the step's report. */
  async trainStep(opts: StepOptions = {}): Promise<StepOutcome> {
    const c = this.config;
    const { batch: B, ctx: S, layers: L, experts: E, topK: K } = c.model;
    const t0 = performance.now();
    const lr = learningRate(this.step, c);
    const batch = this.batcher.nextTrain();
    const ctx = this.context(true, !!opts.oracle);
    const { loss, auxLoss, gradNorm, forwardBackwardMs, optimizerMs } = await this.executor.trainStep(batch, lr, ctx);
    const t2 = performance.now();
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${this.step + 1}: loss is ${loss} (try a lower lr)`);

    const tokens = B * S;
    const loadsLE = new Float32Array(L * E);
    const maxVioL = new Float32Array(L);
    let dropped = 0;
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
      dropped,
      timing: { forwardBackwardMs, optimizerMs, routingMs: ctx.routingMs + (t3 - t2), totalMs },
      elapsedMs: this.elapsedMs,
    };
    if (opts.oracle) report.objectiveRatio = objectiveRatio(ctx.layers, tokens, E, K);
    const out: StepOutcome = { report };
    if (opts.topTokens) out.topTokens = { step: this.step, tokens: topTokens(ctx.layers, batch.inputs, E, K) };
    return out;
  }

  /** Validation loss and MaxVio_global over the fixed validation batches; strategies do not learn here. */
  async evaluate(): Promise<EvalReport> {
    const { batch: B, ctx: S, layers: L, experts: E, topK: K } = this.config.model;
    const n = this.config.evalBatches;
    const globalLE = Array.from({ length: L }, () => new Float64Array(E));
    let lossSum = 0;
    for (let i = 0; i < n; i++) {
      const batch = this.batcher.valBatch(i, n);
      const ctx = this.context(false, false);
      lossSum += await this.executor.evalLoss(batch, ctx);
      ctx.layers.forEach((r, l) => r.loadE.forEach((x, e) => (globalLE[l]![e]! += x)));
    }
    const valLoss = lossSum / n;
    const valMaxVioL = globalLE.map((loadE) => maxVioOf(loadE, K, n * B * S));
    return { step: this.step, valLoss, valPerplexity: Math.exp(valLoss), valMaxVioL, valMaxVio: valMaxVioL.reduce((a, b) => a + b, 0) / L };
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
