// The router's score function and gate values, each one differentiable op (JS loops) on host backends, or TF.js ops.
//
// Shape legend: T tokens, E experts, K top-k slots.
//   logitsTE → scoresTE   softmax over E (or sigmoid)
//   scoresTE → gatesTE    scores of the selected experts, renormalised over them (optional), dropped slots zeroed
// As TF.js ops the two cost 6 kernels forward and about 15 backward per layer (softmax, mask, sum, add, div and
// their gradients), each a full round of TF.js bookkeeping on a [T, E] array of a few thousand floats. On host
// backends (wasm, cpu) each is one tape node whose forward and backward are plain loops over host views; they
// save no tensor (the values they need are copied into small arrays the closures keep), so the tape clones
// nothing. Auxiliary losses still differentiate through scoresTE: its gradient is the sum of both consumers'.
// Device backends (webgpu) keep the TF.js ops: there the loops would read every array off the device.
import * as tf from '@tensorflow/tfjs-core';
import { readView } from '../train/views';
import { fusedKernelsEnabled } from './rmsnorm';

/** The selection as constant [T, E] masks (a pair chosen twice counts once), the loads and the dropped slots. */
export interface RouteMasks {
  /** 1 where (token, expert) was chosen, dropped slots included */
  selTE: Float32Array;
  /** 1 where (token, expert) is routed (dropped slots removed) */
  keptTE: Float32Array;
  loadE: Float32Array;
  dropped: number;
}

export function routeMasks(idxTK: Int32Array, keepTK: Uint8Array, T: number, E: number, K: number): RouteMasks {
  const selTE = new Float32Array(T * E);
  const keptTE = new Float32Array(T * E);
  const loadE = new Float32Array(E);
  let dropped = 0;
  for (let i = 0; i < T * K; i++) {
    const e = idxTK[i]!;
    const te = Math.floor(i / K) * E + e;
    selTE[te] = 1;
    if (keepTK[i]) {
      keptTE[te] = 1;
      loadE[e]!++;
    } else dropped++;
  }
  return { selTE, keptTE, loadE, dropped };
}

// The loops live at module level, not in the per-call closures below: V8 then optimises each once, where a
// loop inside a closure made afresh every step was deoptimised and recompiled again and again (measured: the
// ops ran slower than the TF.js kernels they replace until the loops moved here).

function scoresForward(fn: 'softmax' | 'sigmoid', z: Float32Array, s: Float32Array, T: number, E: number): void {
  if (fn === 'sigmoid') {
    for (let i = 0; i < T * E; i++) s[i] = 1 / (1 + Math.exp(-z[i]!));
    return;
  }
  for (let t = 0; t < T; t++) {
    const o = t * E;
    let max = -Infinity;
    for (let e = 0; e < E; e++) max = Math.max(max, z[o + e]!);
    let sum = 0;
    for (let e = 0; e < E; e++) {
      const x = Math.exp(z[o + e]! - max);
      s[o + e] = x;
      sum += x;
    }
    for (let e = 0; e < E; e++) s[o + e]! /= sum;
  }
}

/** softmax: dz = s ⊙ (dy − Σ_e dy·s); sigmoid: dz = dy·s·(1 − s) */
function scoresBackward(fn: 'softmax' | 'sigmoid', g: Float32Array, s: Float32Array, dz: Float32Array, T: number, E: number): void {
  if (fn === 'sigmoid') {
    for (let i = 0; i < T * E; i++) dz[i] = g[i]! * s[i]! * (1 - s[i]!);
    return;
  }
  for (let t = 0; t < T; t++) {
    const o = t * E;
    let dot = 0;
    for (let e = 0; e < E; e++) dot += g[o + e]! * s[o + e]!;
    for (let e = 0; e < E; e++) dz[o + e] = s[o + e]! * (g[o + e]! - dot);
  }
}

