// The MoE layer: router (gate scores → strategy selection → gate values) and SwiGLU experts, dense or sparse (model/sparse.ts).
//
// Shape legend: T tokens, E experts, K top-k slots, d model width, h expert hidden width.
//   logitsTE/scoresTE  router logits and gate scores (softmax or sigmoid)
//   selTE/selectedTE   constant 0/1 mask of the chosen (token, expert) pairs (dropped ones included)
//   keptTE             constant 0/1 mask of the routed pairs (dropped slots removed)
//   gatesTE            gate values: scores of the chosen experts, renormalised over the k for softmax
//   idxTK/keepTK       the strategy's selection, row-major [T*K]; loadE routed slots per expert
// Expert weights are stored side by side so the dense path is three big matmuls:
//   w1, w3 [d, E·h] (expert e owns columns e·h … e·h+h−1), w2 [E·h, d] (rows e·h …).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelShape } from '../../../shared/presets';
import type { BalancingStrategy } from '../strategies/types';
import { demandLoads, gateMass } from '../../../shared/balance-metrics';
import { planDispatch } from './dispatch';
import { gateValues, routeMasks, routerScores } from './gates';
import { matmul } from './linear';
import type { ParamStore } from './params';
import { driveSync, hostRoute, type RouteRequest, type Routed } from './routing';
import { fusedSparseAvailable, sparseExperts } from './sparse';
import { swiglu } from './swiglu';

export type DispatchMode = 'dense' | 'sparse';

/** What one layer's routing produced in one forward pass (plain arrays, no tensors). */
export interface LayerRouting {
  idxTK: Int32Array;
  keepTK: Uint8Array;
  loadE: Float32Array;
  /** each token's top-k choice before capacity or dropping, counted per expert */
  demandLoadE: Float32Array;
  /** mean gate score per expert over the batch */
  gateMassE: Float32Array;
  dropped: number;
  /** gate scores, kept only when the caller asked (objective ratio vs the optimum) */
  scoresTE?: Float32Array;
}

/** Per forward pass: the strategies to ask, and where routing results and auxiliary losses go. */
export interface RoutingContext {
  training: boolean;
  seqLen: number;
  dispatch: DispatchMode;
  strategies: BalancingStrategy[];
  keepScores: boolean;
  layers: LayerRouting[];
  auxLosses: tf.Scalar[];
  routingMs: number;
  /** per layer, f_E of the optimizer step's global batch, for aux losses that ask for it (executor.ts) */
  globalFractionLE?: Float32Array[];
}

/**
 * Sparse whenever the fused expert kernel runs (model/sparse.ts: wasm/cpu with the addon): one tape node
 * per layer beats dense's E/k-fold expert FLOPs even at E/k = 2 (tiny with 4 experts, top-2: 9,900 vs
 * 5,100 tokens/s, docs/native.md). Otherwise dense only when experts/k ≤ 2 and the [T, E·h] activations stay
 * modest: it runs every expert on every token in three large matmuls, fewer ops than the unfused sparse path.
 */
export function chooseDispatch(mode: 'auto' | DispatchMode, s: ModelShape, fusedSparse = fusedSparseAvailable()): DispatchMode {
  if (mode !== 'auto') return mode;
  if (fusedSparse) return 'sparse';
  const tokens = s.batch * s.ctx;
  return s.experts / s.topK <= 2 && tokens * s.experts * s.expertHidden <= 2 ** 24 ? 'dense' : 'sparse';
}

export class MoELayer {
  readonly wr: tf.Variable;
  readonly w1: tf.Variable;
  readonly w3: tf.Variable;
  readonly w2: tf.Variable;
  private readonly E: number;
  private readonly K: number;
  private readonly h: number;

  constructor(
    params: ParamStore,
    prefix: string,
    shape: ModelShape,
    private readonly layer: number,
    private readonly scoreFn: 'softmax' | 'sigmoid',
    /** renormalise the k chosen gate values to sum 1 (default: softmax yes, sigmoid no) */
    private readonly renormalize: boolean = scoreFn === 'softmax',
  ) {
    const { dModel: d, experts: E, expertHidden: h } = shape;
    this.E = E;
    this.K = shape.topK;
    this.h = h;
    this.wr = params.normal(`${prefix}/router`, [d, E], 0.02);
    this.w1 = params.normal(`${prefix}/w1`, [d, E * h], 0.02);
    this.w3 = params.normal(`${prefix}/w3`, [d, E * h], 0.02);
    this.w2 = params.normal(`${prefix}/w2`, [E * h, d], 0.02 / Math.sqrt(2 * shape.layers));
  }

