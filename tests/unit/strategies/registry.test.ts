// Descriptors and implementations match one to one: every id has a factory, every option changes behaviour,
// and no strategy leaks tensors from select/auxLoss (with and without the composed z-loss).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { STRATEGIES, STRATEGY_IDS, type OptionValue, type StrategyId } from '../../../src/shared/strategy-descriptors';
import { STRATEGY_FACTORIES, createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import type { BalancingStrategy } from '../../../src/main/engine/strategies/types';
import { driftingSequence, seededScores } from './fixtures';
import { make, step, useCpu } from './helpers';

const T = 66; // 2·66/8 = 16.5, so the capacity rounding options differ
const E = 8;
const K = 2;
const BATCHES = driftingSequence(3, T, E, { skew: 1.5, drift: 0.1, seed: 3 });

/** A non-default value for every descriptor option; the test fails if a new option is not listed here. */
const ALTERNATIVES: Record<string, OptionValue> = {
  'aux-loss.alpha': 0.1,
  'aux-loss.scope': 'global', // the uniform global f below replaces the batch's own
  'seq-aux-loss.alpha': 0.1,
  'z-loss.cz': 0.1,
  'loss-free.u': 0.05,
  'loss-free.rule': 'sign', // the default auto is proportional with these softmax scores
  'bip.T': 1,
  'bip.clipP': false, // on its own fixture (FIXTURE_OF): on these mild 66-token batches p never goes below 0
  'bip.clipQ': false,
  'bip.capacityRounding': 'floor', // needs a T for which E does not divide k·T (see the test below)
  'bip.route': 'previous',
  'quantile.ema': 0.9,
  'quantile.priceOn': 'logits',
  'sinkhorn.tol': 1e-1,
  'sinkhorn.maxIter': 1,
  'capacity.capacityFactor': 1,
  'capacity.dropPolicy': 'position',
  'optimal.capacityFactor': 2,
};

interface Fixture {
  batches: Float64Array[];
  T: number;
  E: number;
}
const MAIN: Fixture = { batches: BATCHES, T, E };
/** Options that only act on harder batches: p's clip binds only after some skewed steps with q ≥ 0 (30 here). */
const FIXTURE_OF: Record<string, Fixture> = {
  'bip.clipP': { batches: driftingSequence(30, 512, 16, { skew: 1.5, drift: 0.03, seed: 1 }), T: 512, E: 16 },
};

/** Everything observable about a strategy on a fixed 3-step skewed sequence: selections, state, aux loss. */
function behaviour(s: BalancingStrategy, fx: Fixture = MAIN): string {
  const { T, E } = fx;
  const parts: unknown[] = [];
  for (const scores of fx.batches) {
    const sel = step(s, scores, T, E, { seqLen: 6 });
    parts.push(Array.from(sel.idxTK), Array.from(sel.keepTK), s.diagnostics?.());
  }
  parts.push(Object.entries(s.getState()).map(([k, v]) => [k, Array.from(v)]));
  if (s.auxLoss) {
    const loss = tf.tidy(() => {
      const scoresTE = tf.tensor2d(Float32Array.from(BATCHES[0]!), [T, E]);
      const sel = step(make('none', E, K), BATCHES[0]!, T, E);
      const mask = new Float32Array(T * E);
      for (let i = 0; i < sel.idxTK.length; i++) mask[Math.floor(i / K) * E + sel.idxTK[i]!] = 1;
      // a global batch's f (uniform) is offered as the trainer offers it; only scope global reads it
      const globalFractionE = new Float32Array(E).fill(1 / E);
      return s.auxLoss!({ scoresTE, logitsTE: tf.log(scoresTE) as tf.Tensor2D, selectedTE: tf.tensor2d(mask, [T, E]), seqLen: 6, globalFractionE });
    });
    parts.push(loss.dataSync()[0]);
    loss.dispose();
  }
  s.dispose();
  return JSON.stringify(parts);
}

beforeAll(useCpu);

describe('strategy registry', () => {
  it('has exactly one factory per descriptor id, and each instance reports its id', () => {
    expect(Object.keys(STRATEGY_FACTORIES).sort()).toEqual([...STRATEGY_IDS].sort());
    expect(Object.keys(STRATEGIES).sort()).toEqual([...STRATEGY_IDS].sort());
    for (const id of STRATEGY_IDS) expect(make(id, E, K).id).toBe(id);
  });

  it('reads every descriptor option: a non-default value changes behaviour', () => {
    const listed = new Set(Object.keys(ALTERNATIVES));
    for (const id of STRATEGY_IDS) {
      for (const o of STRATEGIES[id].options) {
        const key = `${id}.${o.name}`;
        expect(listed.has(key), `${key} needs an entry in ALTERNATIVES`).toBe(true);
        expect(ALTERNATIVES[key]).not.toEqual(o.default);
        const fx = FIXTURE_OF[key] ?? MAIN;
        const base = behaviour(make(id, fx.E, K), fx);
        const changed = behaviour(make(id, fx.E, K, { [o.name]: ALTERNATIVES[key]! }), fx);
        expect(changed, `${key} = ${String(ALTERNATIVES[key])} changed nothing`).not.toEqual(base);
        listed.delete(key);
      }
    }
    expect([...listed]).toEqual([]); // no stale entries for options that no longer exist
  });

  it('rejects unknown options and out-of-range values', () => {
    expect(() => make('bip', E, K, { nope: 1 })).toThrow(/no option "nope"/);
    expect(() => make('loss-free', E, K, { u: 5 })).toThrow(/outside/);
  });

  it('composes the router z-loss with any strategy (zLoss > 0), adding c_z·mean(lse²) to its aux loss', () => {
    // logits t0 [0, 0, 0, 0] → lse = ln 4; t1 [1, 1, 1, 1] → lse = 1 + ln 4.
    // mean(lse²) = ((ln 4)² + (1 + ln 4)²)/2 = (1.921812 + 5.694401)/2 = 3.808107; ×0.01 = 0.03808107.
    const logitsTE = tf.tensor2d([0, 0, 0, 0, 1, 1, 1, 1], [2, 4]);
    const scoresTE = tf.softmax(logitsTE) as tf.Tensor2D;
    const selectedTE = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0], [2, 4]);
    const inputs = { logitsTE, scoresTE, selectedTE, seqLen: 2 };
    const spec = { layer: 0, experts: 4, topK: 1, scoreFn: 'softmax' as const };
    const none = createLayerStrategy({ strategy: 'none', strategyOptions: {}, zLoss: 0.01 }, spec);
    expect(none.auxLoss!(inputs).dataSync()[0]).toBeCloseTo(0.03808107, 6);
    // aux-loss α = 0.1: f = [1, 0, 0, 0], P = [0.25, …] → α·N·Σ f·P = 0.1·4·0.25 = 0.1; plus the z-loss
    const aux = createLayerStrategy({ strategy: 'aux-loss', strategyOptions: { alpha: 0.1 }, zLoss: 0.01 }, spec);
    expect(aux.auxLoss!(inputs).dataSync()[0]).toBeCloseTo(0.1 + 0.03808107, 6);
    // 'z-loss' alone = top-k + its own c_z
    const z = createLayerStrategy({ strategy: 'z-loss', strategyOptions: { cz: 0.01 }, zLoss: 0 }, spec);
    expect(z.auxLoss!(inputs).dataSync()[0]).toBeCloseTo(0.03808107, 6);
    tf.dispose([logitsTE, scoresTE, selectedTE]);
  });

  it('leaks no tensors from select, afterStep or auxLoss (every strategy, with and without z-loss)', () => {
    const scores = seededScores(T, E, 1, 9);
    for (const id of STRATEGY_IDS as readonly StrategyId[]) {
      for (const zLoss of [0, 1e-3]) {
        const s = make(id, E, K, {}, zLoss);
        const before = tf.memory().numTensors;
        step(s, scores, T, E);
        step(s, scores, T, E, { training: false });
        const scoresTE = tf.tensor2d(Float32Array.from(scores), [T, E]);
        const logitsTE = tf.log(scoresTE) as tf.Tensor2D;
        const selectedTE = tf.zeros([T, E]) as tf.Tensor2D;
        const inside = tf.memory().numTensors;
        const loss = s.auxLoss?.({ scoresTE, logitsTE, selectedTE, seqLen: 6 });
        expect(tf.memory().numTensors - inside, `${id} auxLoss`).toBe(loss ? 1 : 0);
        loss?.dispose();
        tf.dispose([scoresTE, logitsTE, selectedTE]);
        s.dispose();
        expect(tf.memory().numTensors, `${id} (zLoss ${zLoss})`).toBe(before);
      }
    }
  });

  it('validation batches (training = false) do not change state', () => {
    const scores = seededScores(T, E, 1.5, 5);
    for (const id of STRATEGY_IDS) {
      const s = make(id, E, K);
      step(s, scores, T, E); // some state first
      const before = JSON.stringify(Object.entries(s.getState()).map(([k, v]) => [k, Array.from(v)]));
      step(s, seededScores(T, E, 2, 6), T, E, { training: false });
      expect(JSON.stringify(Object.entries(s.getState()).map(([k, v]) => [k, Array.from(v)])), id).toBe(before);
      s.dispose();
    }
  });

  it('getState/setState round-trips the per-layer state (a restored layer routes like the original)', () => {
    for (const id of ['loss-free', 'bip', 'quantile'] as const) {
      const a = make(id, E, K);
      for (const scores of BATCHES) step(a, scores, T, E);
      const b = make(id, E, K);
      b.setState(a.getState());
      const probe = seededScores(T, E, 1, 11);
      expect(Array.from(step(b, probe, T, E, { training: false }).idxTK)).toEqual(Array.from(step(a, probe, T, E, { training: false }).idxTK));
      expect(() => b.setState({ [Object.keys(a.getState())[0]!]: new Float32Array(3) })).toThrow(/expected 8/);
    }
  });
});
