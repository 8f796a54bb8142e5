// Strategy "capacity" (GShard/Switch token dropping): plain top-k, then each expert keeps at most C = ⌈CF·k·T/E⌉
// of its (token, slot) assignments; the rest are dropped (keepTK = 0) and ride the residual path.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; idxTK/keepTK/valTK [T*K].
//   probs:    per expert, keep the C assignments with the highest gate score (ties: earlier token)
//   position: per expert, keep the C earliest tokens
import * as tf from '@tensorflow/tfjs-core';
import type { BalancingStrategy, LayerSpec, Selection, StrategyFactory } from './types';
import { capacityOf, choiceOption, numberOption } from './common';

export type DropPolicy = 'probs' | 'position';

/** Apply per-expert capacity to a top-k choice (typed arrays only). */
export function dropOverCapacity(idxTK: Int32Array, valTK: Float32Array, experts: number, capacity: number, policy: DropPolicy): Selection {
  const n = idxTK.length;
  const keepTK = new Uint8Array(n);
  const countE = new Int32Array(experts);
  let order: Int32Array;
  if (policy === 'position') order = Int32Array.from({ length: n }, (_, i) => i);
  else order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => valTK[b]! - valTK[a]! || a - b);
  for (const i of order) {
    const e = idxTK[i]!;
    if (countE[e]! < capacity) {
      countE[e]!++;
      keepTK[i] = 1;
    }
  }
  return { idxTK, keepTK };
}

export function createCapacity(spec: LayerSpec, factor: number, policy: DropPolicy): BalancingStrategy {
  return {
    id: 'capacity',
    select(batch) {
      const [T, E] = batch.scoresTE.shape;
      const { values, indices } = tf.topk(batch.scoresTE, spec.topK, true);
      const idxTK = Int32Array.from(indices.dataSync());
      const valTK = Float32Array.from(values.dataSync());
      tf.dispose([values, indices]);
      return dropOverCapacity(idxTK, valTK, E, capacityOf(factor, spec.topK, T, E), policy);
    },
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const capacityFactory: StrategyFactory = (spec, options) =>
  createCapacity(spec, numberOption(options, 'capacityFactor', 1.25), choiceOption<DropPolicy>(options, 'dropPolicy', 'probs'));
