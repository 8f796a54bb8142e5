// The fused sparse expert FFN (native/experts.c via native/experts.ts) on cpu and wasm: a float64 reference with
// finite differences, the unfused TF.js path (values and gradients, router included), no tensor leak, the
// LOADSCOPE_NATIVE=0 switch, and the addon throwing on bad buffers rather than touching memory outside them.
import * as tf from '@tensorflow/tfjs-core';
import '../../../src/main/engine/tf-setup';
import { afterEach, describe, expect, it } from 'vitest';
import { planDispatch, type DispatchPlan } from '../../../src/main/engine/model/dispatch';
import { MoELayer, chooseDispatch, type RoutingContext } from '../../../src/main/engine/model/moe';
import { ParamStore } from '../../../src/main/engine/model/params';
import { fusedSparseAvailable, sparseExperts, sparseExpertsUnfused, type ExpertWeights } from '../../../src/main/engine/model/sparse';
import { fusedExpertsStats, nativeExperts, setFusedExpertsEnabled } from '../../../src/main/engine/native/experts';
import { Rng } from '../../../src/main/engine/rng';
import type { BalancingStrategy } from '../../../src/main/engine/strategies/types';
import { expectSameAsUnfused, useBackend } from '../engine/helpers';
import { ensureAddon } from './addon';

const addon = ensureAddon();
// the kernel's own tests switch LOADSCOPE_NATIVE themselves; a caller who set it to 0 turned the kernel off
const callerTurnedOff = process.env.LOADSCOPE_NATIVE === '0';
const skipReason = addon.reason ?? (callerTurnedOff ? 'skipped: LOADSCOPE_NATIVE=0 set by the caller' : 'addon built');

const T = 6;
const d = 4;
const E = 4;
const K = 2;
const h = 3;
// expert 3 is never chosen (zero rows); slot 1 of token 2 and both slots of token 5 are capacity-dropped
const idxTK = Int32Array.from([0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0]);
const keepTK = Uint8Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0]);
const plan = planDispatch(idxTK, keepTK, T, K, E);

afterEach(() => {
  delete process.env.LOADSCOPE_NATIVE;
  tf.disposeVariables();
});

type Vars = [tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R2>];

/** x, w1, w3, w2, gatesTE with entries of order one, so every gradient term is well above float32 noise. */
function inputs(): { vars: Vars; probe: tf.Tensor } {
  const v = (shape: [number, number], seed: number) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed)) as tf.Variable<tf.Rank.R2>;
  return { vars: [v([T, d], 1), v([d, E * h], 2), v([d, E * h], 3), v([E * h, d], 4), v([T, E], 5)], probe: tf.randomNormal([T, d], 0, 1, 'float32', 6) };
}

const weights = (w1: tf.Tensor2D, w3: tf.Tensor2D, w2: tf.Tensor2D): ExpertWeights => ({ w1, w3, w2, experts: E, hidden: h });
const fusedOp = (x: tf.Tensor2D, w1: tf.Tensor2D, w3: tf.Tensor2D, w2: tf.Tensor2D, g: tf.Tensor2D) => sparseExperts(x, g, weights(w1, w3, w2), plan, idxTK);
const unfusedOp = (x: tf.Tensor2D, w1: tf.Tensor2D, w3: tf.Tensor2D, w2: tf.Tensor2D, g: tf.Tensor2D) => sparseExpertsUnfused(x, g, weights(w1, w3, w2), plan, idxTK);

/** The layer written out in float64 from the definition: y[t] = Σ kept slots gate[t, e]·W2eᵀ(silu(W1eᵀx)⊙W3eᵀx). */
function reference([x, w1, w3, w2, g]: Float64Array[], p: DispatchPlan): Float64Array {
  const y = new Float64Array(T * d);
  for (let i = 0; i < T * K; i++) {
    if (!keepTK[i]) continue;
    const t = Math.floor(i / K);
    const e = idxTK[i]!;
    for (let c = 0; c < h; c++) {
      let a = 0;
      let b = 0;
      for (let j = 0; j < d; j++) {
        a += x![t * d + j]! * w1![j * E * h + e * h + c]!;
        b += x![t * d + j]! * w3![j * E * h + e * h + c]!;
      }
      const hid = (a / (1 + Math.exp(-a))) * b;
      for (let j = 0; j < d; j++) y[t * d + j]! += g![t * E + e]! * hid * w2![(e * h + c) * d + j]!;
    }
  }
  expect(p.rows).toBe(keepTK.reduce((s, k) => s + k, 0));
  return y;
}

