// Matmul whose gradient never asks the backend for a transposed matmul.
//
// TF.js's own BatchMatMul gradient calls matMul with transposeA/transposeB; the wasm backend runs those
// through a slow generic loop (10–50× slower than its XNNPACK path in our measurements, docs/engine.md),
// while an explicit Transpose followed by a plain matmul stays on the fast path on every backend.
import * as tf from '@tensorflow/tfjs-core';

/** swap the last two axes (a no-op for the batch axes in front) */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

const plainMatMul = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const a = args[0] as tf.Tensor;
  const b = args[1] as tf.Tensor;
  const save = args[2] as tf.GradSaveFunc;
  save([a, b]);
  const value = tf.matMul(a, b);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
    return [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)];
  };
  return { value, gradFunc };
});

/**
 * a [..., m, k] · b [..., k, n] (same batch axes) with transpose-free gradients:
 * da = dy·bᵀ, db = aᵀ·dy, the transposes done explicitly.
 */
export function matmul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return plainMatMul(a, b) as T;
}
