// How one training step runs on the active backend: host (fused loss + AdamW on views) or device (all tf ops).
//
// Host backends (cpu, wasm, tfjs-node CPU) read the router scores and the gradients synchronously through
// views of backend memory: the fused kernels of loss.ts and optimizer.ts (native/fused.c, adamw.c with the addon)
// are the fast path there.
// Device backends (webgpu, tfjs-node-gpu) keep forward, backward, loss, clipping and AdamW on the device;
// per step only the per-layer selections (routing needs the scores on the host: read with data() in an
// untaped pass, then replayed in the taped one, routing.ts) and three scalars leave it.
// Gradient accumulation (config.microBatches = k): one trainStep runs k forward/backward passes on k micro-batches,
// sums the gradients, averages them (the gradient of the mean loss over the global batch), then clips and updates
// once. A global-batch aux loss (Qwen) needs every micro-batch routed before any taped pass: both paths then route
// all k first (untaped) and replay the selections in the taped passes, as the device path always does.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../../shared/run-config';
import type { Batch } from '../data/batcher';
import { crossEntropyOps } from '../model/loss';
import type { MoEModel } from '../model/model';
import type { RoutingContext } from '../model/moe';
import { deviceRoute, driveAsync, driveSync, hostRoute, replayRoute, type RouteRequest, type Routed } from '../model/routing';
import { isDeviceBackend } from '../device';
import { DeviceAdamW } from './device-optimizer';
import { AdamW, type Moments } from './optimizer';
import { sumPairwise } from './sum';
import { addGradients, globalFractions } from './accumulate';
import { readView } from './views';

export interface StepNumbers {
  loss: number;
  auxLoss: number;
  gradNorm: number;
  forwardBackwardMs: number;
  optimizerMs: number;
}

/** Every micro-batch's context gets the global batch's f per layer, from the selections routed ahead. */
function shareGlobalFractions(recorded: Routed[][], ctxs: RoutingContext[], experts: number): void {
  const fLE = globalFractions(recorded, experts);
  for (const c of ctxs) c.globalFractionLE = fLE;
}

/** A pass's own context for an untaped routing pass: its routing results and aux losses are not the step's. */
const planContext = (ctx: RoutingContext): RoutingContext => ({ ...ctx, layers: [], auxLosses: [], routingMs: 0 });

/** The optimizer as the trainer and checkpoints see it on either path. */
export interface TrainOptimizer {
  step: number;
  readMoments(): Promise<Moments[]>;
  loadMoments(i: number, m: Float32Array, v: Float32Array): void;
  dispose(): void;
}

export interface StepExecutor {
  readonly kind: 'host' | 'device';
  readonly optimizer: TrainOptimizer;
  /**
   * Forward and backward on each micro-batch (gradients summed, then averaged), clipping and one AdamW update.
   * Micro-batch j's routing lands in ctxs[j].layers; loss and auxLoss are means over the micro-batches.
   * globalAux: give the aux losses the global batch's f (route every micro-batch first, then replay).
   */
  trainStep(batches: Batch[], lr: number, ctxs: RoutingContext[], globalAux?: boolean): Promise<StepNumbers>;
  /** the language-model loss of one batch without gradients (validation) */
  evalLoss(batch: Batch, ctx: RoutingContext): Promise<number>;
  dispose(): void;
}

export { isDeviceBackend };

export function createExecutor(model: MoEModel, config: RunConfig): StepExecutor {
  return isDeviceBackend() ? new DeviceExecutor(model, config) : new HostExecutor(model, config);
}

class HostExecutor implements StepExecutor {
  readonly kind = 'host';
  readonly optimizer: AdamW;
  constructor(
    private readonly model: MoEModel,
    private readonly config: RunConfig,
  ) {
    this.optimizer = new AdamW(model.params.entries(), { weightDecay: config.weightDecay });
  }

  /** An untaped pass recording each layer's selection (the strategy chooses here, once per micro-batch). */
  private plan(batch: Batch, ctx: RoutingContext): Routed[] {
    const { batch: B, ctx: S } = this.config.model;
    const planCtx = planContext(ctx);
    const recorded: Routed[] = [];
    tf.tidy(() => {
      // to the final norm only: routing needs no logits
      driveSync(this.model.hiddenSteps(batch.inputs, B, S, planCtx), (req) => (recorded[req.layer] = hostRoute(req, planCtx)));
    });
    ctx.routingMs += planCtx.routingMs;
    return recorded;
  }

