// Balance metrics on hand-worked loads: entropy, drop rate, gate mass, plain top-k demand, and the tracker's
// demanded MaxVio, idle and dead experts, running figures and checkpoint state.
import { describe, expect, it } from 'vitest';
import { demandLoads, dropRate, gateMass, idleExperts, normalizedEntropy, plainTopK } from '../../../src/shared/balance-metrics';
import { BalanceTracker, DEAD_WINDOW } from '../../../src/main/engine/train/balance';
import { dropOverCapacity } from '../../../src/main/engine/strategies/capacity';

describe('balance metrics', () => {
  it('normalised entropy: 1 uniform, 0 one expert, ln-based in between', () => {
    expect(normalizedEntropy([2, 2, 2, 2])).toBeCloseTo(1, 12);
    expect(normalizedEntropy([8, 0, 0, 0])).toBe(0);
    // p = [1/2, 1/2, 0, 0]: H = ln 2, ln 4 = 2 ln 2 → 0.5
    expect(normalizedEntropy([4, 4, 0, 0])).toBeCloseTo(0.5, 12);
    // p = [3/4, 1/4]: H = −(.75 ln .75 + .25 ln .25) = 0.562335…, ÷ ln 2 = 0.811278…
    expect(normalizedEntropy([3, 1])).toBeCloseTo(0.8112781244591328, 12);
    expect(normalizedEntropy([0, 0, 0])).toBe(0);
  });

  it('idle experts, drop rate = dropped ÷ k·T, gate mass = mean score per expert', () => {
    expect(idleExperts([3, 0, 1, 0])).toBe(2);
    expect(dropRate(3, 2, 6)).toBe(0.25);
    // 2 tokens × 3 experts
    expect(Array.from(gateMass([0.5, 0.3, 0.2, 0.1, 0.1, 0.8], 2, 3)).map((x) => +x.toFixed(6))).toEqual([0.3, 0.2, 0.5]);
  });

  it('plain top-k picks each token’s k highest scores; demand counts every slot', () => {
    const scores = [0.1, 0.5, 0.4, 0.0, /* t1 */ 0.7, 0.1, 0.05, 0.15];
    expect(Array.from(plainTopK(scores, 2, 4, 2))).toEqual([1, 2, 0, 3]);
    expect(Array.from(demandLoads([1, 2, 0, 3, 1, 1], 4))).toEqual([1, 3, 1, 1]);
  });

  it('capacity: demanded load is the top-k choice, routed load what survives C', () => {
    // 4 tokens, k = 1, 2 experts, C = 2: all four want expert 0; the two best are kept
    const idx = Int32Array.from([0, 0, 0, 0]);
    const val = Float32Array.from([0.9, 0.6, 0.8, 0.7]);
    const sel = dropOverCapacity(idx, val, 2, 2, 'probs');
    expect(Array.from(sel.keepTK)).toEqual([1, 0, 1, 0]);
    const tr = new BalanceTracker(1, 2, 1);
    const s = tr.push([{ loadE: [2, 0], demandLoadE: demandLoads(sel.idxTK, 2), gateMassE: [0.75, 0.25], dropped: 2 }], 4);
    // ideal k·T/E = 2: routed MaxVio (2 − 2)/2 = 0 looks perfect; demanded (4 − 2)/2 = 1 does not
    expect(s.demandMaxVioL).toEqual([1]);
    expect(s.dropRate).toBe(0.5);
    expect(s.idle).toBe(1);
    expect(s.entropyL).toEqual([0]);
    // CV of [2, 0]: mean 1, population std 1 → 1
    expect(s.cvL[0]).toBeCloseTo(1, 12);
    expect(s.gateMassLE).toEqual([0.75, 0.25]);
  });

  it('running figures, dead experts after DEAD_WINDOW zero steps, and a state that resumes exactly', () => {
    const E = 4;
    const step = (loadE: number[], dropped: number) => ({ loadE, demandLoadE: [8, 0, 0, 0], gateMassE: [0.25, 0.25, 0.25, 0.25], dropped });
    const a = new BalanceTracker(2, E, 1);
    // 2 layers, T = 8, k = 1: ideal 2; demand [8,0,0,0] → MaxVio 3 in both layers
    const s1 = a.push([step([2, 2, 2, 2], 0), step([2, 2, 4, 0], 2)], 8);
    expect(s1.demandMaxVio).toBe(3);
    expect(s1.dropRateL).toEqual([0, 0.25]);
    expect(s1.dropRate).toBe(0.125);
    expect(s1.idleL).toEqual([0, 1]);
    // after one step the window is that one step: an expert idle so far counts as dead
    expect(s1.deadL).toEqual([0, 1]);
    const s2 = a.push([step([2, 2, 2, 2], 4), step([4, 4, 0, 0], 0)], 8);
    expect(s2.avgDropRate).toBeCloseTo((0.125 + 0.25) / 2, 12);
    expect(s2.deadL).toEqual([0, 1]); // expert 2 idle once, expert 3 twice (all steps so far)
    const b = new BalanceTracker(2, E, 1);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    for (let i = 0; i < DEAD_WINDOW; i++) {
      const sa = a.push([step([2, 2, 2, 2], 0), step([4, 4, 0, 0], 0)], 8);
      const sb = b.push([step([2, 2, 2, 2], 0), step([4, 4, 0, 0], 0)], 8);
      expect(sb).toEqual(sa);
      expect(sa.idleL).toEqual([0, 2]);
      // expert 2 became idle at step 2: dead once it had DEAD_WINDOW zero steps in a row, or while it is all steps so far
      const zeroStepsOf2 = i + 2;
      expect(sa.deadL[1]).toBe(zeroStepsOf2 >= Math.min(DEAD_WINDOW, i + 3) ? 2 : 1);
    }
    expect(() => new BalanceTracker(1, 3, 1).setState(a.getState())).toThrow(/experts/);
  });
});
