// The fused RMSNorm (model/rmsnorm.ts) on cpu and wasm: a hand-worked row, the same values and gradients as the
// unfused TF.js ops, and analytic gradients = finite differences; LOADSCOPE_NATIVE=0 selects the unfused path.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { fusedKernelsEnabled, rmsNorm, rmsNormUnfused } from '../../../src/main/engine/model/rmsnorm';
import { useBackend } from './helpers';

const T = 5;
const d = 6;

function inputs() {
  const x = tf.variable(tf.randomNormal([T, d], 0, 1.5, 'float32', 1)) as tf.Variable<tf.Rank.R2>;
  const g = tf.variable(tf.randomNormal([d], 1, 0.5, 'float32', 2)) as tf.Variable<tf.Rank.R1>;
  const probe = tf.randomNormal([T, d], 0, 1, 'float32', 3);
  return { x, g, probe };
}

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE;
  tf.disposeVariables();
});

describe.each(['cpu', 'wasm'] as const)('fused RMSNorm on %s', (backend) => {
  it('hand-worked row: x = [3, 4] → rms = √12.5, y = x/rms · g', async () => {
    await useBackend(backend);
    const y = rmsNorm(tf.tensor2d([[3, 4]]), tf.tensor1d([1, 2]));
    const r = 1 / Math.sqrt(12.5 + 1e-5);
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(3 * r, 6);
    expect(v[1]).toBeCloseTo(8 * r, 6);
  });

  it('values and gradients match the unfused ops', async () => {
    await useBackend(backend);
    const { x, g, probe } = inputs();
    const run = (f: typeof rmsNorm) => tf.variableGrads(() => tf.sum(tf.mul(f(x, g), probe)) as tf.Scalar, [x, g]);
    const a = run(rmsNorm);
    const b = run(rmsNormUnfused);
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0]!, 4);
    for (const v of [x, g]) {
      const ga = a.grads[v.name]!.dataSync();
      const gb = b.grads[v.name]!.dataSync();
      for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(gb[i]!)));
    }
  });

  it('analytic gradients = central finite differences', async () => {
    await useBackend(backend);
    const { x, g, probe } = inputs();
    const f = () => tf.sum(tf.mul(rmsNorm(x, g), probe)) as tf.Scalar;
    const { grads } = tf.variableGrads(f, [x, g]);
    for (const v of [x, g] as tf.Variable[]) {
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

  it('LOADSCOPE_NATIVE=0 runs the unfused ops (more kernels, the same values)', async () => {
    await useBackend(backend);
    const { x, g } = inputs();
    const kernelsOf = () => {
      const prof = tf.tidy(() => {
        const before = tf.memory().numTensors;
        const y = rmsNorm(x, g);
        return { made: tf.memory().numTensors - before, y: Array.from(y.dataSync()) };
      });
      return prof;
    };
    expect(fusedKernelsEnabled()).toBe(true);
    const on = kernelsOf();
    process.env.LOADSCOPE_NATIVE = '0';
    expect(fusedKernelsEnabled()).toBe(false);
    const off = kernelsOf();
    expect(on.made).toBe(1);
    expect(off.made).toBeGreaterThan(3);
    for (let i = 0; i < on.y.length; i++) expect(on.y[i]).toBeCloseTo(off.y[i]!, 5);
  });
});