  trainStep(batches: Batch[], lr: number, ctxs: RoutingContext[], globalAux = false): Promise<StepNumbers> {
    const { batch: B, ctx: S, experts: E } = this.config.model;
    const t0 = performance.now();
    const k = batches.length;
    const recorded = globalAux ? batches.map((b, j) => this.plan(b, ctxs[j]!)) : null;
    if (recorded) shareGlobalFractions(recorded, ctxs, E);
    let lossSum = 0;
    let auxSum = 0;
    let grads: tf.NamedTensorMap | null = null;
    batches.forEach((batch, j) => {
      const ctx = ctxs[j]!;
      const route = recorded ? replayRoute(recorded[j]!) : (req: RouteRequest) => hostRoute(req, ctx);
      const pass = tf.variableGrads(() => {
        const lm = this.model.loss(batch.inputs, batch.targets, B, S, ctx, route);
        if (ctx.auxLosses.length === 0) return lm;
        const aux = sumPairwise(ctx.auxLosses);
        auxSum += readView(aux)[0]!; // a view of the scalar: no synchronous read, no buffer allocated
        return tf.add(lm, aux) as tf.Scalar;
      }, this.model.variables());
      lossSum += readView(pass.value)[0]!;
      pass.value.dispose();
      grads = addGradients(grads, pass.grads);
    });
    const t1 = performance.now();
    // the mean gradient is sum/k: AdamW scales the sums by 1/k before the norm, the clip and the update
    const gradNorm = this.optimizer.update(grads!, lr, this.config.gradClip, 1 / k);
    tf.dispose(Object.values(grads!));
    return Promise.resolve({ loss: lossSum / k, auxLoss: auxSum / k, gradNorm, forwardBackwardMs: t1 - t0, optimizerMs: performance.now() - t1 });
  }

  evalLoss(batch: Batch, ctx: RoutingContext): Promise<number> {
    const { batch: B, ctx: S } = this.config.model;
    return Promise.resolve(tf.tidy(() => readView(this.model.loss(batch.inputs, batch.targets, B, S, ctx))[0]!));
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

class DeviceExecutor implements StepExecutor {
  readonly kind = 'device';
  readonly optimizer: DeviceAdamW;
  constructor(
    private readonly model: MoEModel,
    private readonly config: RunConfig,
  ) {
    this.optimizer = new DeviceAdamW(model.params.entries(), { weightDecay: config.weightDecay });
  }

  /** An untaped pass that reads each layer's scores asynchronously and records the strategy's picks. */
  private async plan(batch: Batch, ctx: RoutingContext): Promise<{ recorded: Routed[]; logits: tf.Tensor2D }> {
    const { batch: B, ctx: S } = this.config.model;
    const recorded: Routed[] = [];
    // a manual scope: tidy cannot span awaits; everything but the kept logits is freed at endScope
    tf.engine().startScope();
    try {
      const logits = await driveAsync(this.model.forwardSteps(batch.inputs, B, S, ctx), async (req) => (recorded[req.layer] = await deviceRoute(req, ctx)));
      tf.keep(logits);
      return { recorded, logits };
    } finally {
      tf.engine().endScope();
    }
  }

  async trainStep(batches: Batch[], lr: number, ctxs: RoutingContext[], globalAux = false): Promise<StepNumbers> {
    const { batch: B, ctx: S, experts: E } = this.config.model;
    const t0 = performance.now();
    const k = batches.length;
    // every micro-batch is routed before the taped passes (same strategy calls, in the same order, as one at a time)
    const recorded: Routed[][] = [];
    for (let j = 0; j < k; j++) {
      const planCtx = planContext(ctxs[j]!);
      const planned = await this.plan(batches[j]!, planCtx);
      planned.logits.dispose();
      ctxs[j]!.routingMs += planCtx.routingMs;
      recorded.push(planned.recorded);
    }
    if (globalAux) shareGlobalFractions(recorded, ctxs, E);
    const values: tf.Scalar[] = [];
    const auxes: tf.Scalar[] = [];
    let sum: tf.NamedTensorMap | null = null;
    batches.forEach((batch, j) => {
      const ctx = ctxs[j]!;
      const pass = tf.variableGrads(() => {
        const logits = driveSync(this.model.forwardSteps(batch.inputs, B, S, ctx), replayRoute(recorded[j]!));
        const lm = crossEntropyOps(logits, batch.targets);
        if (ctx.auxLosses.length === 0) return lm;
        const aux = tf.keep(sumPairwise(ctx.auxLosses));
        auxes.push(aux);
        return tf.add(lm, aux) as tf.Scalar;
      }, this.model.variables());
      values.push(pass.value);
      sum = addGradients(sum, pass.grads);
    });
    const t1 = performance.now();
    // the step's gradient is the mean over micro-batches (that of the mean loss over the global batch)
    const grads: tf.NamedTensorMap = k === 1 ? sum! : Object.fromEntries(Object.entries(sum!).map(([n, g]) => [n, tf.tidy(() => tf.div(g, k))]));
    if (k > 1) tf.dispose(Object.values(sum!));
    const gradList = Object.values(grads);
    const normT = DeviceAdamW.globalNorm(gradList);
    this.optimizer.apply(grads, lr, normT, this.config.gradClip);
    const read = (ts: tf.Scalar[]) => Promise.all(ts.map(async (t) => (await t.data())[0]!));
    const [lossL, auxL, [gradNorm]] = await Promise.all([read(values), read(auxes), read([normT])]);
    tf.dispose([...values, ...auxes, normT, ...gradList]);
    const mean = (xs: number[]) => (xs.length === 1 ? xs[0]! : xs.reduce((a, b) => a + b, 0) / k);
    return { loss: mean(lossL), auxLoss: auxL.length ? mean(auxL) : 0, gradNorm: gradNorm!, forwardBackwardMs: t1 - t0, optimizerMs: performance.now() - t1 };
  }

  async evalLoss(batch: Batch, ctx: RoutingContext): Promise<number> {
    const { logits } = await this.plan(batch, ctx);
    const loss = tf.tidy(() => crossEntropyOps(logits, batch.targets));
    logits.dispose();
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
