// Gradient accumulation on wasm: k micro-batches of b sequences give the gradient of one batch of k·b, k = 1 is
// the single-batch step bit for bit, the global batch's f reaches the aux loss, and a k = 2 run reports both MaxVio.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Batcher, type Batch } from '../../../src/main/engine/data/batcher';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { MoEModel } from '../../../src/main/engine/model/model';
import type { RoutingContext } from '../../../src/main/engine/model/moe';
import { Rng } from '../../../src/main/engine/rng';
import { createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import type { BalancingStrategy } from '../../../src/main/engine/strategies/types';
import { createExecutor } from '../../../src/main/engine/train/executor';
import { AdamW } from '../../../src/main/engine/train/optimizer';
import { sumPairwise } from '../../../src/main/engine/train/sum';
import { Trainer, renormalizeGates } from '../../../src/main/engine/train/trainer';
import type { RunConfig } from '../../../src/shared/run-config';
import { MICRO, config, useBackend } from './helpers';

const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 60_000 }) };
const cfg = (extra: object = {}) => config({ preset: 'custom', model: MICRO, steps: 10, warmupSteps: 2, lr: 1e-2, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'wasm', ...extra });

beforeAll(async () => {
  await useBackend('wasm');
});

function strategiesOf(c: RunConfig): BalancingStrategy[] {
  return Array.from({ length: c.model.layers }, (_, l) =>
    createLayerStrategy({ strategy: c.strategy, strategyOptions: c.strategyOptions, zLoss: c.zLoss }, { layer: l, experts: c.model.experts, topK: c.model.topK, scoreFn: c.scoreFn }),
  );
}

const context = (c: RunConfig, strategies: BalancingStrategy[]): RoutingContext => ({
  training: true, seqLen: c.model.ctx, dispatch: c.dispatch === 'auto' ? 'sparse' : c.dispatch, strategies, keepScores: false, layers: [], auxLosses: [], routingMs: 0,
});

/** Sequences [from, from + n) of a batch as a batch of their own. */
function slice(b: Batch, from: number, n: number): Batch {
  const S = b.seqLen;
  return { inputs: b.inputs.slice(from * S, (from + n) * S), targets: b.targets.slice(from * S, (from + n) * S), batch: n, seqLen: S };
}

/** One executor step with AdamW.update replaced: the gradient it would use (g·scale) per variable, and the step's figures. */
async function effectiveGradient(c: RunConfig, batches: Batch[]) {
  const model = new MoEModel(c.model, c.scoreFn, new Rng(c.seed), renormalizeGates(c));
  const ex = createExecutor(model, c);
  const strategies = strategiesOf(c);
  const captured: Record<string, Float32Array> = {};
  // keyed by parameter name: tf variable names are unique per model instance
  const paramOf = new Map(model.params.entries().map(([name, v]) => [v.name, name]));
  // what update() does before the AdamW arithmetic (optimizer.ts jsAdamW): norm of the scaled sums, clip factor
  (ex.optimizer as unknown as { update: AdamW['update'] }).update = (grads, _lr, clip, gradScale = 1) => {
    let sum = 0;
    for (const g of Object.values(grads)) for (const x of g.dataSync() as Float32Array) sum += x * x;
    const norm = Math.sqrt(sum) * gradScale;
    const scale = (clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1) * gradScale;
    for (const [n, g] of Object.entries(grads)) captured[paramOf.get(n)!] = Float32Array.from(g.dataSync() as Float32Array, (x) => x * scale);
    return norm;
  };
  const nums = await ex.trainStep(batches, 1e-3, batches.map(() => context(c, strategies)));
  ex.dispose();
  model.dispose();
  return { captured, nums };
}

