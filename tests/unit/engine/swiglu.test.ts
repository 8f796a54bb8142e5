// The fused SwiGLU gate (model/swiglu.ts) on cpu and wasm: a hand-worked value, the same values and gradients as
// the unfused TF.js ops, analytic gradients = finite differences, and LOADSCOPE_NATIVE=0 selecting the unfused ops.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { swiglu, swigluUnfused } from '../../../src/main/engine/model/swiglu';
import { expectFiniteDifferences, expectSameAsUnfused, useBackend } from './helpers';

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE;
  tf.disposeVariables();
});

const inputs = () => ({
  a: tf.variable(tf.randomNormal([4, 5], 0, 2, 'float32', 5)) as tf.Variable<tf.Rank.R2>,
  b: tf.variable(tf.randomNormal([4, 5], 0, 1, 'float32', 6)) as tf.Variable<tf.Rank.R2>,
  probe: tf.randomNormal([4, 5], 0, 1, 'float32', 7),
});

describe.each(['cpu', 'wasm'] as const)('fused SwiGLU on %s', (backend) => {
  it('hand-worked: a = 2, b = 3 → 2·σ(2)·3 = 6 · 0.880797 = 5.28478; a = 0 → 0', async () => {
    await useBackend(backend);
    const y = swiglu(tf.tensor2d([[2, 0]]), tf.tensor2d([[3, 7]])).dataSync();
    expect(y[0]).toBeCloseTo(6 / (1 + Math.exp(-2)), 5);
    expect(y[0]).toBeCloseTo(5.28478, 4);
    expect(y[1]).toBe(0);
  });

  it('values and gradients match the unfused ops', async () => {
    await useBackend(backend);
    const { a, b, probe } = inputs();
    expectSameAsUnfused(swiglu, swigluUnfused, [a, b], probe);
  });

  it('analytic gradients = central finite differences', async () => {
    await useBackend(backend);
    const { a, b, probe } = inputs();
    expectFiniteDifferences(swiglu, [a, b], probe);
  });

  it('LOADSCOPE_NATIVE=0 runs the unfused ops (more tensors, the same values)', async () => {
    await useBackend(backend);
    const { a, b } = inputs();
    const made = () =>
      tf.tidy(() => {
        const before = tf.memory().numTensors;
        const y = swiglu(a, b);
        return { n: tf.memory().numTensors - before, y: Array.from(y.dataSync()) };
      });
    const on = made();
    process.env.LOADSCOPE_NATIVE = '0';
    const off = made();
    expect(on.n).toBe(1);
    expect(off.n).toBeGreaterThan(2);
    for (let i = 0; i < on.y.length; i++) expect(on.y[i]).toBeCloseTo(off.y[i]!, 5);
  });
});
