// AdamW with global-norm clipping: the native kernel (native/adamw.c) gives the JS loop's weights, moments and
// norm over several steps (clipping on and off, weight decay on and off), and a hand-worked first step.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeFusedKernels } from '../../../src/main/engine/native/fused';
import { AdamW } from '../../../src/main/engine/train/optimizer';
import { useBackend } from '../engine/helpers';
import { ensureAddon } from './addon';

const addon = ensureAddon();
// LOADSCOPE_NATIVE=0 (the whole suite on the JS paths) leaves the native matmul, and so these kernels, off
const skip = !addon.path || process.env.LOADSCOPE_NATIVE === '0';

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE_FUSED;
  tf.disposeVariables();
});

/** Matrices (decay) and a vector (never decays), as the model's parameters are, with the same initial values. */
function params(tag: string): Array<[string, tf.Variable]> {
  const make = (name: string, t: tf.Tensor) => {
    const v = tf.variable(t, true, `${tag}/${name}`);
    t.dispose(); // the variable alone holds its data, as the model's weights do: written in place
    return [name, v] as [string, tf.Variable];
  };
  // 'big' (1073 values, not a multiple of any vector width) takes the kernel's vector loops and their tails
  return [
    make('w', tf.randomNormal([3, 4], 0, 1, 'float32', 1)),
    make('g', tf.randomNormal([4], 1, 0.2, 'float32', 2)),
    make('big', tf.randomNormal([37, 29], 0, 0.1, 'float32', 3)),
  ];
}

/** `steps` updates with fixed random gradients; JS when native is false. Returns weights, moments, norms. */
function train(tag: string, native: boolean, opts: { weightDecay: number; clip: number; gradScale?: number }, steps = 4) {
  if (native) delete process.env.LOADSCOPE_NATIVE_FUSED;
  else process.env.LOADSCOPE_NATIVE_FUSED = '0';
  expect(nativeFusedKernels() !== null).toBe(native);
  const ps = params(tag);
  const opt = new AdamW(ps, { weightDecay: opts.weightDecay });
  const norms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const grads = Object.fromEntries(ps.map(([, v], i) => [v.name, tf.randomNormal(v.shape, 0, 2, 'float32', 100 + 10 * s + i)]));
    norms.push(opt.update(grads, 0.05 * (s + 1), opts.clip, opts.gradScale));
    tf.dispose(Object.values(grads));
  }
  const weights = ps.map(([, v]) => Array.from(v.dataSync()));
  const moments = opt.moments().map((m) => ({ m: Array.from(m.m), v: Array.from(m.v), isF32: m.m instanceof Float32Array && m.v instanceof Float32Array }));
  return { weights, moments, norms };
}

describe.skipIf(skip).each(['cpu', 'wasm'] as const)('native AdamW on %s', (backend) => {
  it.each([
    ['clipping active, decay on', { weightDecay: 0.1, clip: 1 }],
    ['clipping active, decay off', { weightDecay: 0, clip: 1 }],
    ['clipping off (clip 0), decay on', { weightDecay: 0.1, clip: 0 }],
    ['clip above the norm (inactive), decay off', { weightDecay: 0, clip: 1e6 }],
    ['summed micro-batch gradients scaled by 1/4, clipping active', { weightDecay: 0.1, clip: 1, gradScale: 0.25 }],
  ] as const)('equals the JS AdamW over 4 steps: %s', async (_, opts) => {
    await useBackend(backend);
    const js = train('js', false, opts);
    const native = train('native', true, opts);
    // gradients of std 2 over 1089 values: the norm is ≈ 66 (≈ 16 at scale 1/4), so clip 1 scales them, 1e6 not
    for (const n of js.norms) expect(n).toBeGreaterThan(1);
    expect(native.norms).toEqual(js.norms); // both sum g² in float64 in the same order
    // same float64 arithmetic rounded to float32 at the same points: equal to float32 rounding
    for (const [i, w] of native.weights.entries()) for (const [j, x] of w.entries()) expect(Math.abs(x - js.weights[i]![j]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(x)));
    for (const [i, m] of native.moments.entries()) {
      expect(m.isF32).toBe(true); // checkpoints copy the moments as Float32Arrays
      for (const [j, x] of m.m.entries()) expect(Math.abs(x - js.moments[i]!.m[j]!)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(x)));
      for (const [j, x] of m.v.entries()) expect(Math.abs(x - js.moments[i]!.v[j]!)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(x)));
    }
  });

  it('gradScale 1/k on summed gradients = the mean gradient: same norm, weights and moments', async () => {
    await useBackend(backend);
    const run = (scaled: boolean) => {
      const ps = params(scaled ? 'sum' : 'mean');
      const opt = new AdamW(ps, { weightDecay: 0.1 });
      const grads = Object.fromEntries(ps.map(([, v], i) => [v.name, tf.randomNormal(v.shape, 0, 2, 'float32', 200 + i)]));
      // two micro-batches with the same gradient: their sum halved is that gradient
      const summed = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, 2)]));
      const norm = scaled ? opt.update(summed, 0.05, 1, 0.5) : opt.update(grads, 0.05, 1);
      tf.dispose([...Object.values(grads), ...Object.values(summed)]);
      return { norm, w: ps.map(([, v]) => Array.from(v.dataSync())), m: opt.moments().map((x) => Array.from(x.m)) };
    };
    const mean = run(false);
    const sum = run(true);
    expect(sum.norm).toBeCloseTo(mean.norm, 10);
    expect(mean.norm).toBeGreaterThan(1); // clipping active
    expect(sum.w).toEqual(mean.w); // ×2 then ×0.5 is exact in binary floating point
    expect(sum.m).toEqual(mean.m);
  });

  it('hand-worked first step: w = 1, g = 2, lr 0.1, decay 0.1 → 0.99 − 0.1 = 0.89; clip 1 halves m', async () => {
    await useBackend(backend);
    expect(nativeFusedKernels()).not.toBeNull();
    const step = (clip: number) => {
      const init = tf.ones([1, 1]);
      const w = tf.variable(init, true, `hand${clip}`);
      init.dispose();
      const opt = new AdamW([['w', w]], { weightDecay: 0.1 });
      const grad = tf.fill([1, 1], 2);
      const norm = opt.update({ [w.name]: grad }, 0.1, clip);
      grad.dispose();
      return { norm, w: w.dataSync()[0]!, m: opt.moments()[0]!.m[0]!, v: opt.moments()[0]!.v[0]! };
    };
    // m = 0.1·g, v = 0.05·g²; bias-corrected m/√v = sign(g), so the step is lr whatever the scale
    const free = step(0);
    expect(free.norm).toBe(2);
    expect(free.w).toBeCloseTo(0.89, 6);
    expect(free.m).toBeCloseTo(0.2, 6);
    expect(free.v).toBeCloseTo(0.2, 6);
    const clipped = step(1); // g scaled by 1/(2 + 1e-6)
    expect(clipped.norm).toBe(2);
    expect(clipped.w).toBeCloseTo(0.89, 6);
    expect(clipped.m).toBeCloseTo(0.1, 6);
    expect(clipped.v).toBeCloseTo(0.05, 6);
  });
});