describe.skipIf(!addon.path || callerTurnedOff)(`fused sparse experts (${skipReason})`, () => {
  describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
    it('forward equals the float64 reference; every gradient coordinate equals its float64 finite difference', async () => {
      await useBackend(backend);
      const { vars, probe } = inputs();
      const before = fusedExpertsStats();
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(fusedOp(...vars), probe)) as tf.Scalar, [...vars]);
      expect(fusedExpertsStats().forward).toBe(before.forward + 1);
      expect(fusedExpertsStats().backward).toBe(before.backward + 1);
      const base = vars.map((v) => Float64Array.from(v.dataSync()));
      const pr = Float64Array.from(probe.dataSync());
      const f = (vs: Float64Array[]) => reference(vs, plan).reduce((s, yi, i) => s + yi * pr[i]!, 0);
      expect(value.dataSync()[0]).toBeCloseTo(f(base), 4);
      const eps = 1e-5;
      vars.forEach((v, k) => {
        const analytic = grads[v.name]!.dataSync();
        for (let i = 0; i < v.size; i++) {
          const at = (delta: number) => f(base.map((b, j) => (j === k ? b.map((z, m) => (m === i ? z + delta : z)) : b)));
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          expect(Math.abs(analytic[i]! - fd), `${['x', 'w1', 'w3', 'w2', 'gates'][k]}[${i}]: ${analytic[i]} vs ${fd}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
        }
      });
      // the unused expert's weight gradients and the dropped or unrouted gates' gradients are exactly zero
      const dw1 = grads[vars[1].name]!.arraySync() as number[][];
      const dw2 = grads[vars[3].name]!.arraySync() as number[][];
      expect(dw1.flatMap((row) => row.slice(3 * h))).toEqual(new Array(d * h).fill(0));
      expect(dw2.slice(3 * h).flat()).toEqual(new Array(h * d).fill(0));
      const dg = grads[vars[4].name]!.arraySync() as number[][];
      expect(dg[5]).toEqual([0, 0, 0, 0]);
      expect(dg[2]![0]).toBe(0); // token 2's slot to expert 0 was dropped
      expect(dg[2]![2]).not.toBe(0);
      tf.dispose([value, probe, ...Object.values(grads)]);
    });

    it('values and gradients equal the unfused TF.js path', async () => {
      await useBackend(backend);
      const { vars, probe } = inputs();
      expectSameAsUnfused(fusedOp, unfusedOp, vars, probe);
      probe.dispose();
    });

    it('with every slot dropped the output and every gradient are zeros', async () => {
      await useBackend(backend);
      const { vars, probe } = inputs();
      const none = planDispatch(idxTK, new Uint8Array(T * K), T, K, E);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(sparseExperts(vars[0], vars[4], weights(vars[1], vars[2], vars[3]), none, idxTK), probe)) as tf.Scalar, [...vars]);
      expect(value.dataSync()[0]).toBe(0);
      for (const v of vars) expect(Array.from(grads[v.name]!.dataSync()).every((z) => z === 0), v.name).toBe(true);
      tf.dispose([value, probe, ...Object.values(grads)]);
    });

    it('leaks no tensor over forward and backward, and makes one tensor where the unfused path makes dozens', async () => {
      await useBackend(backend);
      const { vars, probe } = inputs();
      const run = () => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.mul(fusedOp(...vars), probe)) as tf.Scalar, [...vars]).value);
      run().dispose();
      const start = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) run().dispose();
      expect(tf.memory().numTensors).toBe(start);
      const made = () =>
        tf.tidy(() => {
          const n0 = tf.memory().numTensors;
          fusedOp(...vars);
          return tf.memory().numTensors - n0;
        });
      expect(made()).toBe(1);
      process.env.LOADSCOPE_NATIVE = '0';
      expect(made()).toBeGreaterThan(20);
      probe.dispose();
    });

    it('through the whole MoE layer, router included, the fused and LOADSCOPE_NATIVE=0 paths agree', async () => {
      await useBackend(backend);
      const params = new ParamStore(new Rng(7));
      const layer = new MoELayer(params, 'moe', { ctx: T, dModel: d, heads: 1, layers: 1, experts: E, topK: K, expertHidden: h, batch: 1, vocab: 256 }, 0, 'softmax');
      for (const v of params.list()) v.assign(tf.mul(v, 30));
      const strategy: BalancingStrategy = {
        id: 'none', select: () => ({ idxTK, keepTK }), getState: () => ({}), setState: () => undefined, dispose: () => undefined,
      };
      const x = tf.variable(tf.randomNormal([T, d], 0, 1, 'float32', 3)) as tf.Variable<tf.Rank.R2>;
      const probe = tf.randomNormal([T, d], 0, 1, 'float32', 4);
      const ctx = (): RoutingContext => ({ training: true, seqLen: T, dispatch: 'sparse', strategies: [strategy], keepScores: false, layers: [], auxLosses: [], routingMs: 0 });
      const vars = [x, layer.wr, layer.w1, layer.w3, layer.w2];
      const run = () => tf.variableGrads(() => tf.sum(tf.mul(layer.forward(x, ctx()), probe)) as tf.Scalar, vars);
      const n0 = fusedExpertsStats().backward;
      const fused = run();
      expect(fusedExpertsStats().backward).toBe(n0 + 1);
      process.env.LOADSCOPE_NATIVE = '0';
      const unfused = run();
      expect(fusedExpertsStats().backward).toBe(n0 + 1);
      expect(fused.value.dataSync()[0]).toBeCloseTo(unfused.value.dataSync()[0]!, 4);
      for (const v of vars) {
        const a = fused.grads[v.name]!.dataSync();
        const b = unfused.grads[v.name]!.dataSync();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${v.name}[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(b[i]!)));
      }
      expect(Math.max(...Array.from(fused.grads[layer.wr.name]!.dataSync(), Math.abs))).toBeGreaterThan(1e-3);
      tf.dispose([fused.value, unfused.value, ...Object.values(fused.grads), ...Object.values(unfused.grads), probe]);
      params.dispose();
    });
  });

  describe('the addon checks every buffer', () => {
    const k = nativeExperts()!;
    const f = (n: number) => new Float32Array(n);
    const N = plan.rows;
    const args = () => ({ x: f(T * d), w1: f(d * E * h), w3: f(d * E * h), w2: f(E * h * d), g: f(T * E), tokN: Int32Array.from(plan.tokN), countE: Int32Array.from(plan.countE), saved: f(N * (2 * h + d)) });
    const forward = (a: ReturnType<typeof args>, y = f(T * d)) => k.expertsForward(T, d, E, h, a.x, a.w1, a.w3, a.w2, a.g, a.tokN, a.countE, a.saved, y);

    it('accepts well-sized buffers and writes every element of y (zero inputs: y = 0)', () => {
      const y = f(T * d).fill(7);
      forward(args(), y);
      expect(Array.from(y)).toEqual(new Array(T * d).fill(0));
    });

    it('backward writes every element of dx, dw1, dw3, dw2 and dgatesTE (expert 3 without rows included)', () => {
      const a = args();
      forward(a);
      const outs = [f(T * d), f(d * E * h), f(d * E * h), f(E * h * d), f(T * E)].map((b) => b.fill(7));
      k.expertsBackward(T, d, E, h, a.x, a.w1, a.w3, a.w2, a.g, a.tokN, a.countE, a.saved, f(T * d), outs[0]!, outs[1]!, outs[2]!, outs[3]!, outs[4]!);
      for (const b of outs) expect(b.every((v) => v === 0)).toBe(true);
    });

    it('throws a RangeError for a short or long buffer, a token out of range or counts that miss the rows', () => {
      expect(() => forward(args(), f(T * d - 1))).toThrow(/y must hold T·d/);
      expect(() => forward({ ...args(), w2: f(E * h * d + 1) })).toThrow(RangeError);
      expect(() => forward({ ...args(), saved: f(N * (2 * h + d) - 1) })).toThrow(/saved must hold/);
      const outside = Int32Array.from(plan.tokN);
      outside[0] = T;
      expect(() => forward({ ...args(), tokN: outside })).toThrow(/tokN has a token outside/);
      expect(() => forward({ ...args(), countE: Int32Array.from([N, 1, 0, 0]) })).toThrow(/countE must sum/);
      const a = args();
      const dg = f(T * E - 1);
      expect(() => k.expertsBackward(T, d, E, h, a.x, a.w1, a.w3, a.w2, a.g, a.tokN, a.countE, a.saved, f(T * d), f(T * d), f(d * E * h), f(d * E * h), f(E * h * d), dg)).toThrow(/dgatesTE must hold/);
    });

    it('throws a TypeError for a wrong array type or argument count', () => {
      const a = args();
      expect(() => forward({ ...a, tokN: new Float32Array(N) as unknown as Int32Array<ArrayBuffer> })).toThrow(TypeError);
      expect(() => (k.expertsForward as unknown as (...x: unknown[]) => void)(T, d, E, h)).toThrow(/expected 13 arguments/);
    });
  });
});

describe('dispatch choice', () => {
  const e4k2 = { ctx: 64, dModel: 64, heads: 4, layers: 2, experts: 4, topK: 2, expertHidden: 128, batch: 8, vocab: 256 };
  it('auto is sparse whenever the fused kernel runs, else dense for E/k ≤ 2; an explicit mode is kept', () => {
    expect(chooseDispatch('auto', e4k2, true)).toBe('sparse');
    expect(chooseDispatch('auto', e4k2, false)).toBe('dense');
    expect(chooseDispatch('auto', { ...e4k2, experts: 8 }, false)).toBe('sparse');
    expect(chooseDispatch('dense', e4k2, true)).toBe('dense');
  });

  it.skipIf(!addon.path || callerTurnedOff)('the fused kernel is available on wasm unless turned off', async () => {
    await useBackend('wasm');
    expect(fusedSparseAvailable()).toBe(true);
    setFusedExpertsEnabled(false);
    expect(fusedSparseAvailable()).toBe(false);
    setFusedExpertsEnabled(true);
    process.env.LOADSCOPE_NATIVE = '0';
    expect(fusedSparseAvailable()).toBe(false);
  });
});
