// The MoE language model, top to bottom (nanoGPT's shape): byte embedding + learned positions, blocks of
// pre-norm causal attention and an MoE layer of SwiGLU experts, final RMSNorm, tied output embedding.
//
// Shape legend: B sequences, S positions, T = B·S tokens, d model width, H heads, V = 256 bytes.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelShape } from '../../../shared/presets';
import type { Rng } from '../rng';
import { causalAttention } from './attention';
import { crossEntropy, lmLoss } from './loss';
import { embedTokens } from './embed';
import { matmul, matmulT } from './linear';
import { MoELayer, type RoutingContext } from './moe';
import { ParamStore } from './params';
import { driveSync, hostRoute, type ForwardSteps, type RouteRequest, type Routed } from './routing';
import { rmsNorm } from './rmsnorm';

/** RMSNorm with a learned gain: x / rms(x) · g (fused forward and backward, rmsnorm.ts) */
class RMSNorm {
  readonly g: tf.Variable;
  constructor(params: ParamStore, name: string, d: number) {
    this.g = params.ones(name, [d]);
  }
  forward(xTD: tf.Tensor2D): tf.Tensor2D {
    return rmsNorm(xTD, this.g as tf.Tensor1D);
  }
}

/** Causal multi-head self-attention with one fused QKV projection (attention.ts: native or TF.js ops). */
class Attention {
  readonly wqkv: tf.Variable;
  readonly wo: tf.Variable;
  constructor(
    params: ParamStore,
    prefix: string,
    private readonly s: ModelShape,
  ) {
    const d = s.dModel;
    this.wqkv = params.normal(`${prefix}/wqkv`, [d, 3 * d], 0.02);
    this.wo = params.normal(`${prefix}/wo`, [d, d], 0.02 / Math.sqrt(2 * s.layers));
  }
  forward(xTD: tf.Tensor2D, B: number, S: number, maskSS: tf.Tensor2D): tf.Tensor2D {
    const yTD = causalAttention(matmul(xTD, this.wqkv), B, S, this.s.heads, maskSS);
    return matmul(yTD, this.wo);
  }
}

class Block {
  readonly norm1: RMSNorm;
  readonly attn: Attention;
  readonly norm2: RMSNorm;
  readonly moe: MoELayer;
  constructor(params: ParamStore, i: number, s: ModelShape, scoreFn: 'softmax' | 'sigmoid', renormalize: boolean) {
    const p = `model/block${i}`;
    this.norm1 = new RMSNorm(params, `${p}/norm1`, s.dModel);
    this.attn = new Attention(params, `${p}/attn`, s);
    this.norm2 = new RMSNorm(params, `${p}/norm2`, s.dModel);
    this.moe = new MoELayer(params, `${p}/moe`, s, i, scoreFn, renormalize);
  }
  *steps(xTD: tf.Tensor2D, B: number, S: number, maskSS: tf.Tensor2D, ctx: RoutingContext): ForwardSteps<tf.Tensor2D> {
    const a = tf.add(xTD, this.attn.forward(this.norm1.forward(xTD), B, S, maskSS)) as tf.Tensor2D;
    return tf.add(a, yield* this.moe.steps(this.norm2.forward(a), ctx));
  }
}

export class MoEModel {
  readonly params: ParamStore;
  readonly wte: tf.Variable;
  readonly wpe: tf.Variable;
  readonly blocks: Block[];
  readonly normF: RMSNorm;
  /** additive causal mask: 0 on and below the diagonal, −1e9 above */
  private readonly maskSS: tf.Tensor2D;

  constructor(
    readonly shape: ModelShape,
    scoreFn: 'softmax' | 'sigmoid',
    rng: Rng,
    /** renormalise the k gate values of each token to sum 1 */
    renormalize: boolean = scoreFn === 'softmax',
  ) {
    this.params = new ParamStore(rng);
    this.wte = this.params.normal('model/wte', [shape.vocab, shape.dModel], 0.02);
    this.wpe = this.params.normal('model/wpe', [shape.ctx, shape.dModel], 0.01);
    this.blocks = Array.from({ length: shape.layers }, (_, i) => new Block(this.params, i, shape, scoreFn, renormalize));
    this.normF = new RMSNorm(this.params, 'model/normF', shape.dModel);
    const S = shape.ctx;
    const mask = new Float32Array(S * S);
    for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) mask[i * S + j] = -1e9;
    this.maskSS = tf.tensor2d(mask, [S, S]);
  }

  /** Next-byte logits [T, V] for inputs [B × S] (row-major); routing results land in ctx (host router). */
  forward(inputs: Int32Array, B: number, S: number, ctx: RoutingContext): tf.Tensor2D {
    return driveSync(this.forwardSteps(inputs, B, S, ctx), (req) => hostRoute(req, ctx));
  }

  /**
   * Mean next-byte cross-entropy for inputs [B × S] against targets (host router unless `route` replays
   * recorded selections): training and evaluation,
   * which need only the loss. The tied output head and the loss are one op (loss.ts lmLoss; the logits
   * are never a tensor when the native addon runs).
   */
  loss(inputs: Int32Array, targets: Int32Array, B: number, S: number, ctx: RoutingContext, route: (req: RouteRequest) => Routed = (req) => hostRoute(req, ctx)): tf.Scalar {
    return lmLoss(driveSync(this.hiddenSteps(inputs, B, S, ctx), route), this.wte as tf.Tensor2D, targets);
  }

  /** The same pass as a generator that yields each MoE layer's scores to a router (routing.ts). */
  *forwardSteps(inputs: Int32Array, B: number, S: number, ctx: RoutingContext): ForwardSteps<tf.Tensor2D> {
    return matmulT(yield* this.hiddenSteps(inputs, B, S, ctx), this.wte);
  }

  /** The final normalised hidden states [T, d], before the tied output head. */
  *hiddenSteps(inputs: Int32Array, B: number, S: number, ctx: RoutingContext): ForwardSteps<tf.Tensor2D> {
    const mask = S === this.shape.ctx ? this.maskSS : tf.slice(this.maskSS, [0, 0], [S, S]);
    let x = embedTokens(this.wte, this.wpe, inputs, B, S);
    for (const block of this.blocks) x = yield* block.steps(x, B, S, mask, ctx);
    return this.normF.forward(x);
  }

  /** Mean next-byte cross-entropy of logits [T, V] against targets. */
  static crossEntropy(logitsTV: tf.Tensor2D, targets: Int32Array): tf.Scalar {
    return crossEntropy(logitsTV, targets);
  }

  variables(): tf.Variable[] {
    return this.params.list();
  }

  parameterCount(): number {
    return this.params.count();
  }

  dispose(): void {
    this.params.dispose();
    this.maskSS.dispose();
  }
}
