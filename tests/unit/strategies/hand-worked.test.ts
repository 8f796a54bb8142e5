// Hand-worked examples, a few tokens × four experts, one per strategy; expected numbers derived in the comments.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// gradients are registered separately from the kernels (tf.grad below)
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { switchAuxLoss } from '../../../src/main/engine/strategies/aux-loss';
import { sequenceAuxLoss } from '../../../src/main/engine/strategies/seq-aux-loss';
import { zLossTerm } from '../../../src/main/engine/strategies/z-loss';
import { make, step, useCpu } from './helpers';

beforeAll(useCpu);
const close = (got: ArrayLike<number>, want: number[], digits = 6) => want.forEach((w, i) => expect(got[i]!).toBeCloseTo(w, digits));

describe('hand-worked strategies (E = 4)', () => {
  it('none: each token takes its k highest scores', () => {
    // t0 [0.1, 0.5, 0.3, 0.1] → {1, 2}; t1 [0.4, 0.1, 0.2, 0.3] → {0, 3}
    const sel = step(make('none', 4, 2), [0.1, 0.5, 0.3, 0.1, 0.4, 0.1, 0.2, 0.3], 2, 4);
    expect(Array.from(sel.idxTK)).toEqual([1, 2, 0, 3]);
    expect(Array.from(sel.loadE)).toEqual([1, 1, 1, 1]);
  });

  it('aux-loss: α·N·Σ f_i P_i with f from the selection and the gradient through P only', () => {
    // k = 1: t0 [0.4, 0.3, 0.2, 0.1] → 0, t1 [0.1, 0.2, 0.3, 0.4] → 3. f = [1/2, 0, 0, 1/2], P = [0.25, 0.25, 0.25, 0.25].
    // L = α·4·(0.5·0.25 + 0.5·0.25) = α·1 = 0.01 for α = 0.01.
    // dL/dP_i = α·N·f_i, and P_i = mean_t s_ti/Σ_j s_tj; at row sums 1: dL/ds_ti = α·N/T·(f_i − Σ_j f_j s_tj)
    //   t0: Σ_j f_j s_0j = 0.5·0.4 + 0.5·0.1 = 0.25 → dL/ds_0 = 0.01·4/2·([0.5, 0, 0, 0.5] − 0.25) = 0.02·[0.25, −0.25, −0.25, 0.25]
    const scoresTE = tf.tensor2d([0.4, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3, 0.4], [2, 4]);
    const selectedTE = tf.tensor2d([1, 0, 0, 0, 0, 0, 0, 1], [2, 4]);
    expect(switchAuxLoss(scoresTE, selectedTE, 1, 0.01).dataSync()[0]).toBeCloseTo(0.01, 7);
    const g = tf.grad((s: tf.Tensor) => switchAuxLoss(s as tf.Tensor2D, selectedTE, 1, 0.01))(scoresTE);
    close(g.dataSync().slice(0, 4), [0.005, -0.005, -0.005, 0.005], 7);
    const s = make('aux-loss', 4, 1);
    expect(Array.from(step(s, scoresTE.dataSync(), 2, 4).idxTK)).toEqual([0, 3]);
    tf.dispose([scoresTE, selectedTE, g]);
  });

  it('seq-aux-loss: the same per sequence, averaged (differs from the batch loss)', () => {
    // k = 1, 2 sequences of 2 tokens. seq 0: t0, t1 = [0.7, 0.1, 0.1, 0.1] → 0, 0: f = [1, 0, 0, 0], P = [0.7, .1, .1, .1] → Σ f·P = 0.7
    // seq 1: t2 [0.1, 0.1, 0.1, 0.7] → 3, t3 [0.1, 0.7, 0.1, 0.1] → 1: f = [0, 0.5, 0, 0.5], P = [0.1, 0.4, 0.1, 0.4] → 0.4
    // L = α·4·(0.7 + 0.4)/2 = 2.2·α = 0.22 (α = 0.1). Whole batch: f = [.5, .25, 0, .25], P = [.4, .25, .1, .25] → 0.325·0.4 = 0.13.
    const scoresTE = tf.tensor2d([0.7, 0.1, 0.1, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1, 0.7, 0.1, 0.1], [4, 4]);
    const selectedTE = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0], [4, 4]);
    expect(sequenceAuxLoss(scoresTE, selectedTE, 2, 1, 0.1).dataSync()[0]).toBeCloseTo(0.22, 6);
    expect(switchAuxLoss(scoresTE, selectedTE, 1, 0.1).dataSync()[0]).toBeCloseTo(0.13, 6);
    expect(() => sequenceAuxLoss(scoresTE, selectedTE, 3, 1, 0.1)).toThrow(/does not divide/);
    tf.dispose([scoresTE, selectedTE]);
  });

  it('z-loss: c_z·mean(logsumexp²)', () => {
    // t0 [0, 0, 0, 0]: lse = ln 4 = 1.386294; t1 [ln 1, ln 2, ln 3, ln 4]: lse = ln 10 = 2.302585
    // mean(lse²) = (1.921812 + 5.301898)/2 = 3.611855 → ×1e-3 = 0.003611855
    const logitsTE = tf.tensor2d([0, 0, 0, 0, 0, Math.log(2), Math.log(3), Math.log(4)], [2, 4]);
    expect(zLossTerm(logitsTE, 1e-3).dataSync()[0]).toBeCloseTo(0.003611855, 8);
    logitsTE.dispose();
  });

  it('loss-free: bias b from the previous steps reorders selection; sign and proportional rules', () => {
    // k = 1, both tokens prefer expert 0: t0 [0.4, 0.35, 0.15, 0.1], t1 [0.45, 0.3, 0.15, 0.1] → loads [2, 0, 0, 0].
    // mean load 0.5, e = mean − load = [−1.5, 0.5, 0.5, 0.5].
    // sign, u = 0.1: b = [−0.1, 0.1, 0.1, 0.1]; next step s + b: t0 [0.3, 0.45, 0.25, 0.2] → 1, t1 [0.35, 0.4, …] → 1.
    // proportional, u = 0.1: b = 0.1·e/0.5 = [−0.3, 0.1, 0.1, 0.1].
    const scores = [0.4, 0.35, 0.15, 0.1, 0.45, 0.3, 0.15, 0.1];
    const sign = make('loss-free', 4, 1, { u: 0.1, rule: 'sign' });
    expect(Array.from(step(sign, scores, 2, 4).idxTK)).toEqual([0, 0]);
    close(sign.getState().bias!, [-0.1, 0.1, 0.1, 0.1]);
    expect(Array.from(step(sign, scores, 2, 4, { training: false }).idxTK)).toEqual([1, 1]);
    const prop = make('loss-free', 4, 1, { u: 0.1, rule: 'proportional' });
    step(prop, scores, 2, 4);
    close(prop.getState().bias!, [-0.3, 0.1, 0.1, 0.1]);
  });

  // k = 1, C = ⌈1·4/4⌉ = 1. One dual round from q = 0 (k+1 = 2nd largest per token, C+1 = 2nd largest per expert):
  //   t0 [0.7, 0.1, 0.1, 0.1]    p = 0.1   s − p = [0.6, 0, 0, 0]
  //   t1 [0.6, 0.25, 0.1, 0.05]  p = 0.25  s − p = [0.35, 0, −0.15, −0.2]
  //   t2 [0.5, 0.1, 0.3, 0.1]    p = 0.3   s − p = [0.2, −0.2, 0, −0.2]
  //   t3 [0.35, 0.1, 0.1, 0.45]  p = 0.35  s − p = [0, −0.25, −0.25, 0.1]
  //   columns' 2nd largest: e0 [0.6, 0.35, 0.2, 0] → 0.35; e1 → 0; e2 → 0; e3 [0, −0.2, −0.2, 0.1] → 0.  q = [0.35, 0, 0, 0]
  const DUAL = [0.7, 0.1, 0.1, 0.1, 0.6, 0.25, 0.1, 0.05, 0.5, 0.1, 0.3, 0.1, 0.35, 0.1, 0.1, 0.45];
  // next batch, routed by s − q: [0.5, 0.3, 0.1, 0.1] → [0.15, 0.3, …] → 1; [0.9, 0.05, 0.03, 0.02] → [0.55, …] → 0
  const NEXT = [0.5, 0.3, 0.1, 0.1, 0.9, 0.05, 0.03, 0.02];

  it('bip: one dual round gives q = [0.35, 0, 0, 0]; route=previous routes this batch with q = 0', () => {
    const s = make('bip', 4, 1, { T: 1, route: 'previous' });
    expect(Array.from(step(s, DUAL, 4, 4).idxTK)).toEqual([0, 0, 0, 3]); // plain top-1 (q was 0)
    close(s.getState().q!, [0.35, 0, 0, 0]);
    expect(Array.from(step(s, NEXT, 2, 4, { training: false }).idxTK)).toEqual([1, 0]);
    // route=current computes the same q first and routes this batch with it: t0 keeps 0, t2 → 2 (0.15 < 0.3), t3 → 3
    const cur = make('bip', 4, 1, { T: 1, route: 'current' });
    const sel = step(cur, DUAL, 4, 4);
    close(cur.getState().q!, [0.35, 0, 0, 0]);
    expect([sel.idxTK[0], sel.idxTK[2], sel.idxTK[3]]).toEqual([0, 2, 3]);
  });

  it('quantile: previous-step q, unclipped, re-centred, EMA', () => {
    // ema 0: q = recentre([0.35, 0, 0, 0]) = [0.2625, −0.0875, −0.0875, −0.0875]; this batch is plain top-1.
    // ema 0.5: recentre(0.5·0 + 0.5·[0.35, 0, 0, 0]) = [0.13125, −0.04375, −0.04375, −0.04375]
    const s = make('quantile', 4, 1);
    expect(Array.from(step(s, DUAL, 4, 4).idxTK)).toEqual([0, 0, 0, 3]);
    close(s.getState().q!, [0.2625, -0.0875, -0.0875, -0.0875]);
    expect(Array.from(step(s, NEXT, 2, 4, { training: false }).idxTK)).toEqual([1, 0]);
    const e = make('quantile', 4, 1, { ema: 0.5 });
    step(e, DUAL, 4, 4);
    close(e.getState().q!, [0.13125, -0.04375, -0.04375, -0.04375]);
  });

  it('sinkhorn: recovers a doubly-stochastic pattern hidden under a per-expert skew', () => {
    // M = circulant rows [0.4, 0.3, 0.2, 0.1] shifted by the token index (doubly stochastic, M_tt largest).
    // logits = ln M_te + β_e with β = [2, 0, 0, 0]: softmax ∝ M_te·e^β_e (e² = 7.39) → every token's top-1 is expert 0.
    // Sinkhorn rescales rows and columns, and the unique doubly-stochastic scaling of diag·M·diag is M/4 → token t → expert t.
    const M = [0.4, 0.3, 0.2, 0.1, 0.1, 0.4, 0.3, 0.2, 0.2, 0.1, 0.4, 0.3, 0.3, 0.2, 0.1, 0.4];
    const logits = M.map((m, i) => Math.log(m) + (i % 4 === 0 ? 2 : 0));
    const scores = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [4, 4])).dataSync());
    const s = make('sinkhorn', 4, 1, { tol: 1e-7, maxIter: 500 });
    expect(Array.from(step(s, scores, 4, 4, { logits }).idxTK)).toEqual([0, 1, 2, 3]);
    expect(Array.from(step(s, scores, 4, 4, { logits, training: false }).idxTK)).toEqual([0, 0, 0, 0]);
  });

  it('capacity: C = ⌈CF·k·T/E⌉, overflow dropped by probability or by position', () => {
    // k = 1, T = 4, CF = 1 → C = 1. t0, t1, t2 prefer 0 with 0.5, 0.6, 0.7; t3 prefers 1.
    // probs keeps t2 on expert 0 (0.7), drops t0 and t1; position keeps t0, drops t1 and t2. CF = 2 → C = 2: probs keeps t1, t2.
    const scores = [0.5, 0.2, 0.2, 0.1, 0.6, 0.2, 0.1, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1, 0.6, 0.2, 0.1];
    expect(Array.from(step(make('capacity', 4, 1, { capacityFactor: 1 }), scores, 4, 4).keepTK)).toEqual([0, 0, 1, 1]);
    expect(Array.from(step(make('capacity', 4, 1, { capacityFactor: 1, dropPolicy: 'position' }), scores, 4, 4).keepTK)).toEqual([1, 0, 0, 1]);
    expect(Array.from(step(make('capacity', 4, 1, { capacityFactor: 2 }), scores, 4, 4).keepTK)).toEqual([0, 1, 1, 1]);
  });

  it('optimal: the best one-token-per-expert assignment', () => {
    // k = 1, C = 1, all prefer expert 0. t0 [0.9, 0.05, 0.03, 0.02], t1 [0.8, 0.1, 0.06, 0.04], t2 [0.7, 0.2, 0.06, 0.04],
    // t3 [0.6, 0.1, 0.2, 0.1]. t0 → 0 (0.9) then t2 → 1 (0.2), t3 → 2 (0.2), t1 → 3 (0.04): 1.34. Alternatives:
    // t1 → 0 gives at most 0.8 + 0.2 + 0.2 + 0.02 = 1.22; t1 → 1 or 2 instead of 3 loses t2's or t3's 0.2.
    const scores = [0.9, 0.05, 0.03, 0.02, 0.8, 0.1, 0.06, 0.04, 0.7, 0.2, 0.06, 0.04, 0.6, 0.1, 0.2, 0.1];
    const sel = step(make('optimal', 4, 1), scores, 4, 4);
    expect(Array.from(sel.idxTK)).toEqual([0, 3, 1, 2]);
    // capacity override (e.g. loadscope route --capacity 4): nothing binds, plain top-1
    expect(Array.from(step(make('optimal', 4, 1), scores, 4, 4, { capacity: 4 }).idxTK)).toEqual([0, 0, 0, 0]);
  });
});
