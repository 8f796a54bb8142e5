// The training loop in-process on wasm: no tensor leak, the loss falls, seeds are deterministic, a
// checkpoint resumes exactly, and a balancing strategy shows in the first step's MaxVio.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../../src/main/engine/train/trainer';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { MICRO, config, useBackend } from './helpers';

// a short synthetic text keeps start-up fast; same generator as the built-in data set
const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 60_000 }) };
const micro = (extra: object = {}) => config({ preset: 'custom', model: MICRO, steps: 20, warmupSteps: 2, lr: 1e-2, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'wasm', ...extra });

const losses = async (tr: Trainer, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await tr.trainStep()).report.loss);
  return out;
};

beforeAll(async () => {
  await useBackend('wasm');
});

describe('training loop', async () => {
  it('keeps the tensor count constant after a warm-up step, and dispose() frees every tensor', async () => {
    for (const dispatch of ['dense', 'sparse'] as const) {
      const baseline = tf.memory().numTensors;
      const tr = new Trainer(micro({ dispatch, strategy: 'aux-loss', oracleEvery: 1, topTokensEvery: 1 }), data);
      await tr.trainStep({ oracle: true, topTokens: true });
      const after1 = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) await tr.trainStep({ oracle: true, topTokens: true });
      await tr.evaluate();
      expect(tf.memory().numTensors, dispatch).toBe(after1);
      tr.dispose();
      expect(tf.memory().numTensors, `${dispatch} after dispose`).toBe(baseline);
    }
  });

  it('40 steps on a tiny model lower the loss well below the uniform-byte loss ln 256 ≈ 5.55', async () => {
    const tr = new Trainer(config({ preset: 'custom', model: { ...MICRO, ctx: 32, dModel: 32, batch: 8 }, steps: 40, warmupSteps: 5, lr: 1e-2, backend: 'wasm' }), data);
    const l = await losses(tr, 40);
    tr.dispose();
    const first = l.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = l.slice(-5).reduce((a, b) => a + b) / 5;
    // start near ln 256 = 5.545 (a random model is near-uniform over bytes)
    expect(first).toBeGreaterThan(5.2);
    // the synthetic language has ~16 distinct bytes per topic: unigram entropy alone is below ln 16 ≈ 2.8
    expect(last).toBeLessThan(first - 1.5);
  });

  it('same seed and backend give identical losses; another seed differs', async () => {
    const a = new Trainer(micro({ seed: 5 }), data);
    const b = new Trainer(micro({ seed: 5 }), data);
    const c = new Trainer(micro({ seed: 6 }), data);
    const la = await losses(a, 4);
    expect(await losses(b, 4)).toEqual(la);
    expect(await losses(c, 4)).not.toEqual(la);
    for (const t of [a, b, c]) t.dispose();
  });

  it('10 steps + checkpoint + resume 10 steps = 20 uninterrupted steps, exactly', async () => {
    for (const strategy of ['loss-free', 'bip', 'optimal'] as const) {
      const full = new Trainer(micro({ strategy }), data);
      const expected = await losses(full, 20);
      full.dispose();

      const first = new Trainer(micro({ strategy }), data);
      const head = await losses(first, 10);
      const cp = await first.exportCheckpoint();
      first.dispose();
      expect(cp.step).toBe(10);
      const resumed = new Trainer(micro({ strategy }), data);
      resumed.importCheckpoint(cp);
      const tail = await losses(resumed, 10);
      expect(resumed.step).toBe(20);
      resumed.dispose();
      expect([...head, ...tail], strategy).toEqual(expected);
    }
  });

  it("bip's first-step MaxVio on the synthetic data is far below plain top-k's", async () => {
    const first = async (strategy: 'none' | 'bip') => {
      const tr = new Trainer(config({ preset: 'tiny', strategy, backend: 'wasm' }), data);
      const r = (await tr.trainStep()).report;
      tr.dispose();
      return r.maxVio;
    };
    const none = await first('none');
    const bip = await first('bip');
    // same seed → same weights and batch, so only the selection differs
    expect(none).toBeGreaterThan(0.3);
    expect(bip).toBeLessThan(none / 3);
  });

  it('reports what the step did: loads sum to k·T per layer, MaxVio per layer, timings', async () => {
    const tr = new Trainer(micro({ strategy: 'capacity', strategyOptions: { capacityFactor: 1 } }), data);
    const { report, topTokens } = await tr.trainStep({ oracle: true, topTokens: true });
    const T = MICRO.batch * MICRO.ctx;
    for (let l = 0; l < MICRO.layers; l++) {
      const load = report.loadsLE.slice(l * MICRO.experts, (l + 1) * MICRO.experts).reduce((a, b) => a + b, 0);
      // routed + dropped slots = k·T per layer; summed over layers the drops are report.dropped
      expect(load).toBeLessThanOrEqual(MICRO.topK * T);
    }
    const routed = report.loadsLE.reduce((a, b) => a + b, 0);
    expect(routed + report.dropped).toBe(MICRO.layers * MICRO.topK * T);
    // capacity ⌈1·k·T/E⌉ = 32 caps every load at the ideal, so MaxVio ≤ 0
    for (const v of report.maxVioL) expect(v).toBeLessThanOrEqual(0);
    expect(report.objectiveRatio).toBeGreaterThan(0.5);
    expect(report.objectiveRatio).toBeLessThanOrEqual(1 + 1e-6);
    expect(topTokens!.tokens).toHaveLength(MICRO.layers);
    expect(report.timing.totalMs).toBeGreaterThanOrEqual(report.timing.forwardBackwardMs);
    const ev = await tr.evaluate();
    expect(ev.valPerplexity).toBeCloseTo(Math.exp(ev.valLoss), 6);
    tr.dispose();
  });
});
