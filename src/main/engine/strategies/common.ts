// Helpers shared by the balancing strategies: top-k on a tensor into typed arrays, loads, option reading.
//
// Shape legend: T tokens, E experts, K = top-k slots per token.
//   scoresTE  gate scores [T, E]    idxTK/keepTK  chosen expert and 1 = routed, row-major [T*K]    loadE  per expert
import * as tf from '@tensorflow/tfjs-core';
import type { StrategyOptions } from '../../../shared/strategy-descriptors';
import type { Selection } from './types';

/**
 * Top-k of a [T, E] tensor (not disposed here) as a Selection with every slot kept. A loop over one host copy
 * rather than TF.js's TopK kernel (a kernel, a tidy and a second read per layer and step): the same picks, in the
 * same order (descending, the lower expert first among equal values, as tf.topk).
 */
export function topkSelection(rankTE: tf.Tensor2D, k: number): Selection {
  return topkRows(rankTE.dataSync() as Float32Array, rankTE.shape[0], rankTE.shape[1], k, null);
}

/** Top-k of scoresTE + offsetE (the offset only reorders; it never reaches the gate values). */
export function topkWithOffset(scoresTE: tf.Tensor2D, offsetE: Float32Array, k: number): Selection {
  return topkRows(scoresTE.dataSync() as Float32Array, scoresTE.shape[0], scoresTE.shape[1], k, offsetE);
}

/** Row-wise top-k of v [T, E] (+ offsetE, summed in float32 as tf.add would) by k passes of a strict argmax. */
export function topkRows(v: Float32Array, T: number, E: number, k: number, offsetE: Float32Array | null): Selection {
  if (!Number.isInteger(k) || k < 1 || k > E) throw new RangeError(`top-k: k = ${k} for ${E} experts`);
  const idxTK = new Int32Array(T * k);
  const taken = new Uint8Array(E);
  const row = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) row[e] = offsetE ? Math.fround(v[t * E + e]! + offsetE[e]!) : v[t * E + e]!;
    taken.fill(0);
    for (let j = 0; j < k; j++) {
      let best = -1;
      // NaN ranks below everything (tf.topk's order for NaN is unspecified; a NaN score means a diverged run)
      for (let e = 0; e < E; e++) if (!taken[e] && (best < 0 || row[e]! > row[best]! || (Number.isNaN(row[best]!) && !Number.isNaN(row[e]!)))) best = e;
      taken[best] = 1;
      idxTK[t * k + j] = best;
    }
  }
  return { idxTK, keepTK: new Uint8Array(idxTK.length).fill(1) };
}

/** Kept (token, slot) assignments per expert. */
export function loadsOf(sel: Selection, experts: number): Int32Array {
  const loadE = new Int32Array(experts);
  for (let i = 0; i < sel.idxTK.length; i++) if (sel.keepTK[i]) loadE[sel.idxTK[i]!]!++;
  return loadE;
}

export function numberOption(options: StrategyOptions, name: string, fallback: number): number {
  const v = options[name];
  return typeof v === 'number' ? v : fallback;
}

export function choiceOption<C extends string>(options: StrategyOptions, name: string, fallback: C): C {
  const v = options[name];
  return (typeof v === 'string' ? v : fallback) as C;
}

export function booleanOption(options: StrategyOptions, name: string, fallback: boolean): boolean {
  const v = options[name];
  return typeof v === 'boolean' ? v : fallback;
}

/** A copy of a named state array, checked for length (checkpoints from another shape must not load silently). */
export function readState(state: Record<string, Float32Array>, name: string, length: number): Float32Array | undefined {
  const v = state[name];
  if (v === undefined) return undefined;
  if (v.length !== length) throw new RangeError(`strategy state "${name}" has ${v.length} values, expected ${length}`);
  return Float32Array.from(v);
}

/** ⌈factor·k·T/E⌉, the per-expert capacity of Megatron's get_capacity. */
export function capacityOf(factor: number, k: number, tokens: number, experts: number): number {
  // the small slack keeps exact products such as 1.25·2·4096/16 from rounding up by float noise
  return Math.ceil((factor * k * tokens) / experts - 1e-9);
}
