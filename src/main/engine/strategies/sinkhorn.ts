// Strategy "sinkhorn" (S-BASE, Clark et al. 2022; Megatron's sinkhorn): top-k of a nearly doubly-stochastic
// rescaling of exp(logits) while training, plain top-k of the gate scores in validation.
//
// Shape legend: T tokens, E experts, K = top-k slots per token.
//   costTE = exp(logits − rowmax)   (a per-row factor is absorbed by d0T, and keeps exp from overflowing)
//   repeat: d0T = (1/T) / (costTE·d1E + 1e-8);  d1E = (1/E) / (d0Tᵀ·costTE + 1e-8)  until mean|Δd1E| ≤ tol
//   planTE = d0T · costTE · d1E; gate values still come from the original scores (the engine gathers them)
import * as tf from '@tensorflow/tfjs-core';
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { numberOption, topkSelection } from './common';

export interface SinkhornResult {
  planTE: tf.Tensor2D;
  iterations: number;
}

export function sinkhornPlan(logitsTE: tf.Tensor2D, tol: number, maxIter: number): SinkhornResult {
  const [T, E] = logitsTE.shape;
  const costTE = tf.tidy(() => tf.exp(tf.sub(logitsTE, tf.max(logitsTE, 1, true))) as tf.Tensor2D);
  let d0T = tf.ones([T, 1]) as tf.Tensor2D;
  let d1E = tf.ones([1, E]) as tf.Tensor2D;
  let iterations = 0;
  while (iterations < maxIter) {
    iterations++;
    const [n0, n1, err] = tf.tidy(() => {
      const a = tf.div(1 / T, tf.add(tf.sum(tf.mul(costTE, d1E), 1, true), 1e-8)) as tf.Tensor2D;
      const b = tf.div(1 / E, tf.add(tf.sum(tf.mul(costTE, a), 0, true), 1e-8)) as tf.Tensor2D;
      return [a, b, tf.mean(tf.abs(tf.sub(b, d1E)))] as const;
    });
    d0T.dispose();
    d1E.dispose();
    d0T = n0;
    d1E = n1;
    const e = err.dataSync()[0]!;
    err.dispose();
    if (e <= tol) break;
  }
  const planTE = tf.tidy(() => tf.mul(tf.mul(costTE, d0T), d1E) as tf.Tensor2D);
  tf.dispose([costTE, d0T, d1E]);
  return { planTE, iterations };
}

export function createSinkhorn(spec: LayerSpec, tol: number, maxIter: number): BalancingStrategy {
  let iterations = 0;
  return {
    id: 'sinkhorn',
    select(batch) {
      if (!batch.training) return topkSelection(batch.scoresTE, spec.topK);
      const result = sinkhornPlan(batch.logitsTE, tol, maxIter);
      const planTE = result.planTE;
      iterations = result.iterations;
      try {
        return topkSelection(planTE, spec.topK);
      } finally {
        planTE.dispose();
      }
    },
    diagnostics: () => ({ iterations }),
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const sinkhornFactory: StrategyFactory = (spec, options) =>
  createSinkhorn(spec, numberOption(options, 'tol', 1e-4), numberOption(options, 'maxIter', 50));
