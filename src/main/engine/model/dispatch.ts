// Token ↔ expert movement for the sparse MoE path, with hand-written gradients that run on cpu and wasm.
//
// Shape legend: T tokens, E experts, K top-k slots, N routed (token, slot) rows, d model width.
//   idxTK/keepTK  chosen expert per slot and 1 = routed (row-major [T*K])
//   tokN          token of each routed row, rows grouped by expert (expert 0's rows first)
//   slotN         (t*K + j) slot each row came from
//   posTK         row of each slot in the grouped order, N for a dropped slot (it reads a zero row)
//   countE/offE   rows per expert and where each expert's rows start
//
// Why custom gradients: TF.js has no gradient for GatherNd/ScatterNd, and gather's own gradient needs
// UnsortedSegmentSum, which the wasm backend lacks. Here every move is a plain gather whose adjoint is
// again a plain gather, because the routing plan is known (outside the tape) before the moves:
//   dispatch  rowsND = x[tokN]            adjoint  dX[t] = Σ_j dRows[posTK[t,j]]   (zero row for drops)
//   collect   slotsTKD = rows[posTK]      adjoint  dRows[r] = dSlots[slotN[r]]     (each row has one slot)
import * as tf from '@tensorflow/tfjs-core';

export interface DispatchPlan {
  tokens: number;
  topK: number;
  rows: number;
  countE: Int32Array;
  offE: Int32Array;
  tokN: Int32Array;
  slotN: Int32Array;
  posTK: Int32Array;
}

/** Group the routed slots by expert (token order inside an expert, so plans are deterministic). */
export function planDispatch(idxTK: Int32Array, keepTK: Uint8Array, tokens: number, topK: number, experts: number): DispatchPlan {
  const countE = new Int32Array(experts);
  for (let i = 0; i < idxTK.length; i++) if (keepTK[i]) countE[idxTK[i]!]!++;
  const offE = new Int32Array(experts);
  for (let e = 1; e < experts; e++) offE[e] = offE[e - 1]! + countE[e - 1]!;
  const rows = offE[experts - 1]! + countE[experts - 1]!;
  const fill = Int32Array.from(offE);
  const tokN = new Int32Array(rows);
  const slotN = new Int32Array(rows);
  const posTK = new Int32Array(tokens * topK).fill(rows);
  for (let i = 0; i < idxTK.length; i++) {
    if (!keepTK[i]) continue;
    const r = fill[idxTK[i]!]!++;
    tokN[r] = Math.floor(i / topK);
    slotN[r] = i;
    posTK[i] = r;
  }
  return { tokens, topK, rows, countE, offE, tokN, slotN, posTK };
}

/** tf.customGrad for a one-input op, with the (awkward) variadic typing handled once. */
function unary<T extends tf.Tensor>(
  body: (x: tf.Tensor, save: tf.GradSaveFunc) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor },
): (x: tf.Tensor) => T {
  const f = tf.customGrad<T>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { value, gradFunc } = body(args[0] as tf.Tensor, args[1] as tf.GradSaveFunc);
    return { value, gradFunc: (dy: T, saved: tf.Tensor[]) => [gradFunc(dy, saved)] };
  });
  return (x) => f(x);
}

/** rows [n, c] with one zero row appended: the target of every dropped slot */
function padZeroRow(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([x, tf.zeros([1, x.shape[1]])], 0);
}

/** rowsND = xTD[tokN]: each routed (token, slot) gets a copy of its token's vector. */
export function dispatchRows(xTD: tf.Tensor2D, plan: DispatchPlan): tf.Tensor2D {
  const f = unary<tf.Tensor2D>((x, save) => {
    // index tensors live through the backward pass only if saved (the forward runs in a tidy)
    const tokN = tf.tensor1d(plan.tokN, 'int32');
    const posTK = tf.tensor1d(plan.posTK, 'int32');
    save([posTK]);
    const value = tf.gather(x as tf.Tensor2D, tokN);
    const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const d = x.shape[1]!;
      const per = tf.reshape(tf.gather(padZeroRow(dy as tf.Tensor2D), saved[0]!), [plan.tokens, plan.topK, d]);
      return tf.sum(per, 1);
    };
    return { value, gradFunc };
  });
  return f(xTD);
}

/** slotsTKD = rowsND[posTK] (zeros for dropped slots): expert outputs back in (token, slot) order. */
export function collectSlots(rowsND: tf.Tensor2D, plan: DispatchPlan): tf.Tensor3D {
  const f = unary<tf.Tensor3D>((rows, save) => {
    const slotN = tf.tensor1d(plan.slotN, 'int32');
    const posTK = tf.tensor1d(plan.posTK, 'int32');
    save([slotN]);
    const d = rows.shape[1]!;
    const value = tf.reshape(tf.gather(padZeroRow(rows as tf.Tensor2D), posTK), [plan.tokens, plan.topK, d]) as tf.Tensor3D;
    const gradFunc = (dy: tf.Tensor3D, saved: tf.Tensor[]) => tf.gather(tf.reshape(dy, [plan.tokens * plan.topK, d]), saved[0]!);
    return { value, gradFunc };
  });
  return f(rowsND);
}

/** Rows of a weight matrix by index with gradient dW = oneHotᵀ·dy (indices may repeat: embeddings). */
export function embedRows(wVD: tf.Tensor, ids: Int32Array): tf.Tensor2D {
  const f = unary<tf.Tensor2D>((w, save) => {
    const idx = tf.tensor1d(ids, 'int32');
    save([idx]);
    const value = tf.gather(w as tf.Tensor2D, idx);
    const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const oneHotNV = tf.cast(tf.oneHot(saved[0]! as tf.Tensor1D, w.shape[0]!), 'float32') as tf.Tensor2D;
      // explicit transpose: wasm's transposed matmul is slow (linear.ts)
      return tf.matMul(tf.transpose(oneHotNV), dy);
    };
    return { value, gradFunc };
  });
  return f(wVD);
}
