// SwiGLU gate y = silu(a) · b = a·σ(a)·b, fused: one tensor forward, two backward (the expert FFN's middle).
//
// Shape legend: a, b [n, h] (x·w1 and x·w3 of one expert's rows); σ kept from the forward pass as a plain array.
// Unfused it is Sigmoid, Mul, Mul forward and about eight kernels backward per expert and layer (16 expert
// groups per tiny step), each with a dispatch cost above its arithmetic. The gradient:
//   da = dy·b·σ(a)·(1 + a·(1 − σ(a)))        db = dy·a·σ(a)
// LOADSCOPE_NATIVE=0 keeps the unfused ops (rmsnorm.ts: fusedKernelsEnabled).
import * as tf from '@tensorflow/tfjs-core';
import { readView } from '../train/views';
import { fusedKernelsEnabled } from './rmsnorm';

export function swigluUnfused(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(a, tf.sigmoid(a)), b);
}

const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const a = args[0] as tf.Tensor2D;
  const b = args[1] as tf.Tensor2D;
  (args[2] as tf.GradSaveFunc)([a, b]);
  const n = a.size;
  const y = new Float32Array(n);
  const sig = new Float32Array(n);
  {
    // views of the wasm heap stay valid only until the next allocation: read both, then allocate
    const as = readView(a);
    const bs = readView(b);
    for (let i = 0; i < n; i++) {
      const ai = as[i]!;
      const s = 1 / (1 + Math.exp(-ai));
      sig[i] = s;
      y[i] = ai * s * bs[i]!;
    }
  }
  const value = tf.tensor2d(y, a.shape);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const da = new Float32Array(n);
    const db = new Float32Array(n);
    const dys = readView(dy);
    const as = readView(saved[0]!);
    const bs = readView(saved[1]!);
    for (let i = 0; i < n; i++) {
      const s = sig[i]!;
      const ai = as[i]!;
      const g = dys[i]!;
      da[i] = g * bs[i]! * s * (1 + ai * (1 - s));
      db[i] = g * ai * s;
    }
    return [tf.tensor2d(da, a.shape), tf.tensor2d(db, a.shape)];
  };
  return { value, gradFunc };
});

export function swiglu(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return fusedKernelsEnabled() ? (fused(a, b) as tf.Tensor2D) : swigluUnfused(a, b);
}
