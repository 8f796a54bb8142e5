// Matmul with gradients that suit the backend: transposed products where they are fast, explicit transposes where not.
//
// TF.js's own BatchMatMul gradient calls matMul with transposeA/transposeB; the wasm backend runs those
// through a slow generic loop (10–50× slower than its XNNPACK path in our measurements, docs/engine.md),
// while an explicit Transpose followed by a plain matmul stays on its fast path. With the native OpenBLAS
// kernels installed (native/), sgemm takes the transposes for free, so the gradients ask for transposed
// products directly and no Transpose kernel (a full copy) runs at all.
import * as tf from '@tensorflow/tfjs-core';
import { isNativeMatMulInstalled } from '../native/kernels';
import { saveInputs } from './saved';

/** swap the last two axes (a no-op for the batch axes in front) */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

/** true when the current backend's matmul is OpenBLAS, which handles transposed operands natively */
function nativeTransposes(): boolean {
  const name = tf.getBackend();
  return (name === 'wasm' || name === 'cpu') && isNativeMatMulInstalled(name);
}

/** x·yᵀ, x·y or xᵀ·y without asking a slow backend for a transposed product */
function product(x: tf.Tensor, y: tf.Tensor, transX: boolean, transY: boolean): tf.Tensor {
  if (nativeTransposes()) return tf.matMul(x, y, transX, transY);
  return tf.matMul(transX ? swapLast(x) : x, transY ? swapLast(y) : y);
}

const plainMatMul = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const a = args[0] as tf.Tensor;
  const b = args[1] as tf.Tensor;
  const save = args[2] as tf.GradSaveFunc;
  const restore = saveInputs(save, [a, b]);
  const value = tf.matMul(a, b);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sa, sb] = restore(saved) as [tf.Tensor, tf.Tensor];
    return [product(dy, sb, false, true), product(sa, dy, true, false)];
  };
  return { value, gradFunc };
});

// a·bᵀ: the tied output head (wteᵀ) and attention scores (q·kᵀ) without materialising the transpose
const matMulNT = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const a = args[0] as tf.Tensor;
  const b = args[1] as tf.Tensor;
  const save = args[2] as tf.GradSaveFunc;
  const restore = saveInputs(save, [a, b]);
  const value = product(a, b, false, true);
  // y = a·bᵀ: da = dy·b, db = dyᵀ·a
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sa, sb] = restore(saved) as [tf.Tensor, tf.Tensor];
    return [tf.matMul(dy, sb), product(dy, sa, true, false)];
  };
  return { value, gradFunc };
});

/**
 * a [..., m, k] · b [..., k, n] (same batch axes) with transpose-free gradients:
 * da = dy·bᵀ, db = aᵀ·dy.
 */
export function matmul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return plainMatMul(a, b) as T;
}

/** a [..., m, k] · b [..., n, k]ᵀ (same batch axes) → [..., m, n] */
export function matmulT<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return matMulNT(a, b) as T;
}
