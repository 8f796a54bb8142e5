// Compositions on top of any strategy: capacity dropping after loss-free's selection, and loss-free plus a
// sequence-wise aux loss (DeepSeek-V3).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import { sequenceAuxLoss } from '../../../src/main/engine/strategies/seq-aux-loss';
import { step, useCpu } from './helpers';

beforeAll(useCpu);

const spec = { layer: 0, experts: 4, topK: 1, scoreFn: 'softmax' as const };
// 8 tokens, all prefer expert 0 with scores 0.9, 0.85, …, 0.55 (0.05 elsewhere)
const S = [0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55].flatMap((v) => [v, 0.05, 0.05, 0.05]);

describe('strategy composition', () => {
  it('capacity on top of loss-free: C = ⌈1·1·8/4⌉ = 2 keeps the two best on expert 0; the bias sees kept loads', () => {
    const s = createLayerStrategy({ strategy: 'loss-free', strategyOptions: { u: 0.1 }, zLoss: 0, composeCapacity: 1 }, spec);
    const sel = step(s, S, 8, 4);
    expect(Array.from(sel.idxTK)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(sel.keepTK)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(sel.loadE)).toEqual([2, 0, 0, 0]);
    // kept loads [2, 0, 0, 0], mean 0.5: e = [−1.5, 0.5, 0.5, 0.5]; rule auto (softmax) = proportional:
    // b = 0.1·e/0.5 = [−0.3, 0.1, 0.1, 0.1]
    const b = s.getState().bias!;
    [-0.3, 0.1, 0.1, 0.1].forEach((w, i) => expect(b[i]!).toBeCloseTo(w, 6));
    s.dispose();
  });

  it('loss-free + sequence-wise aux loss: the aux loss is α·N·mean_s Σ f·P of the selection', () => {
    const s = createLayerStrategy({ strategy: 'loss-free', strategyOptions: {}, zLoss: 0, composeSeqAux: 1e-2 }, spec);
    const scoresTE = tf.tensor2d(S, [8, 4]);
    const mask = new Float32Array(32);
    for (let t = 0; t < 8; t++) mask[t * 4] = 1;
    const selectedTE = tf.tensor2d(mask, [8, 4]);
    const got = s.auxLoss!({ scoresTE, logitsTE: tf.log(scoresTE) as tf.Tensor2D, selectedTE, seqLen: 4 });
    const want = sequenceAuxLoss(scoresTE, selectedTE, 4, 1, 1e-2);
    // by hand: every token on expert 0, so per sequence f = count/(k·seqLen) = [1, 0, 0, 0] and only P_0 counts:
    // P_0 = mean of s/Σs = mean(0.9/1.05, 0.85/1.0, 0.8/0.95, 0.75/0.9) = 0.84563 (seq 1), 0.80543 (seq 2);
    // loss = α·N·mean_s P_0 = 0.01·4·0.82553 = 0.033021
    expect(got.dataSync()[0]!).toBeCloseTo(want.dataSync()[0]!, 7);
    expect(got.dataSync()[0]!).toBeCloseTo(0.033021, 5);
    tf.dispose([scoresTE, selectedTE, got, want]);
    s.dispose();
  });
});
