// The native fused cross-entropy and RMSNorm (native/fused.c via native/fused.ts) on cpu and wasm: hand-worked
// values, the same values and gradients as the JS/TF.js paths, finite-difference gradients, bounds errors.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { embedRows } from '../../../src/main/engine/model/dispatch';
import { crossEntropy, lmLoss } from '../../../src/main/engine/model/loss';
import { matmulT } from '../../../src/main/engine/model/linear';
import { RMS_EPS, rmsNorm, rmsNormFusedJs } from '../../../src/main/engine/model/rmsnorm';
import { loadNativeBlas } from '../../../src/main/engine/native/blas';
import { nativeFusedKernels, type NativeFusedAddon } from '../../../src/main/engine/native/fused';
import { expectFiniteDifferences, expectSameAsUnfused, useBackend } from '../engine/helpers';
import { ensureAddon } from './addon';

const addon = ensureAddon();
// LOADSCOPE_NATIVE=0 (the whole suite on the JS paths) leaves the native matmul, and so these kernels, off
const skip = !addon.path || process.env.LOADSCOPE_NATIVE === '0';
const T = 6;
const V = 7;
const d = 5;
const targets = Int32Array.from([0, 6, 3, 3, 1, 5]);

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE_FUSED;
  tf.disposeVariables();
});

const variable = (shape: [number, number], mean: number, std: number, seed: number) => tf.variable(tf.randomNormal(shape, mean, std, 'float32', seed)) as tf.Variable<tf.Rank.R2>;
/** the JS path the native op replaces: matmulT's logits, then loss.ts's fused cross-entropy */
const jsLoss = (h: tf.Tensor2D, w: tf.Tensor2D) => crossEntropy(matmulT(h, w), targets);

