// Mean next-byte cross-entropy with a hand-written gradient: one Softmax kernel instead of ~20 small ops.
//
// Shape legend: T tokens, V = 256 bytes; pTV softmax probabilities.
// loss = −(1/T) Σ_t log p[t, target_t];  ∂loss/∂logits = (p − onehot(target)) / T.
// Why: TF.js's logSoftmax + oneHot + mul + sum + mean + neg and their gradients are ≈ 20 kernels (wasm's
// Exp is not vectorised): 4.1 ms forward + backward at tiny vs 1–1.5 ms here (measured in one process).
// The loss and gradient loops read p through a view of the backend's memory (no copy), and JS's Math.exp
// is slower than the Softmax kernel, so the kernel computes p.
//
// lmLoss fuses the tied output projection in too (logits = h·wteᵀ, never a tensor) when the native addon
// runs (native/fused.c); otherwise it is crossEntropy of matmulT's logits.
import * as tf from '@tensorflow/tfjs-core';
import { nativeFusedKernels } from '../native/fused';
import { readView } from '../train/views';
import { matmulT } from './linear';

/** Mean next-byte cross-entropy of the logits hTD·wteᵀ [T, V] (the tied output head) against targets. */
export function lmLoss(hTD: tf.Tensor2D, wte: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const native = nativeFusedKernels();
  if (native) return native.lmLoss(hTD, wte, targets);
  return crossEntropy(matmulT(hTD, wte), targets);
}

export function crossEntropy(logitsTV: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [T, V] = logitsTV.shape;
  if (targets.length !== T) throw new Error(`crossEntropy: ${targets.length} targets for ${T} rows of logits`);
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const pTV = tf.softmax(args[0] as tf.Tensor2D);
    (args[1] as tf.GradSaveFunc)([pTV]);
    const p = readView(pTV);
    let sum = 0; // float64; p[target] ≥ 1e-38 unless logits differ by > 87 (a diverged run)
    for (let t = 0; t < T; t++) sum -= Math.log(p[t * V + targets[t]!]!);
    const value = tf.scalar(sum / T);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const g = new Float32Array(T * V);
      const scale = readView(dy)[0]! / T; // a view, not a synchronous read (dataSync)
      const ps = readView(saved[0]!); // read right away: the next allocation may move the wasm heap
      for (let i = 0; i < g.length; i++) g[i] = ps[i]! * scale;
      for (let t = 0; t < T; t++) g[t * V + targets[t]!]! -= scale;
      return [tf.tensor2d(g, [T, V])];
    };
    return { value, gradFunc };
  });
  return f(logitsTV) as tf.Scalar;
}

/**
 * The same loss as plain tf ops with TF.js's own gradients, for device backends, where the fused
 * version's host loops would copy the logits off the device: −mean_t Σ_v onehot[t, v]·logSoftmax[t, v].
 */
export function crossEntropyOps(logitsTV: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [T, V] = logitsTV.shape;
  if (targets.length !== T) throw new Error(`crossEntropy: ${targets.length} targets for ${T} rows of logits`);
  return tf.tidy(() => {
    // cast: oneHot's own dtype argument leaves int32 data behind a float32 label on wasm
    const oneHotTV = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), V), 'float32');
    return tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(logitsTV), oneHotTV)), T)) as tf.Scalar;
  });
}
