// How one training step runs on the active backend: host (fused loss + AdamW on views) or device (all tf ops).
//
// Host backends (cpu, wasm, tfjs-node CPU) read the router scores and the gradients synchronously through
// views of backend memory: the fused kernels of loss.ts and optimizer.ts (native/fused.c, adamw.c with the addon)
// are the fast path there.
// Device backends (webgpu, tfjs-node-gpu) keep forward, backward, loss, clipping and AdamW on the device;
// per step only the per-layer selections (routing needs the scores on the host: read with data() in an
// untaped pass, then replayed in the taped one, routing.ts) and three scalars leave it.
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../../shared/run-config';
import type { Batch } from '../data/batcher';
import { crossEntropyOps } from '../model/loss';
import type { MoEModel } from '../model/model';
import type { RoutingContext } from '../model/moe';
import { deviceRoute, driveAsync, driveSync, replayRoute, type Routed } from '../model/routing';
import { isDeviceBackend } from '../device';
import { DeviceAdamW } from './device-optimizer';
import { AdamW, type Moments } from './optimizer';
import { sumPairwise } from './sum';
import { readView } from './views';

export interface StepNumbers {
  loss: number;
  auxLoss: number;
  gradNorm: number;
  forwardBackwardMs: number;
  optimizerMs: number;
}

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
  /** forward, backward, clipping and the AdamW update; routing results land in ctx.layers */
  trainStep(batch: Batch, lr: number, ctx: RoutingContext): Promise<StepNumbers>;
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

  trainStep(batch: Batch, lr: number, ctx: RoutingContext): Promise<StepNumbers> {
    const { batch: B, ctx: S } = this.config.model;
    const t0 = performance.now();
    let auxLoss = 0;
    const { value, grads } = tf.variableGrads(() => {
      const lm = this.model.loss(batch.inputs, batch.targets, B, S, ctx);
      if (ctx.auxLosses.length === 0) return lm;
      const aux = sumPairwise(ctx.auxLosses);
      auxLoss = readView(aux)[0]!; // a view of the scalar: no synchronous read, no buffer allocated
      return tf.add(lm, aux) as tf.Scalar;
    }, this.model.variables());
    const loss = readView(value)[0]!;
    const t1 = performance.now();
    const gradNorm = this.optimizer.update(grads, lr, this.config.gradClip);
    tf.dispose([value, ...Object.values(grads)]);
    return Promise.resolve({ loss, auxLoss, gradNorm, forwardBackwardMs: t1 - t0, optimizerMs: performance.now() - t1 });
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

  async trainStep(batch: Batch, lr: number, ctx: RoutingContext): Promise<StepNumbers> {
    const { batch: B, ctx: S } = this.config.model;
    const t0 = performance.now();
    const planCtx = { ...ctx, layers: [], auxLosses: [], routingMs: 0 };
    const planned = await this.plan(batch, planCtx);
    planned.logits.dispose();
    ctx.routingMs += planCtx.routingMs;
    let aux: tf.Scalar | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const logits = driveSync(this.model.forwardSteps(batch.inputs, B, S, ctx), replayRoute(planned.recorded));
      const lm = crossEntropyOps(logits, batch.targets);
      if (ctx.auxLosses.length === 0) return lm;
      aux = tf.keep(sumPairwise(ctx.auxLosses));
      return tf.add(lm, aux) as tf.Scalar;
    }, this.model.variables());
    const t1 = performance.now();
    const gradList = Object.values(grads);
    const normT = DeviceAdamW.globalNorm(gradList);
    this.optimizer.apply(grads, lr, normT, this.config.gradClip);
    const scalars = [value, normT, ...(aux ? [aux] : [])];
    const [loss, gradNorm, auxLoss] = await Promise.all(scalars.map(async (t) => (await t.data())[0]!));
    tf.dispose([...scalars, ...gradList]);
    return { loss: loss!, auxLoss: auxLoss ?? 0, gradNorm: gradNorm!, forwardBackwardMs: t1 - t0, optimizerMs: performance.now() - t1 };
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
