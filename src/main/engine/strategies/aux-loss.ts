// Strategy "aux-loss" (Switch/GShard, Loss-Controlled): plain top-k plus α·N·Σ_i f_i·P_i in the loss.
//
// Shape legend: T tokens, E experts (N in the formula), K = top-k slots per token.
//   scoresTE    gate scores with gradient; P_E = mean_t of scoresTE normalised per token (= full softmax for softmax gates)
//   selectedTE  constant 0/1 mask of the chosen (token, expert) pairs; f_E = Σ_t selectedTE / (K·T), no gradient
import * as tf from '@tensorflow/tfjs-core';
import type { AuxLossInputs, BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { numberOption, topkSelection } from './common';

/** α·N·Σ_i f_i·P_i over the tokens of one group (the whole batch, or one sequence). Minimum α at uniform f and P. */
export function switchAuxLoss(scoresTE: tf.Tensor2D, selectedTE: tf.Tensor2D, k: number, alpha: number): tf.Scalar {
  return tf.tidy(() => {
    const [T, E] = scoresTE.shape;
    const fE = tf.div(tf.sum(selectedTE, 0), k * T);
    const probsTE = tf.div(scoresTE, tf.sum(scoresTE, 1, true));
    const pE = tf.mean(probsTE, 0);
    return tf.mul(tf.sum(tf.mul(fE, pE)), alpha * E) as tf.Scalar;
  });
}

export function createAuxLoss(spec: LayerSpec, alpha: number): BalancingStrategy {
  return {
    id: 'aux-loss',
    select: (batch) => topkSelection(batch.scoresTE, spec.topK),
    auxLoss: (inputs: AuxLossInputs) => switchAuxLoss(inputs.scoresTE, inputs.selectedTE, spec.topK, alpha),
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const auxLossFactory: StrategyFactory = (spec, options) => createAuxLoss(spec, numberOption(options, 'alpha', 1e-2));