/** Gate values before drops (preTE), 1/Z per token and the gates after drops (out). */
function gatesForward(s: Float32Array, sel: Float32Array, kept: Float32Array, renormalize: boolean, preTE: Float32Array, invZT: Float64Array, out: Float32Array, T: number, E: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * E;
    let z = 0;
    for (let e = 0; e < E; e++) z += s[o + e]! * sel[o + e]!;
    const inv = renormalize ? 1 / (z + 1e-9) : 1;
    invZT[t] = inv;
    for (let e = 0; e < E; e++) {
      const p = s[o + e]! * sel[o + e]! * inv;
      preTE[o + e] = p;
      out[o + e] = p * kept[o + e]!;
    }
  }
}

/** renormalised: ds_e = sel_e·(dy_e·kept_e − Σ_j dy_j·kept_j·pre_j)/Z; else ds_e = sel_e·kept_e·dy_e */
function gatesBackward(g: Float32Array, sel: Float32Array, kept: Float32Array, renormalize: boolean, preTE: Float32Array, invZT: Float64Array, ds: Float32Array, T: number, E: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * E;
    let dot = 0;
    if (renormalize) for (let e = 0; e < E; e++) dot += g[o + e]! * kept[o + e]! * preTE[o + e]!;
    const inv = invZT[t]!;
    for (let e = 0; e < E; e++) ds[o + e] = sel[o + e]! * (g[o + e]! * kept[o + e]! - dot) * inv;
  }
}

/** Gate scores of the router logits: softmax over each row's E experts, or an independent sigmoid per expert. */
export function routerScores(logitsTE: tf.Tensor2D, fn: 'softmax' | 'sigmoid'): tf.Tensor2D {
  if (!fusedKernelsEnabled()) return fn === 'softmax' ? tf.softmax(logitsTE) : tf.sigmoid(logitsTE);
  const [T, E] = logitsTE.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const s = new Float32Array(T * E);
    scoresForward(fn, readView(args[0] as tf.Tensor), s, T, E);
    // s stays with the closure: the output tensor gets its own copy on wasm (and never a write on cpu)
    const gradFunc = (dy: tf.Tensor) => {
      const dz = new Float32Array(T * E);
      scoresBackward(fn, readView(dy), s, dz, T, E);
      return [tf.tensor2d(dz, [T, E])];
    };
    return { value: tf.tensor2d(s, [T, E]), gradFunc };
  });
  return op(logitsTE) as tf.Tensor2D;
}

/**
 * gatesTE = scores of the selected experts (÷ their sum + 1e-9 per token when renormalize), × kept: the
 * renormalisation sees the k chosen before capacity drops remove a slot. Differentiable in scoresTE.
 */
export function gateValues(scoresTE: tf.Tensor2D, m: RouteMasks, renormalize: boolean): tf.Tensor2D {
  if (!fusedKernelsEnabled()) return gateValuesOps(scoresTE, m, renormalize);
  const [T, E] = scoresTE.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const preTE = new Float32Array(T * E); // the gates before drops (the renormalised scores of the chosen)
    const invZT = new Float64Array(T);
    const out = new Float32Array(T * E);
    gatesForward(readView(args[0] as tf.Tensor), m.selTE, m.keptTE, renormalize, preTE, invZT, out, T, E);
    const gradFunc = (dy: tf.Tensor) => {
      const ds = new Float32Array(T * E);
      gatesBackward(readView(dy), m.selTE, m.keptTE, renormalize, preTE, invZT, ds, T, E);
      return [tf.tensor2d(ds, [T, E])];
    };
    return { value: tf.tensor2d(out, [T, E]), gradFunc };
  });
  return op(scoresTE) as tf.Tensor2D;
}

/** The same gates as TF.js ops with TF.js's own gradients (device backends, LOADSCOPE_NATIVE=0, tests). */
export function gateValuesOps(scoresTE: tf.Tensor2D, m: RouteMasks, renormalize: boolean): tf.Tensor2D {
  const [T, E] = scoresTE.shape;
  let gatesTE = tf.mul(scoresTE, tf.tensor2d(m.selTE, [T, E]));
  if (renormalize) gatesTE = tf.div(gatesTE, tf.add(tf.sum(gatesTE, 1, true), 1e-9));
  if (m.dropped > 0) gatesTE = tf.mul(gatesTE, tf.tensor2d(m.keptTE, [T, E]));
  return gatesTE as tf.Tensor2D;
}
