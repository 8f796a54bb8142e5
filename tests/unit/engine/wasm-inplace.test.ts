// AdamW's update must reach the next matmul on wasm without the native kernels (TF.js's XNNPACK matmul
// caches packed weights by data id, so writing a weight in place would leave the forward pass stale).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { AdamW } from '../../../src/main/engine/train/optimizer';
import { isNativeMatMulInstalled } from '../../../src/main/engine/native/kernels';
import { useBackend } from './helpers';

beforeAll(async () => {
  process.env.LOADSCOPE_NATIVE = '0'; // read when the backend installs its kernels: this file runs TF.js's own wasm matmul
  await useBackend('wasm');
});

it('an AdamW step is seen by the next wasm matmul (no stale packed weights)', async () => {
  expect(isNativeMatMulInstalled('wasm')).toBe(false);
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const init = tf.tensor2d([0.5, -1, 2, 0.25, -0.75, 1.5], [3, 2]);
  const w = tf.variable(init, true, 'w');
  init.dispose(); // the variable alone holds its data, as the model's weights do: AdamW may write it in place
  const before = await tf.matMul(x, w).data(); // packs w into an XNNPACK operator
  const opt = new AdamW([['w', w]], { weightDecay: 0 });
  opt.update({ w: tf.ones([3, 2]) }, 0.1, 0); // first Adam step (no clipping) moves every weight by ≈ −lr
  const after = await tf.matMul(x, w).data();
  const fresh = await tf.matMul(x, tf.tensor2d(await w.data(), [3, 2])).data();
  // x rows sum to 6 and 15: each output falls by ≈ 0.1·6 and 0.1·15
  expect(Array.from(after).map((v, i) => +(before[i]! - v).toFixed(3))).toEqual([0.6, 0.6, 1.5, 1.5]);
  expect(Array.from(after)).toEqual(Array.from(fresh));
});
