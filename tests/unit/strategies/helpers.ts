// Test helpers: run a strategy on plain score arrays (cpu backend) and read back the selection and its metrics.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import type { BalancingStrategy, Selection } from '../../../src/main/engine/strategies/types';
import type { StrategyId, StrategyOptions } from '../../../src/shared/strategy-descriptors';
import { idealLoad, loadsFromSelection, maxVio } from '../../../src/shared/metrics';

export async function useCpu(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
}

export function make(strategy: StrategyId, E: number, k: number, options: StrategyOptions = {}, zLoss = 0): BalancingStrategy {
  return createLayerStrategy({ strategy, strategyOptions: options, zLoss }, { layer: 0, experts: E, topK: k, scoreFn: 'softmax' });
}

/** One routing step on row-major scores (logits = log scores unless given); calls afterStep when training. */
export function step(
  s: BalancingStrategy,
  scores: ArrayLike<number>,
  T: number,
  E: number,
  opts: { training?: boolean; logits?: ArrayLike<number>; capacity?: number; seqLen?: number } = {},
): Selection & { loadE: Int32Array } {
  const training = opts.training ?? true;
  const scoresTE = tf.tensor2d(Float32Array.from(scores), [T, E]);
  const logitsTE = opts.logits ? tf.tensor2d(Float32Array.from(opts.logits), [T, E]) : tf.tidy(() => tf.log(scoresTE) as tf.Tensor2D);
  try {
    const sel = s.select({ scoresTE, logitsTE, seqLen: opts.seqLen ?? T, training, capacity: opts.capacity });
    const loadE = loadsFromSelection(sel.idxTK, sel.keepTK, E);
    if (training) s.afterStep?.(Float32Array.from(loadE));
    return { ...sel, loadE };
  } finally {
    tf.dispose([scoresTE, logitsTE]);
  }
}

export function vioOf(loadE: Int32Array, k: number, T: number): number {
  return maxVio(loadE, idealLoad(k, T, loadE.length));
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