  /** The layer's output with the context's own router (host backends: scores are read synchronously). */
  forward(xTD: tf.Tensor2D, ctx: RoutingContext): tf.Tensor2D {
    return driveSync(this.steps(xTD, ctx), (req) => hostRoute(req, ctx));
  }

  /**
   * The forward pass as a generator: it yields the router's scores once and resumes with the selection,
   * so the same code serves a synchronous router (host), an asynchronous one (device backends read the
   * scores with data()) and a replay of selections made earlier (the taped pass on a device).
   */
  *steps(xTD: tf.Tensor2D, ctx: RoutingContext): Generator<RouteRequest, tf.Tensor2D, Routed> {
    const t0 = performance.now();
    const T = xTD.shape[0];
    const { E, K } = this;
    const logitsTE = matmul(xTD, this.wr);
    const scoresTE = routerScores(logitsTE, this.scoreFn);
    const strategy = ctx.strategies[this.layer]!;
    const sel: Routed = yield { layer: this.layer, scoresTE, logitsTE };

    const masks = routeMasks(sel.idxTK, sel.keepTK, T, E, K);
    const { loadE, dropped } = masks;
    // gate values come from the unbiased scores of the chosen experts; with renormalize (default for softmax,
    // Minimind norm_topk_prob, Megatron; DeepSeek-V3 does it for sigmoid) they are divided by their sum over the
    // k chosen, before capacity drops remove a slot (gates.ts: one op on host backends)
    const gatesTE = gateValues(scoresTE, masks, this.renormalize && K > 1);

    if (strategy.auxLoss) {
      const selectedTE = tf.tensor2d(masks.selTE, [T, E]);
      ctx.auxLosses.push(strategy.auxLoss({ logitsTE, scoresTE, selectedTE, seqLen: ctx.seqLen, globalFractionE: ctx.globalFractionLE?.[this.layer] }));
    }
    // every router hands back its host copy of the scores (routing.ts): the gate mass needs them each step
    const scoresData = sel.scoresData;
    const demandLoadE = demandLoads(sel.demandTK ?? sel.idxTK, E);
    const routing: LayerRouting = { idxTK: sel.idxTK, keepTK: sel.keepTK, loadE, demandLoadE, gateMassE: gateMass(scoresData, T, E), dropped };
    if (ctx.keepScores) routing.scoresTE = scoresData;
    ctx.layers[this.layer] = routing;
    ctx.routingMs += performance.now() - t0;

    return ctx.dispatch === 'dense' ? this.dense(xTD, gatesTE) : this.sparse(xTD, gatesTE, sel.idxTK, sel.keepTK);
  }

  /** every expert on every token; the constant-masked gates zero the unchosen experts' contributions */
  private dense(xTD: tf.Tensor2D, gatesTE: tf.Tensor2D): tf.Tensor2D {
    const T = xTD.shape[0];
    const { E, h } = this;
    const hidTH = swiglu(matmul(xTD, this.w1), matmul(xTD, this.w3));
    const gated = tf.reshape(tf.mul(tf.reshape(hidTH, [T, E, h]), tf.reshape(gatesTE, [T, E, 1])), [T, E * h]);
    return matmul(gated as tf.Tensor2D, this.w2);
  }

  /** tokens gathered per expert (model/sparse.ts): compute grows with k, not E */
  private sparse(xTD: tf.Tensor2D, gatesTE: tf.Tensor2D, idxTK: Int32Array, keepTK: Uint8Array): tf.Tensor2D {
    const plan = planDispatch(idxTK, keepTK, xTD.shape[0], this.K, this.E);
    const weights = { w1: this.w1 as tf.Tensor2D, w3: this.w3 as tf.Tensor2D, w2: this.w2 as tf.Tensor2D, experts: this.E, hidden: this.h };
    return sparseExperts(xTD, gatesTE, weights, plan, idxTK);
  }
}
