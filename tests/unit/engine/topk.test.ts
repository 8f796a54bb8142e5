// The strategies' top-k loop (strategies/common.ts topkRows) against TF.js's TopK kernel: the same picks in the same
// order on random scores with ties, with and without a per-expert offset, and a hand-worked row.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { describe, expect, it } from 'vitest';
import { topkRows, topkSelection, topkWithOffset } from '../../../src/main/engine/strategies/common';
import { useBackend } from './helpers';

describe.each(['cpu', 'wasm'] as const)('top-k selection on %s', (backend) => {
  it('hand-worked: [0.1, 0.5, 0.5, 0.2] → experts 1 then 2 (the lower index first among equals); offset reorders', () => {
    const v = Float32Array.from([0.1, 0.5, 0.5, 0.2]);
    expect(Array.from(topkRows(v, 1, 4, 2, null).idxTK)).toEqual([1, 2]);
    expect(Array.from(topkRows(v, 1, 4, 2, Float32Array.from([0.5, 0, 0, 0])).idxTK)).toEqual([0, 1]);
    expect(() => topkRows(v, 1, 4, 5, null)).toThrow(/k = 5 for 4 experts/);
  });

  it('same picks and order as tf.topk on 300 random rows (values rounded to force ties), with and without offsets', async () => {
    await useBackend(backend);
    const T = 300;
    const E = 16;
    const scoresTE = tf.tidy(() => tf.div(tf.round(tf.mul(tf.randomUniform([T, E], 0, 1, 'float32', 21), 20)), 20)) as tf.Tensor2D;
    const offsetE = Float32Array.from({ length: E }, (_, e) => ((e * 7) % 5) * 0.013);
    for (const k of [1, 2, 4]) {
      const want = tf.tidy(() => tf.topk(scoresTE, k, true).indices.dataSync());
      expect(Array.from(topkSelection(scoresTE, k).idxTK)).toEqual(Array.from(want));
      const wantOff = tf.tidy(() => tf.topk(tf.add(scoresTE, tf.tensor1d(offsetE)), k, true).indices.dataSync());
      const sel = topkWithOffset(scoresTE, offsetE, k);
      expect(Array.from(sel.idxTK)).toEqual(Array.from(wantOff));
      expect(sel.keepTK.every((x) => x === 1)).toBe(true);
    }
    scoresTE.dispose();
  });
});
