// The webgpu backend on SwiftShader (CPU emulation of a GPU) against wasm: every op the model uses, forward and
// backward, at tiny shapes; a short run's losses; constant tensor count; dispose frees everything.
//
// SwiftShader is slow (seconds per new shader on a busy machine), so shapes are micro. The file skips,
// saying why, where the machine has no Vulkan loader or SwiftShader driver (README set-up installs both).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/main/engine/backend';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { collectSlots, dispatchRows, embedRows, planDispatch } from '../../../src/main/engine/model/dispatch';
import { matmul, matmulT } from '../../../src/main/engine/model/linear';
import { crossEntropy, crossEntropyOps } from '../../../src/main/engine/model/loss';
import { MoELayer, type RoutingContext } from '../../../src/main/engine/model/moe';
import { ParamStore } from '../../../src/main/engine/model/params';
import { driveSync, replayRoute } from '../../../src/main/engine/model/routing';
import { Rng } from '../../../src/main/engine/rng';
import { createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import { Trainer } from '../../../src/main/engine/train/trainer';
import { findSwiftShaderIcd, preferSoftwareVulkan, webgpuUnavailable } from '../../../src/main/engine/webgpu';
import { MICRO, config } from './helpers';

process.env.LOADSCOPE_WEBGPU_SOFTWARE = '1';
preferSoftwareVulkan();
const icd = findSwiftShaderIcd();
const unavailable = icd ? await webgpuUnavailable() : 'no SwiftShader Vulkan driver (Debian chromium ships it)';
if (unavailable) console.warn(`webgpu tests skipped: ${unavailable}`);

/** deterministic data in [−1, 1) from a seed */
function data(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.next() * 2 - 1);
}

type OpCase = { name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor };

/** value Σ f(x)·probe and its gradient for every input, read back asynchronously */
async function run(c: OpCase): Promise<{ out: Float32Array; grads: Float32Array[] }> {
  const xs = c.shapes.map((s, i) => tf.tensor(data(s.reduce((a, b) => a * b, 1), 11 + i), s));
  const outT = tf.tidy(() => c.f(...xs));
  const probe = tf.tensor(data(outT.size, 99), outT.shape);
  const g = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(c.f(...ys), probe)));
  const gs = g(xs);
  const out = (await outT.data()) as Float32Array;
  const grads = (await Promise.all(gs.map((t) => t.data()))) as Float32Array[];
  tf.dispose([...xs, outT, probe, ...gs]);
  return { out, grads };
}

function expectClose(a: Float32Array, b: Float32Array, what: string, tol = 1e-4): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  expect(worst, what).toBeLessThan(tol);
}

const T = 6;
const K = 2;
const E = 3;
const idxTK = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 2, 1, 0, 2, 1]);
const keepTK = Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1]);
const plan = planDispatch(idxTK, keepTK, T, K, E);
const targets = Int32Array.from([1, 0, 3, 2, 2, 1]);
const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));

const OPS: OpCase[] = [
  { name: 'matmul (custom grad)', shapes: [[T, 4], [4, 5]], f: (a, b) => matmul(a!, b!) },
  { name: 'matmulT a·bᵀ (custom grad)', shapes: [[2, T, 4], [2, T, 4]], f: (a, b) => matmulT(a!, b!) },
  { name: 'softmax', shapes: [[T, 5]], f: (x) => tf.softmax(x!) },
  { name: 'sigmoid / silu', shapes: [[T, 5]], f: (x) => silu(x!) },
  { name: 'rmsnorm (square, mean, rsqrt)', shapes: [[T, 4], [4]], f: (x, g) => tf.mul(tf.mul(x!, tf.rsqrt(tf.add(tf.mean(tf.square(x!), 1, true), 1e-5))), g!) },
  { name: 'reshape, transpose, split', shapes: [[2, 3, 12]], f: (x) => tf.split(tf.transpose(tf.reshape(x!, [2, 3, 6, 2]), [0, 2, 1, 3]), 3, 1)[1]! },
  { name: 'slice, concat', shapes: [[T, 6]], f: (x) => tf.concat([tf.slice(x!, [0, 2], [T, 3]), tf.slice(x!, [1, 0], [2, 3])], 0) },
  { name: 'embedRows (gather, oneHot grad)', shapes: [[5, 4]], f: (w) => embedRows(w!, Int32Array.from([0, 3, 3, 1, 4, 0])) },
  { name: 'dispatchRows (gather, slot-sum grad)', shapes: [[T, 4]], f: (x) => dispatchRows(x as tf.Tensor2D, plan) },
  { name: 'collectSlots (gather, zero row)', shapes: [[plan.rows, 4]], f: (r) => collectSlots(r as tf.Tensor2D, plan) },
  { name: 'cross-entropy (tf ops)', shapes: [[T, 5]], f: (l) => crossEntropyOps(l as tf.Tensor2D, targets) },
  { name: 'sum, div, where-free gate renorm', shapes: [[T, E]], f: (s) => tf.div(s!, tf.add(tf.sum(s!, 1, true), 1e-9)) },
];

