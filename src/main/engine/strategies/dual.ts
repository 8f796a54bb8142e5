// Block-coordinate updates on the dual of the per-batch routing LP (balancing.md §1.3, §4.5), shared by bip and quantile.
//
// Shape legend: T tokens, E experts, K = top-k slots per token, C = capacity per expert.
//   scoresTE  gate scores [T, E]     pT  token prices (row multipliers)     qE  expert prices (column multipliers)
// We use the (k+1)-th / (C+1)-th largest (the paper's and Megatron's topk(k+1)[..., -1] convention): any value
// between the k-th and (k+1)-th minimises the dual; the (k+1)-th is the smallest such price, so q only rises as
// far as it must. When a constraint cannot bind (k ≥ E, or C ≥ T) its price is 0.
import * as tf from '@tensorflow/tfjs-core';

/** p_t = (k+1)-th largest of (s_t· − q), clipped at 0 when `clip`. */
export function tokenPrices(scoresTE: tf.Tensor2D, qE: tf.Tensor1D, k: number, clip: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const [T, E] = scoresTE.shape;
    if (k >= E) return tf.zeros([T]) as tf.Tensor1D;
    const { values } = tf.topk(tf.sub(scoresTE, qE), k + 1, true);
    const pT = tf.reshape(tf.slice(values, [0, k], [T, 1]), [T]) as tf.Tensor1D;
    return clip ? tf.relu(pT) : pT;
  });
}

/** q_e = (C+1)-th largest of (s_·e − p), clipped at 0 when `clip`. */
export function expertPrices(scoresTE: tf.Tensor2D, pT: tf.Tensor1D, capacity: number, clip: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const [T, E] = scoresTE.shape;
    if (capacity >= T) return tf.zeros([E]) as tf.Tensor1D;
    const marginET = tf.transpose(tf.sub(scoresTE, tf.reshape(pT, [T, 1])));
    const { values } = tf.topk(marginET, capacity + 1, true);
    const qE = tf.reshape(tf.slice(values, [0, capacity], [E, 1]), [E]) as tf.Tensor1D;
    return clip ? tf.relu(qE) : qE;
  });
}

/** Which prices are clipped at 0 (the inequality-form dual clips both; QB clips neither). */
export interface ClipRule {
  /** token prices p ≥ 0 */
  p: boolean;
  /** expert prices q ≥ 0 */
  q: boolean;
}

/** `rounds` alternations warm-started from qE; returns the new prices as a plain array. */
export function dualRounds(scoresTE: tf.Tensor2D, qE: Float32Array, k: number, capacity: number, rounds: number, clip: ClipRule): Float32Array {
  const out = tf.tidy(() => {
    let q = tf.tensor1d(qE);
    for (let r = 0; r < rounds; r++) q = expertPrices(scoresTE, tokenPrices(scoresTE, q, k, clip.p), capacity, clip.q);
    return q;
  });
  const next = Float32Array.from(out.dataSync());
  out.dispose();
  return next;
}

export function negate(qE: Float32Array): Float32Array {
  return qE.map((v) => -v);
}

/** Subtract the mean (routing by top-k of s − q is unchanged by a common shift; this keeps free prices bounded). */
export function recentre(qE: Float32Array): Float32Array {
  let mean = 0;
  for (const v of qE) mean += v;
  mean /= qE.length || 1;
  return qE.map((v) => v - mean);
}
