// The router's fused score and gate ops and the fused embedding (model/gates.ts, model/embed.ts) on cpu and wasm:
// hand-worked values, the same values and gradients as the TF.js ops (LOADSCOPE_NATIVE=0), finite differences.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { embedTokens } from '../../../src/main/engine/model/embed';
import { gateValues, gateValuesOps, routeMasks, routerScores } from '../../../src/main/engine/model/gates';
import { expectFiniteDifferences, expectSameAsUnfused, useBackend } from './helpers';

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE;
  tf.disposeVariables();
});

/** the same op with LOADSCOPE_NATIVE=0: TF.js ops and their own gradients */
const unfused = <A extends unknown[]>(f: (...a: A) => tf.Tensor) => (...a: A) => {
  process.env.LOADSCOPE_NATIVE = '0';
  try {
    return f(...a);
  } finally {
    delete process.env.LOADSCOPE_NATIVE;
  }
};

// 3 tokens, 4 experts, top-2; token 1's second slot dropped, token 2 picks expert 3 twice (counts once)
const T = 3;
const E = 4;
const K = 2;
const masks = () => routeMasks(Int32Array.from([0, 2, 1, 3, 3, 3]), Uint8Array.from([1, 1, 1, 0, 1, 1]), T, E, K);
const logits = () => tf.variable(tf.randomNormal([T, E], 0, 1.5, 'float32', 11)) as tf.Variable<tf.Rank.R2>;
const probeTE = () => tf.randomNormal([T, E], 0, 1, 'float32', 12);

/** A forward and backward pass leaves no tensor behind once its value and gradients are disposed. */
function expectNoLeak(f: () => tf.Tensor, vars: tf.Variable[]): void {
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(f as () => tf.Scalar, vars);
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
}

describe.each(['cpu', 'wasm'] as const)('router ops on %s', (backend) => {
  it('masks: loads count kept slots, a pair chosen twice once in the mask', () => {
    const m = masks();
    expect(Array.from(m.selTE)).toEqual([1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(m.keptTE)).toEqual([1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(m.loadE)).toEqual([1, 1, 1, 2]);
    expect(m.dropped).toBe(1);
  });

  it('hand-worked gates: scores 0.1 0.2 0.3 0.4 per row, renormalised over the chosen, dropped slot 0', async () => {
    await useBackend(backend);
    const s = tf.tensor2d([0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4], [T, E]);
    const g = Array.from(gateValues(s, masks(), true).dataSync());
    const want = [0.1 / 0.4, 0, 0.3 / 0.4, 0, 0, 0.2 / 0.6, 0, 0, 0, 0, 0, 1];
    g.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    const raw = Array.from(gateValues(s, masks(), false).dataSync());
    [0.1, 0, 0.3, 0, 0, 0.2, 0, 0, 0, 0, 0, 0.4].forEach((x, i) => expect(raw[i]).toBeCloseTo(x, 6));
  });

  it.each(['softmax', 'sigmoid'] as const)('%s scores and gates (renormalised or not): same values and gradients as the ops', async (fn) => {
    await useBackend(backend);
    const z = logits();
    const probe = probeTE();
    expectSameAsUnfused((v) => routerScores(v, fn), unfused((v: tf.Tensor2D) => routerScores(v, fn)), [z], probe);
    for (const renorm of [true, false]) {
      const fused = (v: tf.Tensor2D) => gateValues(routerScores(v, fn), masks(), renorm);
      expectSameAsUnfused(fused, unfused((v: tf.Tensor2D) => gateValuesOps(routerScores(v, fn), masks(), renorm)), [z], probe);
    }
  });

  it('gates through softmax scores: analytic gradients = finite differences', async () => {
    await useBackend(backend);
    const z = logits();
    expectFiniteDifferences((v) => gateValues(routerScores(v, 'softmax'), masks(), true), [z], probeTE());
    expectNoLeak(() => tf.sum(gateValues(routerScores(z, 'softmax'), masks(), true)), [z]);
  });

  it('embedding + positions: hand-worked rows, gradients as the ops (repeated ids), finite differences; no leaks', async () => {
    await useBackend(backend);
    const wte = tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', 13)) as tf.Variable<tf.Rank.R2>;
    const wpe = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 14)) as tf.Variable<tf.Rank.R2>;
    const ids = Int32Array.from([4, 1, 4, 0, 2, 4]); // B = 2, S = 3 (< 4 context rows)
    const x = embedTokens(wte, wpe, ids, 2, 3).dataSync();
    const w = wte.dataSync();
    const p = wpe.dataSync();
    // row 4 = token 2 at position 1
    for (let j = 0; j < 3; j++) expect(x[4 * 3 + j]).toBeCloseTo(w[2 * 3 + j]! + p[1 * 3 + j]!, 6);
    const probe = tf.randomNormal([6, 3], 0, 1, 'float32', 15);
    expectNoLeak(() => tf.sum(embedTokens(wte, wpe, ids, 2, 3)), [wte, wpe]);
    expectSameAsUnfused((a, b) => embedTokens(a, b, ids, 2, 3), unfused((a: tf.Variable, b: tf.Variable) => embedTokens(a, b, ids, 2, 3)), [wte, wpe], probe);
    expectFiniteDifferences((a, b) => embedTokens(a, b, ids, 2, 3), [wte, wpe], probe);
    expect(() => embedTokens(wte, wpe, Int32Array.from([5, 0, 0, 0, 0, 0]), 2, 3)).toThrow(/token id 5/);
  });
});
