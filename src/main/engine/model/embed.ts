// The model's input: token embedding rows plus learned positions, one differentiable op (JS loops) on host backends.
//
// Shape legend: B sequences, S positions, T = B·S tokens, d model width, V vocabulary rows, C context rows of wpe.
// As TF.js ops this is a gather, a slice, a broadcast add and two reshapes forward, and backward a one-hot
// matmul, a pad and a reduction: about a dozen kernels for arrays of a few ten thousand floats. On host backends
// one tape node does it: x[b·S + s] = wte[ids[b·S + s]] + wpe[s]; backward dwte[v] = Σ_{t: ids[t] = v} dy[t]
// and dwpe[s] = Σ_b dy[b·S + s] (rows past S stay 0). Both inputs are variables, read through views when
// needed: nothing is saved, so the tape clones nothing. Device backends keep the TF.js ops.
import * as tf from '@tensorflow/tfjs-core';
import { readView } from '../train/views';
import { embedRows } from './dispatch';
import { fusedKernelsEnabled } from './rmsnorm';

/** wte[ids] + wpe[position] as [B·S, d]. */
export function embedTokens(wteVD: tf.Variable, wpeCD: tf.Variable, ids: Int32Array, B: number, S: number): tf.Tensor2D {
  const [V, d] = wteVD.shape as [number, number];
  const C = wpeCD.shape[0]!;
  if (ids.length !== B * S) throw new Error(`embedTokens: ${ids.length} token ids for ${B} × ${S} positions`);
  if (S > C) throw new Error(`embedTokens: ${S} positions but the position table has ${C} rows`);
  if (!fusedKernelsEnabled()) {
    const tok = tf.reshape(embedRows(wteVD, ids), [B, S, d]);
    return tf.reshape(tf.add(tok, tf.slice(wpeCD, [0, 0], [S, d])), [B * S, d]) as tf.Tensor2D;
  }
  for (let t = 0; t < ids.length; t++) {
    if (!(ids[t]! >= 0 && ids[t]! < V)) throw new Error(`embedTokens: token id ${ids[t]} at ${t} is outside 0..${V - 1}`);
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = new Float32Array(B * S * d);
    embedForward(readView(args[0] as tf.Tensor), readView(args[1] as tf.Tensor), ids, x, S, d);
    const gradFunc = (dy: tf.Tensor) => {
      const dw = new Float32Array(V * d);
      const dp = new Float32Array(C * d);
      embedBackward(readView(dy), ids, dw, dp, S, d);
      return [tf.tensor2d(dw, [V, d]), tf.tensor2d(dp, [C, d])];
    };
    return { value: tf.tensor2d(x, [B * S, d]), gradFunc };
  });
  return op(wteVD, wpeCD) as tf.Tensor2D;
}

// module-level loops: optimised once by V8 (gates.ts says why)
function embedForward(w: Float32Array, p: Float32Array, ids: Int32Array, x: Float32Array, S: number, d: number): void {
  for (let t = 0; t < ids.length; t++) {
    const wo = ids[t]! * d;
    const po = (t % S) * d;
    const xo = t * d;
    for (let j = 0; j < d; j++) x[xo + j] = w[wo + j]! + p[po + j]!;
  }
}

function embedBackward(g: Float32Array, ids: Int32Array, dw: Float32Array, dp: Float32Array, S: number, d: number): void {
  for (let t = 0; t < ids.length; t++) {
    const wo = ids[t]! * d;
    const po = (t % S) * d;
    const go = t * d;
    for (let j = 0; j < d; j++) {
      dw[wo + j]! += g[go + j]!;
      dp[po + j]! += g[go + j]!;
    }
  }
}
