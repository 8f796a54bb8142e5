// Strategy "aux-loss" (Switch/GShard, Loss-Controlled): plain top-k plus α·N·Σ_i f_i·P_i in the loss.
//
// Shape legend: T tokens, E experts (N in the formula), K = top-k slots per token.
//   scoresTE    gate scores with gradient; P_E = mean_t of scoresTE normalised per token (= full softmax for softmax gates)
//   selectedTE  constant 0/1 mask of the chosen (token, expert) pairs; f_E = Σ_t selectedTE / (K·T), no gradient
// scope 'global' (Qwen's global-batch loss, Qiu et al. 2025): f_E over the optimizer step's whole batch (every
// micro-batch, given by the trainer as globalFractionE), P_E still of this micro-batch.
import * as tf from '@tensorflow/tfjs-core';
import type { AuxLossInputs, BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { choiceOption, numberOption, topkSelection } from './common';

export type AuxScope = 'micro' | 'global';

/**
 * α·N·Σ_i f_i·P_i over the tokens of one group (the whole batch, or one sequence). Minimum α at uniform f and P.
 * fE, when given, replaces this group's own f (the global batch's); it is a constant like the group's own.
 */
export function switchAuxLoss(scoresTE: tf.Tensor2D, selectedTE: tf.Tensor2D, k: number, alpha: number, fE?: Float32Array): tf.Scalar {
  return tf.tidy(() => {
    const [T, E] = scoresTE.shape;
    if (fE && fE.length !== E) throw new RangeError(`aux-loss: global f has ${fE.length} experts, the scores ${E}`);
    const f = fE ? tf.tensor1d(fE) : tf.div(tf.sum(selectedTE, 0), k * T);
    const probsTE = tf.div(scoresTE, tf.sum(scoresTE, 1, true));
    const pE = tf.mean(probsTE, 0);
    return tf.mul(tf.sum(tf.mul(f, pE)), alpha * E) as tf.Scalar;
  });
}

export function createAuxLoss(spec: LayerSpec, alpha: number, scope: AuxScope = 'micro'): BalancingStrategy {
  const strategy: BalancingStrategy = {
    id: 'aux-loss',
    select: (batch) => topkSelection(batch.scoresTE, spec.topK),
    // without a global f (validation, `loadscope route`) the global scope falls back to the micro-batch's own
    auxLoss: (inputs: AuxLossInputs) => switchAuxLoss(inputs.scoresTE, inputs.selectedTE, spec.topK, alpha, scope === 'global' ? inputs.globalFractionE : undefined),
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
  return scope === 'global' ? { ...strategy, globalBatchAux: true } : strategy;
}

export const auxLossFactory: StrategyFactory = (spec, options) => createAuxLoss(spec, numberOption(options, 'alpha', 1e-2), choiceOption<AuxScope>(options, 'scope', 'micro'));
