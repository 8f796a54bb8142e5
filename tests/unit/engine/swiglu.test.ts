// The fused SwiGLU gate (model/swiglu.ts) on cpu and wasm: a hand-worked value, the same values and gradients as
// the unfused TF.js ops, analytic gradients = finite differences, and LOADSCOPE_NATIVE=0 selecting the unfused ops.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { swiglu, swigluUnfused } from '../../../src/main/engine/model/swiglu';
import { useBackend } from './helpers';

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
    const run = (f: typeof swiglu) => tf.variableGrads(() => tf.sum(tf.mul(f(a, b), probe)) as tf.Scalar, [a, b]);
    const x = run(swiglu);
    const y = run(swigluUnfused);
    expect(x.value.dataSync()[0]).toBeCloseTo(y.value.dataSync()[0]!, 4);
    for (const v of [a, b]) {
      const gx = x.grads[v.name]!.dataSync();
      const gy = y.grads[v.name]!.dataSync();
      for (let i = 0; i < gx.length; i++) expect(Math.abs(gx[i]! - gy[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(gy[i]!)));
    }
  });

  it('analytic gradients = central finite differences', async () => {
    await useBackend(backend);
    const { a, b, probe } = inputs();
    const f = () => tf.sum(tf.mul(swiglu(a, b), probe)) as tf.Scalar;
    const { grads } = tf.variableGrads(f, [a, b]);
    for (const v of [a, b] as tf.Variable[]) {
      const analytic = grads[v.name]!.dataSync();
      const base = Float32Array.from(v.dataSync());
      for (let i = 0; i < base.length; i++) {
        const at = (delta: number) => {
          const p = Float32Array.from(base);
          p[i] = p[i]! + delta;
          v.assign(tf.tensor(p, v.shape));
          return tf.tidy(() => f().dataSync()[0]!);
        };
        const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
        v.assign(tf.tensor(base, v.shape));
        expect(Math.abs(analytic[i]! - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
      }
    }
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
