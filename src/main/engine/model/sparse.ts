// The MoE layer's sparse expert FFN: each expert runs on its own routed rows only, compute grows with k, not E.
//
// Shape legend: T tokens, E experts, K top-k slots, d model width, h expert hidden width.
// Two implementations of one function, picked in one place (sparseExperts):
//   fused    native/experts.ts: the whole expert group as one tape node (host backends, addon loaded)
//   unfused  TF.js ops: gather rows per expert, slice each expert's weights, SwiGLU FFN, collect the slots and
//            mix them with their gates; the reference, and the path of device backends (webgpu)
import * as tf from '@tensorflow/tfjs-core';
import { fusedSparseExperts, nativeExperts, type ExpertWeights, type NativeExperts } from '../native/experts';
import { collectSlots, dispatchRows, type DispatchPlan } from './dispatch';
import { matmul } from './linear';
import { fusedKernelsEnabled } from './rmsnorm';
import { swiglu } from './swiglu';

export type { ExpertWeights } from '../native/experts';

/** The native expert kernels when they can run on the current backend (wasm or cpu, fused kernels on), else null. */
function fusedKernels(): NativeExperts | null {
  // the native kernel reads backend memory directly: only wasm and cpu keep it where it can
  const host = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
  return host && fusedKernelsEnabled() ? nativeExperts() : null;
}

/** Whether sparseExperts runs the fused kernel here (chooseDispatch prefers sparse then). */
export function fusedSparseAvailable(): boolean {
  return fusedKernels() !== null;
}

/** Σ over each token's routed slots of gate · expert(x): the fused kernel where it can run, else TF.js ops. */
export function sparseExperts(xTD: tf.Tensor2D, gatesTE: tf.Tensor2D, w: ExpertWeights, plan: DispatchPlan, idxTK: Int32Array): tf.Tensor2D {
  const kernels = fusedKernels();
  return kernels ? fusedSparseExperts(kernels, xTD, gatesTE, w, plan) : sparseExpertsUnfused(xTD, gatesTE, w, plan, idxTK);
}

/** The TF.js-ops reference: per expert a slice of each weight and three matmuls, then gate-weighted slots. */
export function sparseExpertsUnfused(xTD: tf.Tensor2D, gatesTE: tf.Tensor2D, w: ExpertWeights, plan: DispatchPlan, idxTK: Int32Array): tf.Tensor2D {
  const [T, d] = xTD.shape;
  const { experts: E, hidden: h } = w;
  const K = plan.topK;
  if (plan.rows === 0) return tf.mul(xTD, 0);
  const rowsND = dispatchRows(xTD, plan);
  const outs: tf.Tensor2D[] = [];
  for (let e = 0; e < E; e++) {
    const n = plan.countE[e]!;
    if (n === 0) continue;
    const xe = tf.slice(rowsND, [plan.offE[e]!, 0], [n, d]);
    const w1e = tf.slice(w.w1, [0, e * h], [d, h]);
    const w3e = tf.slice(w.w3, [0, e * h], [d, h]);
    const w2e = tf.slice(w.w2, [e * h, 0], [h, d]);
    outs.push(matmul(swiglu(matmul(xe, w1e), matmul(xe, w3e)), w2e));
  }
  const slotsTKD = collectSlots(outs.length === 1 ? outs[0]! : tf.concat(outs, 0), plan);
  // gate of each (token, slot): Σ_e gatesTE[t, e]·[idx[t, j] = e] through a constant one-hot mask
  const oneHotTKE = new Float32Array(T * K * E);
  for (let i = 0; i < T * K; i++) oneHotTKE[i * E + idxTK[i]!] = 1;
  const gTK = tf.sum(tf.mul(tf.reshape(gatesTE, [T, 1, E]), tf.tensor3d(oneHotTKE, [T, K, E])), 2);
  return tf.sum(tf.mul(slotsTKD, tf.reshape(gTK, [T, K, 1])), 1) as tf.Tensor2D;
}
