// Real short training runs with the fused native attention: it is what the model runs on wasm and cpu, seeds
// stay deterministic, losses track the TF.js-op attention's, S < ctx works, and the tensor count holds.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { fusedAttentionEnabled } from '../../../src/main/engine/model/attention';
import { MoEModel } from '../../../src/main/engine/model/model';
import type { RoutingContext } from '../../../src/main/engine/model/moe';
import { Rng } from '../../../src/main/engine/rng';
import { createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import { Trainer } from '../../../src/main/engine/train/trainer';
import { ensureAddon } from '../native/addon';
import { MICRO, config, useBackend } from './helpers';

const addon = ensureAddon();
// LOADSCOPE_NATIVE=0 turns the native paths off, this one included: nothing here to test then
const nativeOff = process.env.LOADSCOPE_NATIVE === '0';
const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 40_000 }) };
const micro = (backend: 'cpu' | 'wasm', seed = 3) =>
  config({ preset: 'custom', model: MICRO, steps: 10, warmupSteps: 2, lr: 1e-2, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend, seed });

async function losses(backend: 'cpu' | 'wasm', n: number, seed?: number): Promise<number[]> {
  const tr = new Trainer(micro(backend, seed), data);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) out.push((await tr.trainStep()).report.loss);
  } finally {
    tr.dispose();
  }
  return out;
}

afterEach(() => {
  delete process.env.LOADSCOPE_FUSED_ATTENTION;
});

describe.skipIf(!addon.path || nativeOff)('training with the fused attention', () => {
  describe.each(['wasm', 'cpu'] as const)('on %s', (backend) => {
    it('is on, gives the same losses for the same seed, and tracks the TF.js-op attention', async () => {
      await useBackend(backend);
      expect(fusedAttentionEnabled()).toBe(true);
      const fused = await losses(backend, 5);
      expect(await losses(backend, 5)).toEqual(fused);
      process.env.LOADSCOPE_FUSED_ATTENTION = '0';
      expect(fusedAttentionEnabled()).toBe(false);
      const ops = await losses(backend, 5);
      // the same computation up to float32 summation order: the step-1 loss agrees to rounding and the
      // trajectories stay within 1e-3 over five Adam steps, while the loss itself moves by far more
      expect(Math.abs(fused[0]! - ops[0]!)).toBeLessThan(1e-5);
      for (let i = 0; i < fused.length; i++) expect(Math.abs(fused[i]! - ops[i]!), `step ${i + 1}`).toBeLessThan(1e-3);
      expect(fused[0]! - fused[4]!).toBeGreaterThan(0.05);
    });

    it('keeps the tensor count constant over steps and frees everything on dispose', async () => {
      await useBackend(backend);
      const baseline = tf.memory().numTensors;
      const tr = new Trainer(micro(backend), data);
      await tr.trainStep();
      const after1 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await tr.trainStep();
      await tr.evaluate();
      expect(tf.memory().numTensors).toBe(after1);
      tr.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    });

    it('a model forward with S < ctx equals the TF.js-op attention\'s', async () => {
      await useBackend(backend);
      const model = new MoEModel({ ...MICRO, vocab: 256 }, 'softmax', new Rng(9));
      const [B, S] = [2, 11];
      const inputs = Int32Array.from({ length: B * S }, (_, i) => (i * 37) % 256);
      const strategies = Array.from({ length: MICRO.layers }, (_, layer) =>
        createLayerStrategy({ strategy: 'none', strategyOptions: {}, zLoss: 0 }, { layer, experts: MICRO.experts, topK: MICRO.topK, scoreFn: 'softmax' }));
      const ctx = (): RoutingContext => ({ training: false, seqLen: S, dispatch: 'dense', strategies, keepScores: false, layers: [], auxLosses: [], routingMs: 0 });
      const run = () => tf.tidy(() => model.forward(inputs, B, S, ctx()).dataSync());
      const fused = run();
      process.env.LOADSCOPE_FUSED_ATTENTION = '0';
      const ops = run();
      for (let i = 0; i < ops.length; i++) expect(Math.abs(fused[i]! - ops[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ops[i]!)));
      model.dispose();
      for (const st of strategies) st.dispose();
    });
  });
});
