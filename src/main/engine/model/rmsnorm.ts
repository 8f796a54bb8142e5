// RMSNorm y = x · r · g with r = 1/√(mean(x²) + ε) per row, fused: one tensor forward, two backward.
//
// Shape legend: T rows (tokens), d width; rT the per-row inverse RMS kept from the forward pass.
// Unfused, TF.js runs Square, Mean, Add, Rsqrt, Mul, Mul forward and about twelve kernels backward, each
// with a fixed dispatch cost larger than its arithmetic at d = 64 (5 norms per tiny step). Fused, one loop
// reads x and g through views of the backend's memory (train/views.ts) and writes y; the gradient is
//   dg = Σ_t dy·x·r        dx = r·(dy·g) − x·r³·(Σ_j dy_j·g_j·x_j)/d
// With the native addon the same maths runs in C (native/fused.c, nativeFusedKernels(); r is recomputed
// backward instead of kept); LOADSCOPE_NATIVE=0 turns both off with the other fast paths (the unfused
// ops, for comparison), LOADSCOPE_NATIVE_FUSED=0 only the C one.
import * as tf from '@tensorflow/tfjs-core';
import { isDeviceBackend } from '../device';
import { nativeFusedKernels } from '../native/fused';
import { readView } from '../train/views';
import { saveInputs } from './saved';

export const RMS_EPS = 1e-5;

/** The unfused reference: TF.js ops and their own gradients. */
export function rmsNormUnfused(xTD: tf.Tensor2D, g: tf.Tensor1D): tf.Tensor2D {
  const inv = tf.rsqrt(tf.add(tf.mean(tf.square(xTD), 1, true), RMS_EPS));
  return tf.mul(tf.mul(xTD, inv), g);
}

/** The fused JS loops (exported for tests comparing them with the native kernel). */
export const rmsNormFusedJs = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor2D;
  const g = args[1] as tf.Tensor1D;
  const restore = saveInputs(args[2] as tf.GradSaveFunc, [x, g]);
  const [T, d] = x.shape;
  const y = new Float32Array(T * d);
  const rT = new Float64Array(T);
  {
    // views of the wasm heap stay valid only until the next allocation: read both, then allocate
    const xs = readView(x);
    const gs = readView(g);
    for (let t = 0; t < T; t++) {
      const o = t * d;
      let ss = 0;
      for (let j = 0; j < d; j++) ss += xs[o + j]! * xs[o + j]!;
      const r = 1 / Math.sqrt(ss / d + RMS_EPS);
      rT[t] = r;
      for (let j = 0; j < d; j++) y[o + j] = xs[o + j]! * r * gs[j]!;
    }
  }
  const value = tf.tensor2d(y, [T, d]);
  const gradFunc = (dy: tf.Tensor, kept: tf.Tensor[]) => {
    const saved = restore(kept);
    const dx = new Float32Array(T * d);
    const dg = new Float64Array(d);
    const dys = readView(dy);
    const xs = readView(saved[0]!);
    const gs = readView(saved[1]!);
    for (let t = 0; t < T; t++) {
      const o = t * d;
      const r = rT[t]!;
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const xj = xs[o + j]!;
        const dyj = dys[o + j]!;
        dot += dyj * gs[j]! * xj;
        dg[j]! += dyj * xj * r;
      }
      const c = (r * r * r * dot) / d;
      for (let j = 0; j < d; j++) dx[o + j] = r * dys[o + j]! * gs[j]! - xs[o + j]! * c;
    }
    return [tf.tensor2d(dx, [T, d]), tf.tensor1d(Float32Array.from(dg))];
  };
  return { value, gradFunc };
});

/** Whether the fused CPU kernels (this one, fused expert paths) are on: LOADSCOPE_NATIVE=0 turns them off. */
/** host backends only: on a device backend the fused loops would pull every tensor off the device */
export function fusedKernelsEnabled(): boolean {
  return process.env.LOADSCOPE_NATIVE !== '0' && !isDeviceBackend();
}

export function rmsNorm(xTD: tf.Tensor2D, g: tf.Tensor1D): tf.Tensor2D {
  const native = nativeFusedKernels();
  if (native) return native.rmsNorm(xTD, g, RMS_EPS);
  return fusedKernelsEnabled() ? (rmsNormFusedJs(xTD, g) as tf.Tensor2D) : rmsNormUnfused(xTD, g);
}
