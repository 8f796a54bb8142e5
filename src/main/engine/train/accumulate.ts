// Gradient accumulation helpers: one optimizer step over k micro-batches (docs/strategies.md, "Micro-batch vs
// global batch"): gradient sums, the global batch's f for Qwen's global-batch aux loss, merged routing, MaxVio.
//
// Shape legend: k micro-batches, L layers, E experts, K top-k slots, T tokens of one micro-batch; the global
// batch is the k micro-batches in order (k·T tokens); idxTK/keepTK row-major [T*K].
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batcher';
import type { LayerRouting } from '../model/moe';
import type { Selection } from '../strategies/types';
import { maxVioOf } from './vio';

/** Add one micro-batch's gradients into the running sums (the sums are replaced; both inputs are freed). */
export function addGradients(sum: tf.NamedTensorMap | null, grads: tf.NamedTensorMap): tf.NamedTensorMap {
  if (!sum) return grads;
  const out: tf.NamedTensorMap = {};
  for (const [name, g] of Object.entries(grads)) {
    const s = sum[name];
    out[name] = s ? tf.add(s, g) : g;
    if (s) tf.dispose([s, g]);
  }
  for (const [name, s] of Object.entries(sum)) if (!(name in out)) out[name] = s;
  return out;
}

/**
 * Per layer, f_E = selected (token, slot) pairs per expert over all micro-batches ÷ K·(k·T): the fraction of the
 * global batch routed to each expert, dropped slots included as in the micro-batch f (aux-loss.ts).
 * selectionsKL[j][l] is micro-batch j's selection at layer l.
 */
export function globalFractions(selectionsKL: Selection[][], experts: number): Float32Array[] {
  const layers = selectionsKL[0]?.length ?? 0;
  return Array.from({ length: layers }, (_, l) => {
    const countE = new Float64Array(experts);
    let slots = 0;
    for (const micro of selectionsKL) {
      const idxTK = micro[l]!.idxTK;
      for (let i = 0; i < idxTK.length; i++) countE[idxTK[i]!]!++;
      slots += idxTK.length;
    }
    // slots = K·T_global: every token has K selected slots
    return Float32Array.from(countE, (c) => c / Math.max(1, slots));
  });
}

/**
 * The k micro-batches' routing as one batch of k·T tokens: selections and scores concatenated in order, loads,
 * demand and drops summed, gate mass averaged. With k = 1 the micro-batch's own routing comes back as is.
 */
export function mergeRoutings(routingsKL: LayerRouting[][]): LayerRouting[] {
  if (routingsKL.length === 1) return routingsKL[0]!;
  const k = routingsKL.length;
  return routingsKL[0]!.map((_, l) => {
    const per = routingsKL.map((micro) => micro[l]!);
    const cat = <A extends Int32Array | Uint8Array | Float32Array>(make: (n: number) => A, pick: (r: LayerRouting) => A): A => {
      const out = make(per.reduce((n, r) => n + pick(r).length, 0));
      let at = 0;
      for (const r of per) {
        out.set(pick(r), at);
        at += pick(r).length;
      }
      return out;
    };
    const sum = (pick: (r: LayerRouting) => Float32Array, scale = 1) => {
      const out = new Float32Array(pick(per[0]!).length);
      for (const r of per) pick(r).forEach((x, e) => (out[e]! += x * scale));
      return out;
    };
    const merged: LayerRouting = {
      idxTK: cat((n) => new Int32Array(n), (r) => r.idxTK),
      keepTK: cat((n) => new Uint8Array(n), (r) => r.keepTK),
      loadE: sum((r) => r.loadE),
      demandLoadE: sum((r) => r.demandLoadE),
      gateMassE: sum((r) => r.gateMassE, 1 / k),
      dropped: per.reduce((n, r) => n + r.dropped, 0),
    };
    if (per.every((r) => r.scoresTE)) merged.scoresTE = cat((n) => new Float32Array(n), (r) => r.scoresTE!);
    return merged;
  });
}

/** Per layer, the mean over the micro-batches of each micro-batch's MaxVio (its own T tokens, ideal K·T/E). */
export function microMaxVioL(routingsKL: LayerRouting[][], topK: number, tokensPerMicro: number): number[] {
  const layers = routingsKL[0]?.length ?? 0;
  return Array.from({ length: layers }, (_, l) => routingsKL.reduce((s, micro) => s + maxVioOf(micro[l]!.loadE, topK, tokensPerMicro), 0) / routingsKL.length);
}

/** The micro-batches' inputs in order, the global batch's (top-tokens probe). */
export function concatInputs(batches: Batch[]): Int32Array {
  if (batches.length === 1) return batches[0]!.inputs;
  const out = new Int32Array(batches.reduce((n, b) => n + b.inputs.length, 0));
  let at = 0;
  for (const b of batches) {
    out.set(b.inputs, at);
    at += b.inputs.length;
  }
  return out;
}
