// Hand-worked micro- vs global-batch balance: Qwen's global-batch aux loss on two micro-batches, the global f from
// selections, and MaxVio of the global batch vs the mean of the micro-batches' own.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createAuxLoss, switchAuxLoss } from '../../../src/main/engine/strategies/aux-loss';
import { createLayerStrategy } from '../../../src/main/engine/strategies/registry';
import { globalFractions, mergeRoutings, microMaxVioL } from '../../../src/main/engine/train/accumulate';
import { maxVioOf } from '../../../src/main/engine/train/vio';
import type { LayerRouting } from '../../../src/main/engine/model/moe';
import { resolveStrategyOptions } from '../../../src/shared/strategy-descriptors';
import { useCpu } from './helpers';

beforeAll(useCpu);

// E = 2 experts, K = 1, T = 2 tokens per micro-batch; every row sums to 1 (softmax-like), so P = mean of the rows.
// Micro-batch 1 sends both tokens to expert 0, micro-batch 2 both to expert 1: each is fully imbalanced, the
// global batch of 4 tokens is balanced (f = [1/2, 1/2]).
const micro1 = [0.9, 0.1, 0.8, 0.2];
const micro2 = [0.3, 0.7, 0.4, 0.6];
const sel1 = { idxTK: Int32Array.from([0, 0]), keepTK: Uint8Array.from([1, 1]) };
const sel2 = { idxTK: Int32Array.from([1, 1]), keepTK: Uint8Array.from([1, 1]) };
const mask1 = [1, 0, 1, 0];
const mask2 = [0, 1, 0, 1];
const alpha = 0.1;

/** The aux loss and its gradient with respect to the scores, for one micro-batch. */
function lossAndGrad(scores: number[], mask: number[], fE?: Float32Array): { loss: number; grad: number[] } {
  const s = tf.variable(tf.tensor2d(scores, [2, 2]));
  const m = tf.tensor2d(mask, [2, 2]);
  const { value, grads } = tf.variableGrads(() => switchAuxLoss(s as unknown as tf.Tensor2D, m, 1, alpha, fE), [s]);
  const out = { loss: value.dataSync()[0]!, grad: Array.from(grads[s.name]!.dataSync()) };
  tf.dispose([s, m, value, ...Object.values(grads)]);
  return out;
}

