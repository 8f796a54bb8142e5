// Real short training runs on wasm with the native fused loss, RMSNorm and AdamW (native/fused.c) against the
// JS paths they replace (LOADSCOPE_NATIVE_FUSED=0): same seed → same losses, close trajectories, same evaluation.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { nativeFusedKernels } from '../../../src/main/engine/native/fused';
import { Trainer } from '../../../src/main/engine/train/trainer';
import { ensureAddon } from '../native/addon';
import { MICRO, config, useBackend } from './helpers';

const addon = ensureAddon();
// LOADSCOPE_NATIVE=0 (the whole suite on the JS paths) leaves the native matmul, and so these kernels, off
const skip = !addon.path || process.env.LOADSCOPE_NATIVE === '0';
const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 60_000 }) };
const micro = (extra: object = {}) => config({ preset: 'custom', model: MICRO, steps: 20, warmupSteps: 2, lr: 1e-2, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'wasm', gradClip: 0.5, ...extra });

async function losses(native: boolean, n: number, extra: object = {}): Promise<number[]> {
  if (native) delete process.env.LOADSCOPE_NATIVE_FUSED;
  else process.env.LOADSCOPE_NATIVE_FUSED = '0';
  expect(nativeFusedKernels() !== null).toBe(native);
  const tr = new Trainer(micro(extra), data);
  try {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const { report } = await tr.trainStep();
      if (i === 0) expect(report.gradNorm).toBeGreaterThan(0.5); // above gradClip: clipping is active
      out.push(report.loss);
    }
    return out;
  } finally {
    tr.dispose();
  }
}

beforeAll(async () => {
  await useBackend('wasm');
});

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE_FUSED;
});

describe.skipIf(skip)('training with the native fused kernels', () => {
  it('same seed → identical losses; the loss falls', async () => {
    const a = await losses(true, 8, { seed: 3 });
    expect(await losses(true, 8, { seed: 3 })).toEqual(a);
    expect(a[7]!).toBeLessThan(a[0]! - 0.3);
  });

  it('follows the JS paths (clipping active): 6 steps agree to float32 rounding drift', async () => {
    const js = await losses(false, 6, { seed: 4, strategy: 'aux-loss' });
    const native = await losses(true, 6, { seed: 4, strategy: 'aux-loss' });
    // step 1 sees the same weights: only summation order differs (OpenBLAS vs TF.js's matmul + softmax)
    expect(Math.abs(native[0]! - js[0]!)).toBeLessThan(1e-5);
    for (let i = 0; i < 6; i++) expect(Math.abs(native[i]! - js[i]!), `step ${i + 1}`).toBeLessThan(2e-3);
  });

  it('evaluation uses the fused loss and gives the JS path’s validation loss; no tensor leaks', async () => {
    const evaluate = async (native: boolean) => {
      if (native) delete process.env.LOADSCOPE_NATIVE_FUSED;
      else process.env.LOADSCOPE_NATIVE_FUSED = '0';
      const tr = new Trainer(micro({ seed: 5 }), data);
      const before = tf.memory().numTensors;
      const { valLoss } = await tr.evaluate();
      expect(tf.memory().numTensors).toBe(before);
      tr.dispose();
      return valLoss;
    };
    const js = await evaluate(false);
    expect(await evaluate(true)).toBeCloseTo(js, 5);
    expect(js).toBeGreaterThan(5); // an untrained model: near ln 256
  });
});