describe('gradient accumulation', () => {
  it('k micro-batches of b sequences = one batch of k·b: same loss, gradient norm and clipped gradient (strategy none)', async () => {
    for (const dispatch of ['dense', 'sparse'] as const) {
      const k = 2;
      const big = cfg({ dispatch, gradClip: 0.5, model: { ...MICRO, batch: k * MICRO.batch } });
      const small = cfg({ dispatch, gradClip: 0.5, microBatches: k });
      const whole = new Batcher(data, k * MICRO.batch, MICRO.ctx, 0.1, 3).nextTrain();
      const one = await effectiveGradient(big, [whole]);
      const acc = await effectiveGradient(small, [slice(whole, 0, MICRO.batch), slice(whole, MICRO.batch, MICRO.batch)]);
      expect(acc.nums.loss, dispatch).toBeCloseTo(one.nums.loss, 5);
      expect(acc.nums.gradNorm, dispatch).toBeCloseTo(one.nums.gradNorm, 4);
      // the gradient norm (≈ 0.9 at initialisation) exceeds the clip of 0.5: both clip by the same factor
      expect(one.nums.gradNorm).toBeGreaterThan(big.gradClip);
      const names = Object.keys(one.captured);
      expect(names.length).toBeGreaterThan(10);
      expect(Object.keys(acc.captured).sort()).toEqual(names.sort());
      for (const n of names) {
        const a = acc.captured[n]!;
        const b = one.captured[n]!;
        let maxAbs = 0;
        for (const x of b) maxAbs = Math.max(maxAbs, Math.abs(x));
        for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!), `${dispatch} ${n}[${i}]`).toBeLessThan(1e-5 + 1e-4 * maxAbs);
      }
    }
  });

  it('k = 1 is the single-batch step of before bit for bit (aux loss, clipping, AdamW), over three steps', async () => {
    const c = cfg({ strategy: 'aux-loss', dispatch: 'sparse' });
    const batcher = new Batcher(data, MICRO.batch, MICRO.ctx, 0.1, 4);
    const batches = [batcher.nextTrain(), batcher.nextTrain(), batcher.nextTrain()];
    // the step as the executor ran it before accumulation: one taped pass, clip, one AdamW update
    const refModel = new MoEModel(c.model, c.scoreFn, new Rng(c.seed), renormalizeGates(c));
    const refOpt = new AdamW(refModel.params.entries(), { weightDecay: c.weightDecay });
    const refStrategies = strategiesOf(c);
    const refLosses: number[] = [];
    for (const batch of batches) {
      const ctx = context(c, refStrategies);
      const { value, grads } = tf.variableGrads(() => {
        const lm = refModel.loss(batch.inputs, batch.targets, MICRO.batch, MICRO.ctx, ctx);
        return tf.add(lm, sumPairwise(ctx.auxLosses)) as tf.Scalar;
      }, refModel.variables());
      refLosses.push(value.dataSync()[0]!);
      refOpt.update(grads, 1e-2, c.gradClip);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const model = new MoEModel(c.model, c.scoreFn, new Rng(c.seed), renormalizeGates(c));
    const ex = createExecutor(model, c);
    const strategies = strategiesOf(c);
    const losses: number[] = [];
    for (const batch of batches) losses.push((await ex.trainStep([batch], 1e-2, [context(c, strategies)])).loss);
    expect(losses).toEqual(refLosses);
    const ref = refModel.params.entries();
    model.params.entries().forEach(([name, v], i) => expect(Array.from(v.dataSync()), name).toEqual(Array.from(ref[i]![1].dataSync())));
    for (const t of [ex, model, refOpt, refModel]) t.dispose();
  });

  it('with a global-batch aux loss every micro-batch sees f over all micro-batches of the step', async () => {
    const c = cfg({ strategy: 'aux-loss', strategyOptions: { scope: 'global' }, microBatches: 3 });
    const model = new MoEModel(c.model, c.scoreFn, new Rng(c.seed), renormalizeGates(c));
    const ex = createExecutor(model, c);
    const strategies = strategiesOf(c);
    const batcher = new Batcher(data, MICRO.batch, MICRO.ctx, 0.1, 5);
    const batches = [batcher.nextTrain(), batcher.nextTrain(), batcher.nextTrain()];
    const ctxs = batches.map(() => context(c, strategies));
    await ex.trainStep(batches, 1e-3, ctxs, true);
    const slots = 3 * MICRO.batch * MICRO.ctx * MICRO.topK;
    for (let l = 0; l < MICRO.layers; l++) {
      const countE = new Array<number>(MICRO.experts).fill(0);
      for (const x of ctxs) for (const e of x.layers[l]!.idxTK) countE[e]!++;
      for (const x of ctxs) expect(Array.from(x.globalFractionLE![l]!)).toEqual(countE.map((n) => Math.fround(n / slots)));
    }
    for (const t of [ex, model]) t.dispose();
  });

  it('aux-loss scope global equals scope micro with one micro-batch per step (same losses and weights)', async () => {
    const run = async (scope: string) => {
      const tr = new Trainer(cfg({ strategy: 'aux-loss', strategyOptions: { alpha: 0.1, scope } }), data);
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push((await tr.trainStep()).report.loss);
      const weights = tr.model.params.entries().map(([, v]) => Array.from(v.dataSync()));
      tr.dispose();
      return { losses, weights };
    };
    const micro = await run('micro');
    const global = await run('global');
    expect(global.losses).toEqual(micro.losses);
    expect(global.weights).toEqual(micro.weights);
  });

  it('a k = 2 run counts optimizer steps, reports global and micro-batch MaxVio, leaks no tensor and resumes exactly', async () => {
    const baseline = tf.memory().numTensors;
    const c = cfg({ strategy: 'aux-loss', strategyOptions: { scope: 'global' }, microBatches: 2, oracleEvery: 1, topTokensEvery: 1 });
    const tr = new Trainer(c, data);
    const reports = [];
    for (let i = 0; i < 4; i++) reports.push((await tr.trainStep({ oracle: true, topTokens: true })).report);
    const cp = await tr.exportCheckpoint();
    const tail = [(await tr.trainStep()).report, (await tr.trainStep()).report];
    tr.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    expect(reports.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    for (const r of reports) {
      expect(r.tokens).toBe(2 * MICRO.batch * MICRO.ctx);
      expect(r.microBatches).toBe(2);
      // every token's K slots are counted once in the global batch's loads
      for (let l = 0; l < MICRO.layers; l++) expect(Array.from(r.loadsLE.slice(l * MICRO.experts, (l + 1) * MICRO.experts)).reduce((a, b) => a + b, 0)).toBe(r.tokens * MICRO.topK);
      expect(r.maxVioMicroL).toHaveLength(MICRO.layers);
      expect(r.maxVioMicro).toBeCloseTo(r.maxVioMicroL!.reduce((a, b) => a + b, 0) / MICRO.layers, 6);
      // summing loads can only cancel overloads: the global batch's MaxVio is at most the micro-batches' mean
      r.maxVioL.forEach((v, l) => expect(v).toBeLessThanOrEqual(r.maxVioMicroL![l]! + 1e-6));
      expect(Number.isFinite(r.objectiveRatio)).toBe(true);
    }
    expect(reports[3]!.avgMaxVioMicro).toBeCloseTo(reports.reduce((s, r) => s + r.maxVioMicro!, 0) / 4, 6);
    const resumed = new Trainer(c, data);
    resumed.importCheckpoint(cp);
    const again = [(await resumed.trainStep()).report, (await resumed.trainStep()).report];
    resumed.dispose();
    expect(again.map((r) => [r.loss, r.maxVio, r.maxVioMicro, r.avgMaxVioMicro])).toEqual(tail.map((r) => [r.loss, r.maxVio, r.maxVioMicro, r.avgMaxVioMicro]));
  });
});