describe.skipIf(skip).each(['cpu', 'wasm'] as const)('native fused kernels on %s', (backend) => {
  it('are chosen for the host backend, and LOADSCOPE_NATIVE_FUSED=0 or LOADSCOPE_NATIVE=0 turns them off', async () => {
    await useBackend(backend);
    expect(nativeFusedKernels()).not.toBeNull();
    process.env.LOADSCOPE_NATIVE_FUSED = '0';
    expect(nativeFusedKernels()).toBeNull();
    delete process.env.LOADSCOPE_NATIVE_FUSED;
    process.env.LOADSCOPE_NATIVE = '0';
    try {
      expect(nativeFusedKernels()).toBeNull();
    } finally {
      delete process.env.LOADSCOPE_NATIVE;
    }
  });

  it('cross-entropy, hand-worked: h = [1], wte rows [1] and [0], target 0 → ln(1 + e⁻¹); gradients (p − onehot)·wte', async () => {
    await useBackend(backend);
    const h = tf.variable(tf.tensor2d([[1]]));
    const w = tf.variable(tf.tensor2d([[1], [0]]));
    const { value, grads } = tf.variableGrads(() => lmLoss(h as tf.Tensor2D, w as tf.Tensor2D, Int32Array.from([0])), [h, w]);
    const p1 = 1 / (1 + Math.E); // softmax([1, 0])[1]
    expect(value.dataSync()[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 6);
    // dz = [p0 − 1, p1] = [−p1, p1]; dh = dz·wte = −p1; dwte = dzᵀ·h = [−p1, p1]
    expect(grads[h.name]!.dataSync()[0]).toBeCloseTo(-p1, 6);
    expect(Array.from(grads[w.name]!.dataSync())).toEqual([expect.closeTo(-p1, 6), expect.closeTo(p1, 6)]);
    tf.dispose([value, ...Object.values(grads)]);
  });

  it('cross-entropy: the same loss and gradients (x and wte) as matmulT + the JS cross-entropy', async () => {
    await useBackend(backend);
    const h = variable([T, d], 0, 1.5, 1);
    const w = variable([V, d], 0, 1, 2);
    const native = nativeFusedKernels()!;
    const run = (f: () => tf.Scalar) => tf.variableGrads(f, [h, w]);
    const a = run(() => native.lmLoss(h, w, targets));
    const b = run(() => jsLoss(h, w));
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0]!, 5);
    for (const v of [h, w]) {
      const ga = a.grads[v.name]!.dataSync();
      const gb = b.grads[v.name]!.dataSync();
      expect(ga.length).toBe(v.size);
      for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!)).toBeLessThan(1e-6);
    }
  });

  it('cross-entropy: analytic gradients = central finite differences (x and wte)', async () => {
    await useBackend(backend);
    const h = variable([T, d], 0, 1.5, 3);
    const w = variable([V, d], 0, 1, 4);
    expectFiniteDifferences((x, e) => nativeFusedKernels()!.lmLoss(x, e, targets), [h, w], tf.scalar(1));
  });

  it('cross-entropy: the gradient sums with the embedding lookup when wte is also the input embedding', async () => {
    await useBackend(backend);
    const w = variable([V, d], 0, 1, 5);
    const ids = Int32Array.from([2, 4, 4, 0, 6, 1]);
    // tied: h = rows of wte (the model's embedding lookup); the total gradient = lookup part + head part, which TF.js's tape adds
    const f = (loss: (h: tf.Tensor2D, e: tf.Tensor2D) => tf.Scalar) => tf.variableGrads(() => loss(embedRows(w, ids) as tf.Tensor2D, w), [w]);
    const a = f((x, e) => nativeFusedKernels()!.lmLoss(x, e, targets));
    const b = f(jsLoss);
    const ga = a.grads[w.name]!.dataSync();
    const gb = b.grads[w.name]!.dataSync();
    for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!)).toBeLessThan(1e-6);
    // and the lookup's share is really in it: the head's gradient alone (h held constant) differs
    const h = tf.gather(w, ids) as tf.Tensor2D;
    const head = tf.variableGrads(() => nativeFusedKernels()!.lmLoss(h, w, targets), [w]).grads[w.name]!.dataSync();
    expect(Math.max(...ga.map((x, i) => Math.abs(x - head[i]!)))).toBeGreaterThan(1e-3);
  });

  it('cross-entropy stays finite for logits ±1e3 (log-sum-exp shifts by the row maximum)', async () => {
    await useBackend(backend);
    const h = tf.tensor2d([[1e3], [-1e3]]);
    const w = tf.tensor2d([[1], [0], [-1]]);
    const loss = nativeFusedKernels()!.lmLoss(h, w, Int32Array.from([0, 1]));
    // row 0: target is the maximum → ≈ 0; row 1: logits [−1e3, 0, 1e3], target 0 → 1e3 from the max
    expect(loss.dataSync()[0]).toBeCloseTo((0 + 1000 + Math.log(1 + Math.exp(-1000))) / 2, 3);
    tf.dispose([h, w, loss]);
  });

  it('RMSNorm: the same values and gradients as the JS fused loops, and finite differences (x and g)', async () => {
    await useBackend(backend);
    const x = variable([T, d], 0, 1.5, 6);
    const g = tf.variable(tf.randomNormal([d], 1, 0.5, 'float32', 7)) as tf.Variable<tf.Rank.R1>;
    const probe = tf.randomNormal([T, d], 0, 1, 'float32', 8);
    const native = (a: tf.Tensor2D, b: tf.Tensor1D) => nativeFusedKernels()!.rmsNorm(a, b, RMS_EPS);
    expectSameAsUnfused(native, (a, b) => rmsNormFusedJs(a, b) as tf.Tensor2D, [x, g], probe);
    expectFiniteDifferences(native, [x, g], probe);
    // rmsNorm() itself takes the native path here
    const viaModel = rmsNorm(x, g).dataSync();
    const viaNative = native(x, g).dataSync();
    expect(Array.from(viaModel)).toEqual(Array.from(viaNative));
  });

  it('leaks no tensor: a forward and backward of both ops leaves only what the caller disposes', async () => {
    await useBackend(backend);
    const h = variable([T, d], 0, 1, 9);
    const w = variable([V, d], 0, 1, 10);
    const g = tf.variable(tf.ones([d])) as tf.Variable<tf.Rank.R1>;
    const native = nativeFusedKernels()!;
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => native.lmLoss(native.rmsNorm(h, g, RMS_EPS), w, targets), [h, w, g]);
    expect(tf.memory().numTensors).toBe(before + 4); // the loss and three gradients
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.skipIf(!addon.path)('native fused addon, called directly', () => {
  const fused = () => loadNativeBlas(addon.path!).blas as unknown as NativeFusedAddon;
  const f32 = (n: number) => new Float32Array(n);

  it('softmax (its own vectorised exp) and the loss match float64 maths over logits spanning −90 … 30', () => {
    // d = 1, x = 1: the logits are wte's column itself
    const V = 97;
    const w = Float32Array.from({ length: V }, (_, j) => -90 + (120 * j) / (V - 1) + 0.37 * Math.sin(j));
    const target = 40;
    const probs = f32(V);
    const loss = fused().lmLossForward(1, V, 1, Float32Array.of(1), w, Int32Array.of(target), probs);
    const max = Math.max(...w);
    // z − max rounded to float32 as the kernel (and any float32 softmax) computes it: at |z − max| ≈ 100 that
    // rounding alone moves e^(z − max) by ~4e-6 relative
    const shifted = Array.from(w, (z) => Math.fround(z - max));
    const sum = shifted.reduce((a, x) => a + Math.exp(x), 0);
    expect(loss).toBeCloseTo(Math.log(sum) + max - w[target]!, 5);
    for (let j = 0; j < V; j++) {
      const p = Math.exp(shifted[j]!) / sum;
      // relative 1e-6 while p is well inside float32's normal range (near 1e-38 the division goes subnormal)
      if (p > 1e-30) expect(Math.abs(probs[j]! - p)).toBeLessThanOrEqual(1e-6 * p);
      else expect(probs[j]!).toBeLessThan(1e-30);
    }
  });

  it('a NaN logit (a diverged run) gives a NaN loss, not a finite one', () => {
    for (const at of [0, 1, 2]) {
      const logits = Float32Array.of(0.5, 0, 1);
      logits[at] = NaN;
      expect(fused().lmLossForward(1, 3, 1, Float32Array.of(1), logits, Int32Array.of(0), f32(3)), `NaN at ${at}`).toBeNaN();
    }
  });

  it('throws a RangeError for a view shorter or longer than its shape, before touching memory', () => {
    const a = fused();
    expect(() => a.lmLossForward(2, 3, 4, f32(7), f32(12), Int32Array.from([0, 1]), f32(6))).toThrow(RangeError);
    expect(() => a.lmLossForward(2, 3, 4, f32(8), f32(12), Int32Array.from([0, 1]), f32(5))).toThrow(RangeError);
    expect(() => a.lmLossBackward(2, 3, 4, 1, f32(6), Int32Array.from([0, 1]), f32(8), f32(12), f32(8), f32(11))).toThrow(RangeError);
    expect(() => a.rmsNormForward(2, 4, 1e-5, f32(8), f32(3), f32(8))).toThrow(RangeError);
    expect(() => a.rmsNormBackward(2, 4, 1e-5, f32(8), f32(4), f32(8), f32(9), f32(4))).toThrow(RangeError);
    expect(() => a.adamW([f32(3)], [f32(3)], [f32(3)], [f32(2)], [1], 0.1, 1, 0.9, 0.95, 1e-8, 0, 1)).toThrow(RangeError);
    expect(() => a.adamW([f32(3)], [f32(3)], [f32(3)], [f32(3)], [], 0.1, 1, 0.9, 0.95, 1e-8, 0, 1)).toThrow(RangeError);
  });

  it('throws a RangeError for a target outside the vocabulary, and a TypeError for a wrong array type', () => {
    const a = fused();
    expect(() => a.lmLossForward(2, 3, 4, f32(8), f32(12), Int32Array.from([0, 3]), f32(6))).toThrow(/target is outside/);
    expect(() => a.lmLossForward(2, 3, 4, f32(8), f32(12), Int32Array.from([-1, 0]), f32(6))).toThrow(RangeError);
    expect(() => a.lmLossForward(2, 3, 4, f32(8), f32(12), Float32Array.from([0, 1]) as unknown as Int32Array, f32(6))).toThrow(TypeError);
  });

  it('a bad AdamW parameter changes no other parameter (everything is checked first)', () => {
    const a = fused();
    const w0 = Float32Array.from([1, 2]);
    expect(() => a.adamW([w0, f32(2)], [f32(2).fill(1), f32(2)], [f32(2), f32(2)], [f32(2), f32(1)], [1, 1], 0.1, 1, 0.9, 0.95, 1e-8, 0, 1)).toThrow(/parameter 1/);
    expect(Array.from(w0)).toEqual([1, 2]);
  });
});
