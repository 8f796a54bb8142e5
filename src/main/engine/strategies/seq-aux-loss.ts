// Strategy "seq-aux-loss" (DeepSeek-V2/V3, Minimind seq_aux): the Switch loss per sequence, averaged over sequences.
//
// Shape legend: T tokens = S sequences × L (seqLen), E experts, K = top-k slots per token.
//   scoresTE → scoresSLE, selectedTE → selectedSLE; f_SE = Σ_l selected / (K·L), P_SE = mean_l normalised score
import * as tf from '@tensorflow/tfjs-core';
import type { AuxLossInputs, BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { numberOption, topkSelection } from './common';

/** α·N·mean_s Σ_i f_si·P_si; a seqLen that does not divide T is a caller bug and throws. */
export function sequenceAuxLoss(scoresTE: tf.Tensor2D, selectedTE: tf.Tensor2D, seqLen: number, k: number, alpha: number): tf.Scalar {
  const [T, E] = scoresTE.shape;
  if (!(seqLen > 0) || T % seqLen !== 0) throw new RangeError(`seq-aux-loss: seqLen ${seqLen} does not divide ${T} tokens`);
  const S = T / seqLen;
  return tf.tidy(() => {
    const fSE = tf.div(tf.sum(tf.reshape(selectedTE, [S, seqLen, E]), 1), k * seqLen);
    const probsTE = tf.div(scoresTE, tf.sum(scoresTE, 1, true));
    const pSE = tf.mean(tf.reshape(probsTE, [S, seqLen, E]), 1);
    return tf.mul(tf.mean(tf.sum(tf.mul(fSE, pSE), 1)), alpha * E) as tf.Scalar;
  });
}

export function createSeqAuxLoss(spec: LayerSpec, alpha: number): BalancingStrategy {
  return {
    id: 'seq-aux-loss',
    select: (batch) => topkSelection(batch.scoresTE, spec.topK),
    auxLoss: (inputs: AuxLossInputs) => sequenceAuxLoss(inputs.scoresTE, inputs.selectedTE, inputs.seqLen, spec.topK, alpha),
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const seqAuxLossFactory: StrategyFactory = (spec, options) => createSeqAuxLoss(spec, numberOption(options, 'alpha', 1e-3));
