// The native BatchMatMul/_FusedMatMul kernels give TF.js's own results (values and gradients) on wasm and cpu.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installNativeMatMul, isNativeMatMulInstalled, nativeMatMulStats, uninstallNativeMatMul, type NativeBackendName,
} from '../../../src/main/engine/native/kernels';
import { ensureAddon } from './addon';

const addon = ensureAddon();

// Tolerance: float32 sums of k ≤ 96 products round at most ~k·2⁻²⁴ ≈ 6e-6 relative to the largest partial
// sum; two different summation orders (XNNPACK/JS vs OpenBLAS) stay well inside 1e-4 of the output's scale.
function expectClose(actual: tf.Tensor, expected: tf.Tensor, rel = 1e-4): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < e.length; i++) {
    scale = Math.max(scale, Math.abs(e[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
  }
  expect(worst).toBeLessThanOrEqual(rel * scale);
}

/** Runs f with TF.js's kernels, then with the native ones; returns both results. */
function bothWays<T>(backend: NativeBackendName, f: () => T): { original: T; native: T } {
  uninstallNativeMatMul(backend);
  const original = f();
  const status = installNativeMatMul(backend, { addonPath: addon.path });
  expect(status.ok, status.detail).toBe(true);
  return { original, native: f() };
}

// [a shape, b shape, transposeA, transposeB]; the tiny preset's own shapes are among them.
const CASES: Array<[number[], number[], boolean, boolean]> = [
  [[7, 5], [5, 3], false, false],
  [[5, 7], [5, 3], true, false],
  [[7, 5], [3, 5], false, true],
  [[5, 7], [3, 5], true, true],
  [[4, 6, 9], [4, 9, 2], false, false], // batched, same batch
  [[32, 64, 16], [32, 64, 16], false, true], // attention scores q·kᵀ
  [[2, 3, 8, 5], [2, 3, 8, 4], true, false], // rank 4, aᵀ·b
  [[1, 6, 9], [4, 9, 2], false, false], // a broadcast over b's batch
  [[4, 6, 9], [9, 2], false, false], // rank-2 b broadcast over a's batch
  [[96, 64], [64, 128], false, false], // an expert's up projection on 96 tokens
];

describe.skipIf(!addon.path)(`native matmul kernels (${addon.reason ?? 'addon built'})`, () => {
  describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });
    afterAll(() => {
      uninstallNativeMatMul(backend);
    });

    it('computes a hand-worked product exactly: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]', () => {
      expect(installNativeMatMul(backend, { addonPath: addon.path }).ok).toBe(true);
      const before = nativeMatMulStats().nativeCalls;
      const c = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])));
      expect(Array.from(c.dataSync())).toEqual([19, 22, 43, 50]);
      expect(nativeMatMulStats().nativeCalls).toBe(before + 1); // the native kernel ran, not the original
      c.dispose();
    });

    it.each(CASES)('matches TF.js for a %j · b %j (transposeA %s, transposeB %s)', (aShape, bShape, tA, tB) => {
      const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
      const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
      const fallbacks = nativeMatMulStats().fallbacks;
      const { original, native } = bothWays(backend, () => tf.matMul(a, b, tA, tB));
      expect(nativeMatMulStats().fallbacks).toBe(fallbacks);
      expectClose(native, original);
      tf.dispose([a, b, original, native]);
    });

    it('hands a cross batch broadcast ([2,1]×[1,3] batches) back to TF.js\'s kernel, same result', () => {
      const a = tf.randomNormal([2, 1, 3, 4], 0, 1, 'float32', 3);
      const b = tf.randomNormal([1, 3, 4, 5], 0, 1, 'float32', 4);
      const fallbacks = nativeMatMulStats().fallbacks;
      const { original, native } = bothWays(backend, () => tf.matMul(a, b));
      expect(nativeMatMulStats().fallbacks).toBe(fallbacks + 1);
      expect(Array.from(native.dataSync())).toEqual(Array.from(original.dataSync()));
      tf.dispose([a, b, original, native]);
    });

    it('gives the same gradients through matMul (backward runs matMul on transposes)', () => {
      const a = tf.randomNormal([3, 8, 6], 0, 1, 'float32', 5);
      const b = tf.randomNormal([3, 5, 6], 0, 1, 'float32', 6);
      const w = tf.randomNormal([3, 8, 5], 0, 1, 'float32', 7);
      // loss = Σ w ⊙ (a·bᵀ): ∂/∂a = w·b, ∂/∂b = wᵀ·a, both batched matMuls in TF.js's gradient
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(w, tf.matMul(x, y, false, true)));
      const calls = nativeMatMulStats().nativeCalls;
      const { original, native } = bothWays(backend, () => tf.grads(f)([a, b]));
      expect(nativeMatMulStats().nativeCalls).toBeGreaterThanOrEqual(calls + 3); // forward + two gradient products
      expectClose(native[0]!, original[0]!);
      expectClose(native[1]!, original[1]!);
      tf.dispose([a, b, w, ...original, ...native]);
    });

    // The reference is the unfused composition on TF.js's kernels: TF.js 4.22's own wasm _FusedMatMul adds
    // the bias wrongly once a has a batch (e.g. [2,2,2]·I + [10,20] gives 23 where 3 + 10 = 13 is right).
    const UNFUSED: Record<string, (x: tf.Tensor) => tf.Tensor> = {
      linear: (x) => x, relu: tf.relu, relu6: tf.relu6, sigmoid: tf.sigmoid, elu: tf.elu, leakyrelu: (x) => tf.leakyRelu(x, 0.1),
    };
    it.each(Object.keys(UNFUSED))('matches activation(a·b + bias) in tf.fused.matMul with %s', (activation) => {
      const a = tf.randomNormal([2, 7, 5], 0, 1, 'float32', 8);
      const b = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 9);
      const bias = tf.randomNormal([4], 0, 1, 'float32', 10);
      uninstallNativeMatMul(backend);
      const expected = tf.tidy(() => UNFUSED[activation]!(tf.add(tf.matMul(a, b), bias)));
      expect(installNativeMatMul(backend, { addonPath: addon.path }).ok).toBe(true);
      const fallbacks = nativeMatMulStats().fallbacks;
      const fused = tf.fused.matMul({ a, b, bias, activation: activation as 'relu', leakyreluAlpha: 0.1 });
      expect(nativeMatMulStats().fallbacks).toBe(fallbacks);
      expectClose(fused, expected);
      tf.dispose([a, b, bias, expected, fused]);
    });

    it('gives the same gradients through tf.fused.matMul with a bias and relu', () => {
      const a = tf.randomNormal([6, 5], 0, 1, 'float32', 11);
      const b = tf.randomNormal([5, 4], 0, 1, 'float32', 12);
      const bias = tf.randomNormal([4], 0, 1, 'float32', 13);
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.square(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' })));
      const { original, native } = bothWays(backend, () => tf.grads(f)([a, b, bias]));
      for (let i = 0; i < 3; i++) expectClose(native[i]!, original[i]!);
      tf.dispose([a, b, bias, ...original, ...native]);
    });

    it('leaks no tensors and no backend memory over forward and backward passes', () => {
      expect(installNativeMatMul(backend, { addonPath: addon.path }).ok).toBe(true);
      // Same batch on both sides: TF.js's matMul gradient does not reduce a broadcast batch (its own limitation).
      const a = tf.randomNormal([4, 16, 8]);
      const b = tf.randomNormal([4, 8, 12]);
      const run = () => tf.tidy(() => {
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.relu(tf.matMul(x, y))))([a, b]);
        return tf.add(tf.sum(ga!), tf.sum(gb!));
      });
      run().dispose(); // warm-up: first calls may create cached constants
      const before = tf.memory();
      for (let i = 0; i < 5; i++) run().dispose();
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      tf.dispose([a, b]);
    });

    it('restores TF.js\'s own kernel on uninstall', () => {
      installNativeMatMul(backend, { addonPath: addon.path });
      expect(uninstallNativeMatMul(backend)).toBe(true);
      expect(isNativeMatMulInstalled(backend)).toBe(false);
      const calls = nativeMatMulStats().nativeCalls;
      tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
      expect(nativeMatMulStats().nativeCalls).toBe(calls);
    });
  });
});
