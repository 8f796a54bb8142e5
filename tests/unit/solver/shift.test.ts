// The common downward shift of the priced experts' start prices (shift.ts), and the large-batch path that uses it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auctionPrices, scoreRange } from '../../../src/main/engine/solver/auction';
import { lowerPricedShift } from '../../../src/main/engine/solver/shift';
import { solveOptimal } from '../../../src/main/engine/solver/optimal';
import { dualObjective } from './reference';
import { seededScores } from '../strategies/fixtures';

/** slots of top-k⁺(s − q) on experts with q > 0 */
function pricedSlots(s: Float64Array, T: number, E: number, k: number, q: Float64Array): number {
  let n = 0;
  for (let t = 0; t < T; t++) {
    const v = Array.from({ length: E }, (_, e) => ({ v: s[t * E + e]! - q[e]!, e })).sort((a, b) => b.v - a.v);
    for (let i = 0; i < k; i++) if (v[i]!.v > 0 && q[v[i]!.e]! > 0) n++;
  }
  return n;
}

describe('lowerPricedShift', () => {
  it('hand-worked: 3 tokens, 2 experts, k = 1, C = 2 — the price drops to between the two breakpoints', () => {
    // q = [0.5, 0]: t0 [0.6, 0] holds expert 0 (0.1 > 0); t1 [0.45, 0.2] joins expert 0 once 0.45 − 0.5 + λ > 0.2,
    // λ > 0.25; t2 [0.3, 0] once 0.3 − 0.5 + λ > 0, λ > 0.2. One place is missing: λ between 0.2 and 0.25.
    const s = Float64Array.from([0.6, 0, 0.45, 0.2, 0.3, 0]);
    const q = Float64Array.from([0.5, 0]);
    expect(lowerPricedShift(s, 3, 2, 1, 2, q)).toBeCloseTo(0.225, 12);
    expect(q[0]).toBeCloseTo(0.275, 12);
    expect(q[1]).toBe(0);
    expect(pricedSlots(s, 3, 2, 1, q)).toBe(2);
  });

  it('leaves full priced experts, all-priced and unpriced prices alone', () => {
    const s = Float64Array.from([0.6, 0, 0.45, 0.2]);
    const q = Float64Array.from([0.5, 0]);
    expect(lowerPricedShift(s, 2, 2, 1, 1, q)).toBe(0); // t0 already fills expert 0's one place
    const all = Float64Array.from([0.1, 0.2]);
    expect(lowerPricedShift(s, 2, 2, 1, 1, all)).toBe(0);
    expect(Array.from(all)).toEqual([0.1, 0.2]);
  });

  it('on "= k" auction prices of random "≤ k" batches: a uniform drop that fills the priced experts and lowers the dual', () => {
    const instance = fc.record({
      T: fc.integer({ min: 16, max: 80 }),
      E: fc.constantFrom(4, 8),
      k: fc.integer({ min: 1, max: 3 }),
      skew: fc.constantFrom(1.5, 3),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    fc.assert(
      fc.property(instance, ({ T, E, k, skew, seed }) => {
        const C = Math.ceil((k * T) / E);
        const s = seededScores(T, E, skew, seed);
        const range = scoreRange(s);
        const p = auctionPrices(s, T, E, k, C, true, { epsStart: range / 10, epsFinal: range * 1e-5 });
        const lowest = Math.min(...p);
        const q = p.map((x) => x - lowest);
        const before = Float64Array.from(q);
        const cap = Math.min(...Array.from(q).filter((x) => x > 0));
        const lam = lowerPricedShift(s, T, E, k, C, q);
        expect(lam).toBeGreaterThanOrEqual(0);
        expect(lam).toBeLessThanOrEqual(cap);
        for (let e = 0; e < E; e++) expect(q[e]).toBeCloseTo(before[e]! > 0 ? before[e]! - lam : 0, 12);
        // λ minimises the dual along the line (convex there), so it never rises; weak duality still holds
        const dualBefore = dualObjective(s, T, E, k, C, before, false);
        const dualAfter = dualObjective(s, T, E, k, C, q, false);
        expect(dualAfter).toBeLessThanOrEqual(dualBefore + 1e-9);
        const priced = Array.from(before).filter((x) => x > 0).length;
        if (lam > 0 && lam < cap && priced < E) expect(pricedSlots(s, T, E, k, q)).toBe(C * priced);
      }),
      { numRuns: 60 },
    );
  });
});

describe('large "≤ k" batches (shifted prices, coarse last phase)', () => {
  it('the returned prices certify the optimum: dual objective = objective (skewed 2048×8, k = 2 and 4)', () => {
    for (const [k, seed] of [[2, 11], [4, 12], [4, 13]] as const) {
      const T = 2048;
      const E = 8;
      const C = Math.ceil((k * T) / E);
      const s = seededScores(T, E, 3, seed);
      const sol = solveOptimal(s, T, E, k, C);
      for (let e = 0; e < E; e++) expect(sol.loadE[e]).toBeLessThanOrEqual(C);
      expect(Math.abs(dualObjective(s, T, E, k, C, sol.priceE, false) - sol.objective)).toBeLessThan(1e-9 * sol.objective);
    }
  });
});