describe.skipIf(unavailable !== null)('webgpu backend (SwiftShader) against wasm', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('every op the model uses agrees with wasm, forward and backward', { timeout: 1_200_000 }, async () => {
    await selectBackend('wasm');
    const ref: Array<{ out: Float32Array; grads: Float32Array[] }> = [];
    for (const c of OPS) ref.push(await run(c));
    await selectBackend('webgpu');
    for (const [i, c] of OPS.entries()) {
      const got = await run(c);
      expectClose(got.out, ref[i]!.out, `${c.name}: forward`);
      got.grads.forEach((g, j) => expectClose(g, ref[i]!.grads[j]!, `${c.name}: gradient of input ${j}`));
    }
  });

  it('the tf-op cross-entropy equals the fused host one (wasm)', async () => {
    await selectBackend('wasm');
    const logits = tf.tensor2d(data(T * 5, 3), [T, 5]);
    const [a, b] = [crossEntropy(logits, targets), crossEntropyOps(logits, targets)];
    expect(a.dataSync()[0]!).toBeCloseTo(b.dataSync()[0]!, 5);
    tf.dispose([logits, a, b]);
  });

  it('an MoE layer (dense and sparse dispatch, fixed selection) agrees with wasm', { timeout: 1_200_000 }, async () => {
    const shape = { ...MICRO, dModel: 4, experts: E, topK: K, expertHidden: 3, vocab: 256 };
    const layerOut = async (dispatch: 'dense' | 'sparse') => {
      const params = new ParamStore(new Rng(5));
      const layer = new MoELayer(params, 'l', shape, 0, 'softmax');
      const strategy = createLayerStrategy({ strategy: 'aux-loss', strategyOptions: {}, zLoss: 0 }, { layer: 0, experts: E, topK: K, scoreFn: 'softmax' });
      const x = tf.tensor2d(data(T * 4, 8), [T, 4]);
      const ctx: RoutingContext = { training: true, seqLen: T, dispatch, strategies: [strategy], keepScores: false, layers: [], auxLosses: [], routingMs: 0 };
      const { value, grads } = tf.variableGrads(() => {
        const y = driveSync(layer.steps(x, ctx), replayRoute([{ idxTK, keepTK, scoresData: new Float32Array(T * E) }]));
        return tf.add(tf.sum(tf.mul(y, y)), ctx.auxLosses[0]!) as tf.Scalar;
      }, params.list());
      const names = params.entries().map(([, v]) => v.name);
      const out = [(await value.data())[0]!, ...(await Promise.all(names.map(async (n) => [...((await grads[n]!.data()) as Float32Array)]))).flat()];
      tf.dispose([x, value, ...Object.values(grads)]);
      params.dispose();
      strategy.dispose();
      return Float32Array.from(out);
    };
    for (const dispatch of ['dense', 'sparse'] as const) {
      await selectBackend('wasm');
      const ref = await layerOut(dispatch);
      await selectBackend('webgpu');
      expectClose(await layerOut(dispatch), ref, `MoE layer ${dispatch}: loss and gradients`);
    }
  });

  it('3 training steps match wasm within 1e-3; tensor count constant; dispose frees everything', { timeout: 1_800_000 }, async () => {
    const text = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 20_000 }) };
    const cfg = (backend: 'wasm' | 'webgpu') => config({ preset: 'custom', model: MICRO, steps: 3, warmupSteps: 1, lr: 1e-2, strategy: 'loss-free', evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend });
    const losses: Record<string, number[]> = {};
    for (const backend of ['wasm', 'webgpu'] as const) {
      await selectBackend(backend);
      const baseline = tf.memory().numTensors;
      const tr = new Trainer(cfg(backend), text);
      expect(tr.executor.kind).toBe(backend === 'webgpu' ? 'device' : 'host');
      const counts: number[] = [];
      const ls: number[] = [];
      for (let i = 0; i < 3; i++) {
        ls.push((await tr.trainStep()).report.loss);
        counts.push(tf.memory().numTensors);
      }
      const ev = await tr.evaluate();
      expect(Number.isFinite(ev.valLoss)).toBe(true);
      const cp = await tr.exportCheckpoint();
      expect(cp.arrays.find((a) => a.name.startsWith('optimizer/v/'))!.data.some((x) => x > 0)).toBe(true);
      expect(new Set(counts).size, `${backend}: tensors after each step ${counts}`).toBe(1);
      tr.dispose();
      expect(tf.memory().numTensors, `${backend}: after dispose`).toBe(baseline);
      losses[backend] = ls;
    }
    losses.webgpu!.forEach((l, i) => expect(Math.abs(l - losses.wasm![i]!), `step ${i + 1}: ${l} vs ${losses.wasm![i]}`).toBeLessThan(1e-3));
  });

  it('gradient accumulation (2 micro-batches, global-batch aux loss) matches wasm; tensor count constant', { timeout: 1_800_000 }, async () => {
    const text = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 20_000 }) };
    const cfg = (backend: 'wasm' | 'webgpu') =>
      config({ preset: 'custom', model: MICRO, steps: 2, warmupSteps: 1, lr: 1e-2, strategy: 'aux-loss', strategyOptions: { alpha: 0.1, scope: 'global' }, microBatches: 2, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend });
    const runs: Record<string, Array<[number, number]>> = {};
    for (const backend of ['wasm', 'webgpu'] as const) {
      await selectBackend(backend);
      const baseline = tf.memory().numTensors;
      const tr = new Trainer(cfg(backend), text);
      const counts: number[] = [];
      const out: Array<[number, number]> = [];
      for (let i = 0; i < 2; i++) {
        const r = (await tr.trainStep()).report;
        expect(r.maxVioMicro! >= r.maxVio - 1e-6, `${backend}: global MaxVio above the micro-batch mean`).toBe(true);
        out.push([r.loss, r.auxLoss]);
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts).size, `${backend}: tensors after each step ${counts}`).toBe(1);
      tr.dispose();
      expect(tf.memory().numTensors, `${backend}: after dispose`).toBe(baseline);
      runs[backend] = out;
    }
    runs.webgpu!.forEach((r, i) => r.forEach((x, j) => expect(Math.abs(x - runs.wasm![i]![j]!), `step ${i + 1} figure ${j}`).toBeLessThan(1e-3)));
  });
});
