// Strategy "z-loss" (ST-MoE): plain top-k selection plus c_z·mean_t(logsumexp_e logits_te)² in the loss.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; logitsTE [T, E] (with gradient in auxLoss).
import * as tf from '@tensorflow/tfjs-core';
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { numberOption, topkSelection } from './common';

/** c_z · mean over tokens of logsumexp(logits)²; differentiable in logitsTE. */
export function zLossTerm(logitsTE: tf.Tensor2D, cz: number): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.mean(tf.square(tf.logSumExp(logitsTE, 1))), cz) as tf.Scalar);
}

export function createZLoss(spec: LayerSpec, cz: number): BalancingStrategy {
  return {
    id: 'z-loss',
    select: (batch) => topkSelection(batch.scoresTE, spec.topK),
    auxLoss: (inputs) => zLossTerm(inputs.logitsTE, cz),
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const zLossFactory: StrategyFactory = (spec, options) => createZLoss(spec, numberOption(options, 'cz', 1e-3));
