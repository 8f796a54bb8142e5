// The fused RMSNorm (model/rmsnorm.ts) on cpu and wasm: a hand-worked row, the same values and gradients as the
// unfused TF.js ops, and analytic gradients = finite differences; LOADSCOPE_NATIVE=0 selects the unfused path.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { fusedKernelsEnabled, rmsNorm, rmsNormUnfused } from '../../../src/main/engine/model/rmsnorm';
import { expectFiniteDifferences, expectSameAsUnfused, useBackend } from './helpers';

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
    expectSameAsUnfused(rmsNorm, rmsNormUnfused, [x, g], probe);
  });

  it('analytic gradients = central finite differences', async () => {
    await useBackend(backend);
    const { x, g, probe } = inputs();
    expectFiniteDifferences(rmsNorm, [x, g], probe);
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