describe('global-batch aux loss (Qwen, scope global)', () => {
  it('f of the global batch from the micro-batches\' selections', () => {
    expect(globalFractions([[sel1], [sel2]], 2).map((f) => Array.from(f))).toEqual([[0.5, 0.5]]);
    // K = 2, E = 3, one micro-batch of 2 tokens: slots (0,1), (0,2) → f = [2, 1, 1] / 4
    expect(Array.from(globalFractions([[{ idxTK: Int32Array.from([0, 1, 0, 2]), keepTK: new Uint8Array(4).fill(1) }]], 3)[0]!)).toEqual([0.5, 0.25, 0.25]);
  });

  it('micro scope: α·E·Σ f_i·P_i with each micro-batch\'s own f; global scope: with the global f', () => {
    // micro 1: f = [1, 0], P = [0.85, 0.15] → 0.1·2·0.85 = 0.17; micro 2: f = [0, 1], P = [0.35, 0.65] → 0.13
    expect(lossAndGrad(micro1, mask1).loss).toBeCloseTo(0.17, 6);
    expect(lossAndGrad(micro2, mask2).loss).toBeCloseTo(0.13, 6);
    // global f = [1/2, 1/2]: 0.1·2·(0.5·P_0 + 0.5·P_1) = 0.1 for either micro-batch (P sums to 1)
    const fGlobal = Float32Array.from([0.5, 0.5]);
    expect(lossAndGrad(micro1, mask1, fGlobal).loss).toBeCloseTo(0.1, 6);
    expect(lossAndGrad(micro2, mask2, fGlobal).loss).toBeCloseTo(0.1, 6);
  });

  it('gradient: ∂/∂s_te = α·E/T·(f_e − Σ_e\' f_e\'·s_te\') for rows summing to 1: zero when the global batch is balanced', () => {
    // micro scope, micro 1, f = [1, 0]: row 0 → 0.1·(1 − 0.9) = 0.01 and 0.1·(0 − 0.9) = −0.09; row 1 → 0.02, −0.08
    const micro = lossAndGrad(micro1, mask1).grad;
    [0.01, -0.09, 0.02, -0.08].forEach((g, i) => expect(micro[i]).toBeCloseTo(g, 6));
    // global scope: f = [1/2, 1/2] → f_e − Σ f p = 0 everywhere: a domain-skewed micro-batch is not pushed apart
    for (const g of lossAndGrad(micro1, mask1, Float32Array.from([0.5, 0.5])).grad) expect(Math.abs(g)).toBeLessThan(1e-7);
  });

  it('the global scope falls back to the micro-batch f without one (validation), and is an option with a clear error', () => {
    const strat = createAuxLoss({ layer: 0, experts: 2, topK: 1, scoreFn: 'softmax' }, alpha, 'global');
    expect(strat.globalBatchAux).toBe(true);
    const s = tf.tensor2d(micro1, [2, 2]);
    const m = tf.tensor2d(mask1, [2, 2]);
    const loss = strat.auxLoss!({ scoresTE: s, logitsTE: s, selectedTE: m, seqLen: 2 });
    expect(loss.dataSync()[0]).toBeCloseTo(0.17, 6);
    tf.dispose([s, m, loss]);
    expect(createAuxLoss({ layer: 0, experts: 2, topK: 1, scoreFn: 'softmax' }, alpha).globalBatchAux).toBeUndefined();
    // compositions keep the flag, so the trainer still routes every micro-batch first
    const composed = createLayerStrategy({ strategy: 'aux-loss', strategyOptions: { scope: 'global' }, zLoss: 1e-3, composeCapacity: 1.25 }, { layer: 0, experts: 4, topK: 2, scoreFn: 'softmax' });
    expect(composed.globalBatchAux).toBe(true);
    composed.dispose();
    const bad = resolveStrategyOptions('aux-loss', { scope: 'batch' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/scope/);
  });
});

/** A layer's routing of T tokens with K = 1 from its chosen experts. */
function routing(idx: number[], experts: number): LayerRouting {
  const loadE = new Float32Array(experts);
  for (const e of idx) loadE[e]!++;
  return { idxTK: Int32Array.from(idx), keepTK: new Uint8Array(idx.length).fill(1), loadE, demandLoadE: Float32Array.from(loadE), gateMassE: new Float32Array(experts).fill(0.5), dropped: 0 };
}

describe('MaxVio of the global batch vs the micro-batches', () => {
  it('hand-worked: two micro-batches of 4 tokens, 2 experts, top-1', () => {
    // layer 0: loads [4, 0] then [0, 4]: each micro MaxVio (4 − 2)/2 = 1; global [4, 4] vs ideal 4 → 0
    // layer 1: loads [3, 1] twice: each (3 − 2)/2 = 0.5; global [6, 2] vs 4 → 0.5 (equal when micro-batches agree)
    const routingsKL = [
      [routing([0, 0, 0, 0], 2), routing([0, 0, 0, 1], 2)],
      [routing([1, 1, 1, 1], 2), routing([0, 1, 0, 0], 2)],
    ];
    expect(microMaxVioL(routingsKL, 1, 4)).toEqual([1, 0.5]);
    const merged = mergeRoutings(routingsKL);
    expect(merged.map((r) => Array.from(r.loadE))).toEqual([[4, 4], [6, 2]]);
    expect(merged.map((r) => maxVioOf(r.loadE, 1, 8))).toEqual([0, 0.5]);
    expect(Array.from(merged[0]!.idxTK)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(merged[0]!.gateMassE)).toEqual([0.5, 0.5]);
  });
});
