// Finite-difference gradient check of the MoE layer on both dispatch paths and both gate functions:
// gradients must reach the input (dispatch adjoint), expert weights, the router (through the gate values)
// and an auxiliary loss, on the cpu and wasm backends (wasm lacks UnsortedSegmentSum, so gather's own
// gradient would fail there; the custom gradients use gathers only).
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { describe, expect, it } from 'vitest';
import { MoELayer, type DispatchMode, type RoutingContext } from '../../../src/main/engine/model/moe';
import { ParamStore } from '../../../src/main/engine/model/params';
import { Rng } from '../../../src/main/engine/rng';
import type { BalancingStrategy } from '../../../src/main/engine/strategies/types';
import { finiteDifference, useBackend } from './helpers';

const T = 6;
const d = 4;
const E = 4;
const K = 2;
const h = 3;
const shape = { ctx: T, dModel: d, heads: 1, layers: 1, experts: E, topK: K, expertHidden: h, batch: 1, vocab: 256 };
// fixed routing: token t takes experts (t mod 4, (t+1) mod 4); slot 1 of token 5 is dropped
const idxTK = Int32Array.from([0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2]);
const keepTK = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);

/** A strategy stub with a fixed selection and a smooth auxiliary loss Σ scores² · 0.5 (so its gradient is checkable). */
const fixedStrategy = (): BalancingStrategy => ({
  id: 'none',
  select: () => ({ idxTK, keepTK }),
  auxLoss: ({ scoresTE }) => tf.mul(tf.sum(tf.square(scoresTE)), 0.5) as tf.Scalar,
  getState: () => ({}),
  setState: () => undefined,
  dispose: () => undefined,
});

function setup(scoreFn: 'softmax' | 'sigmoid') {
  const rng = new Rng(7);
  const params = new ParamStore(rng);
  const layer = new MoELayer(params, 'moe', shape, 0, scoreFn);
  // larger weights than the 0.02 init so every term of the gradient is well above float32 noise
  for (const v of params.list()) v.assign(tf.mul(v, 30));
  const x = tf.variable(tf.randomNormal([T, d], 0, 1, 'float32', 3)) as tf.Variable<tf.Rank.R2>;
  const probeTD = tf.randomNormal([T, d], 0, 1, 'float32', 4);
  return { params, layer, x, probeTD };
}

/** f = Σ out ⊙ probe + aux: a scalar that depends on every path through the layer. */
function objective(layer: MoELayer, x: tf.Variable<tf.Rank.R2>, probeTD: tf.Tensor, dispatch: DispatchMode): tf.Scalar {
  const ctx: RoutingContext = { training: true, seqLen: T, dispatch, strategies: [fixedStrategy()], keepScores: false, layers: [], auxLosses: [], routingMs: 0 };
  const out = layer.forward(x, ctx);
  return tf.add(tf.sum(tf.mul(out, probeTD)), tf.addN(ctx.auxLosses)) as tf.Scalar;
}

describe.each(['cpu', 'wasm'] as const)('MoE layer gradients on %s', (backend) => {
  it.each([
    ['dense', 'softmax'],
    ['sparse', 'softmax'],
    ['sparse', 'sigmoid'],
    ['dense', 'sigmoid'],
  ] as const)('%s dispatch, %s gates: analytic = finite difference', async (dispatch, scoreFn) => {
    await useBackend(backend);
    const { params, layer, x, probeTD } = setup(scoreFn);
    const f = () => objective(layer, x, probeTD, dispatch);
    const vars = [x, layer.wr, layer.w1, layer.w3, layer.w2];
    const { grads } = tf.variableGrads(f, vars);
    for (const v of vars) {
      const g = grads[v.name]!.dataSync();
      // a few coordinates of each tensor, spread over its length
      for (const i of [0, Math.floor(v.size / 3), Math.floor((2 * v.size) / 3), v.size - 1]) {
        const fd = finiteDifference(v, i, f);
        expect(Math.abs(g[i]! - fd), `${v.name}[${i}] analytic ${g[i]} vs fd ${fd}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
      }
    }
    // the router learns: its gradient is not zero (it flows through the gate values and the aux loss)
    expect(Math.max(...Array.from(grads[layer.wr.name]!.dataSync(), Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose(Object.values(grads));
    tf.dispose([x, probeTD]);
    params.dispose();
  });

  it('dense and sparse paths give the same output and gradients', async () => {
    await useBackend(backend);
    const { params, layer, x, probeTD } = setup('softmax');
    const vars = [x, layer.wr, layer.w1, layer.w3, layer.w2];
    const a = tf.variableGrads(() => objective(layer, x, probeTD, 'dense'), vars);
    const b = tf.variableGrads(() => objective(layer, x, probeTD, 'sparse'), vars);
    expect(b.value.dataSync()[0]).toBeCloseTo(a.value.dataSync()[0]!, 4);
    for (const v of vars) {
      const ga = a.grads[v.name]!.dataSync();
      const gb = b.grads[v.name]!.dataSync();
      for (let i = 0; i < ga.length; i++) expect(gb[i]!).toBeCloseTo(ga[i]!, 3);
    }
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), x, probeTD]);
    params.dispose();
  });
});
