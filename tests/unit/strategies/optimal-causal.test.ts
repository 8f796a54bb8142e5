// `optimal` validates causally: validation routes by top-k of s − q with q the exact duals of the last training
// batch's optimum, and never calls the per-batch solver on a validation batch (spied through the module mock).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { optimalPrices } from '../../../src/main/engine/solver/duals';
import { seededScores } from './fixtures';
import { make, step, useCpu } from './helpers';

const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../../src/main/engine/solver/optimal', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../../src/main/engine/solver/optimal')>();
  return { ...mod, solveOptimal: (...args: Parameters<typeof mod.solveOptimal>) => (calls.n++, mod.solveOptimal(...args)) };
});
const { solveOptimal } = await import('../../../src/main/engine/solver/optimal');

const close = (got: ArrayLike<number>, want: number[], digits = 5) => want.forEach((w, i) => expect(got[i]!).toBeCloseTo(w, digits));

beforeAll(useCpu);

describe('optimal: dual prices of the optimum and causal validation', () => {
  // k = 1, C = 1 (the hand-worked optimum of hand-worked.test.ts): t0 → 0, t1 → 3, t2 → 1, t3 → 2.
  const S = [0.9, 0.05, 0.03, 0.02, 0.8, 0.1, 0.06, 0.04, 0.7, 0.2, 0.06, 0.04, 0.6, 0.1, 0.2, 0.1];
  // Residual arcs (every expert full, so D → e costs 0; no spare room, no free slot): moving the token on a to b costs
  // s_ta − s_tb: 3→0 −0.76 (t1), 3→1 −0.06, 3→2 −0.02; 1→0 −0.5 (t2), 1→2 0.14, 1→3 0.16; 2→0 −0.4 (t3), 2→1 0.1,
  // 2→3 0.1; from 0 (t0) all ≥ 0.85. Shortest distances from D: d3 = 0, d2 = −0.02, d1 = −0.06, d0 = −0.76
  // (D→3→0), so q = −d = [0.76, 0.06, 0.02, 0]. Check: t0 s − q = [0.14, −0.01, 0.01, 0.02] → 0; t2 → 1; t3 → 2;
  // t1 sits on a four-way tie at 0.04 (balancing.md §5.3: the duals of a batch put some tokens on ties).
  it('hand-worked: q = [0.76, 0.06, 0.02, 0]; a validation token [0.8, 0.1, 0.1, 0.1] goes to expert 3, not 0', () => {
    calls.n = 0;
    const s = make('optimal', 4, 1);
    expect(Array.from(step(s, S, 4, 4).idxTK)).toEqual([0, 3, 1, 2]);
    close(s.getState().q!, [0.76, 0.06, 0.02, 0]);
    expect(calls.n).toBe(1);
    // validation: s − q = [0.04, 0.04, 0.08, 0.1] → 3. Its own one-token optimum (C = 1) would be expert 0.
    expect(Array.from(step(s, [0.8, 0.1, 0.1, 0.1], 1, 4, { training: false }).idxTK)).toEqual([3]);
    expect(calls.n).toBe(1); // validation never solved its own batch
    s.dispose();
  });

  it('the prices satisfy complementary slackness on skewed random batches (so top-k of s − q is the optimum up to ties)', () => {
    const T = 96;
    const E = 8;
    const k = 2;
    const C = Math.ceil((k * T) / E);
    for (const seed of [1, 2, 3, 4]) {
      const s = seededScores(T, E, 1.5, seed);
      const sol = solveOptimal(s, T, E, k, C);
      const q = optimalPrices(s, T, E, k, C, sol.idxTK, sol.keepTK);
      for (let e = 0; e < E; e++) {
        expect(q[e]!).toBeGreaterThanOrEqual(0);
        if (sol.loadE[e]! < C) expect(q[e]!).toBeCloseTo(0, 9);
      }
      for (let t = 0; t < T; t++) {
        const on = new Set<number>();
        for (let r = 0; r < k; r++) if (sol.keepTK[t * k + r]) on.add(sol.idxTK[t * k + r]!);
        const priced = (e: number) => s[t * E + e]! - q[e]!;
        const minOn = Math.min(...[...on].map(priced));
        for (let e = 0; e < E; e++) {
          if (on.has(e)) continue;
          expect(priced(e)).toBeLessThanOrEqual(minOn + 1e-9);
          if (on.size < k) expect(priced(e)).toBeLessThanOrEqual(1e-9); // a left-empty slot: nothing worth adding
        }
      }
    }
  });
});

describe('trainer: validation of `optimal` never calls the solver', () => {
  it('3 training steps solve 3 × layers batches; evaluate() adds no solve and routes with the frozen prices', async () => {
    const { Trainer } = await import('../../../src/main/engine/train/trainer');
    const { syntheticText } = await import('../../../src/main/engine/data/synthetic');
    const { MICRO, config } = await import('../engine/helpers');
    const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 30_000 }) };
    const tr = new Trainer(config({ preset: 'custom', model: MICRO, strategy: 'optimal', steps: 3, evalEvery: 0, evalBatches: 2, oracleEvery: 0, topTokensEvery: 0, backend: 'cpu' }), data);
    try {
      calls.n = 0;
      for (let i = 0; i < 3; i++) await tr.trainStep();
      expect(calls.n).toBe(3 * MICRO.layers);
      const q = tr.strategies.map((s) => Array.from(s.getState().q!));
      const ev = await tr.evaluate();
      expect(calls.n).toBe(3 * MICRO.layers);
      expect(Number.isFinite(ev.valMaxVio)).toBe(true);
      expect(tr.strategies.map((s) => Array.from(s.getState().q!))).toEqual(q); // validation leaves the prices alone
    } finally {
      tr.dispose();
    }
  });
});
