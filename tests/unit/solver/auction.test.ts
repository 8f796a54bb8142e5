// The exact solver's start prices: the ε-scaling auction (auction.ts) and its heaps of expert places (places.ts).
// Its prices are only a start for the exact repair, but where its theory gives a bound it must hold: with every
// place taken ("= k" rows, C·E = k·T) the LP dual at its prices is within k·T·ε of the optimum.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auctionPrices, splitAt } from '../../../src/main/engine/solver/auction';
import { createPlaces } from '../../../src/main/engine/solver/places';
import { solveOptimal } from '../../../src/main/engine/solver/optimal';
import { dualObjective, minCostFlow } from './reference';
import { seededScores } from '../strategies/fixtures';

describe('auctionPrices', () => {
  it('hand-worked: 3 tokens, 2 experts, k = 1, C = 2 — the price of expert 0 lands in its optimal interval', () => {
    // t0 [0.9, 0.1], t1 [0.8, 0.2], t2 [0.7, 0.3]: all want expert 0, one must go. Optimal duals: p1 = 0 (expert
    // 1 keeps a free place) and p0 between t2's gain 0.4 and t1's gain 0.6, so top-1 of s − p puts t2 on expert 1.
    const s = Float64Array.from([0.9, 0.1, 0.8, 0.2, 0.7, 0.3]);
    const eps = 1e-4;
    const p = auctionPrices(s, 3, 2, 1, 2, false, { epsStart: 0.1, epsFinal: eps });
    expect(p[1]).toBe(0);
    expect(p[0]).toBeGreaterThanOrEqual(0.4 - eps);
    expect(p[0]).toBeLessThanOrEqual(0.6 + eps);
  });

  it('with every place taken, the dual at its prices is within k·T·ε of the optimum (random "= k" batches)', () => {
    const instance = fc.record({
      T: fc.integer({ min: 8, max: 40 }),
      E: fc.constantFrom(2, 4, 8),
      k: fc.integer({ min: 1, max: 3 }),
      skew: fc.constantFrom(0, 1.5, 3),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    fc.assert(
      fc.property(instance, ({ T, E, k, skew, seed }) => {
        fc.pre(k < E && (k * T) % E === 0);
        const C = (k * T) / E; // capacity exactly k·T/E: no slack anywhere
        const s = seededScores(T, E, skew, seed);
        const eps = 1e-4;
        const p = auctionPrices(s, T, E, k, C, true, { epsStart: 0.1, epsFinal: eps });
        const opt = minCostFlow(s, T, E, k, C, true).objective;
        const dual = dualObjective(s, T, E, k, C, p, true);
        expect(dual).toBeGreaterThanOrEqual(opt - 1e-9); // weak duality
        expect(dual).toBeLessThanOrEqual(opt + k * T * eps + 1e-9);
      }),
      { numRuns: 80, seed: 5 },
    );
  });

  it('ties everywhere: equal scores end with finite prices, and the solve keeps every place it can fill', () => {
    const T = 12;
    const E = 4;
    const s = new Float64Array(T * E).fill(0.25);
    for (const fill of [false, true]) {
      const p = auctionPrices(s, T, E, 2, 6, fill, { epsStart: 0.1, epsFinal: 1e-6 });
      expect(p.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
      const sol = solveOptimal(s, T, E, 2, 6, { fill });
      expect(sol.objective).toBeCloseTo(0.25 * 2 * T, 12); // 24 places, 24 slots
      expect(Array.from(sol.loadE)).toEqual([6, 6, 6, 6]);
    }
  });

  it('start prices that are far too high are lowered by the reverse step (rows "≤ k", spare capacity)', () => {
    const T = 64;
    const E = 4;
    const s = seededScores(T, E, 0, 3);
    const p = auctionPrices(s, T, E, 1, 32, false, { epsStart: 1e-3, epsFinal: 1e-6, startE: [5, 5, 5, 5] });
    // capacity 4·32 = 128 ≥ 64 slots with positive scores: at the optimum no expert needs a price above its scores
    for (let e = 0; e < E; e++) expect(p[e]).toBeLessThan(1);
    expect(solveOptimal(s, T, E, 1, 32, { startPrices: [5, 5, 5, 5] }).objective).toBeCloseTo(minCostFlow(s, T, E, 1, 32).objective, 9);
  });

  it('capacity 0 or no tokens: the start prices come back unchanged', () => {
    expect(Array.from(auctionPrices(new Float64Array(6), 3, 2, 1, 0, false, { epsStart: 0.1, epsFinal: 0.01, startE: [0.5, 0] }))).toEqual([0.5, 0]);
    expect(Array.from(auctionPrices(new Float64Array(0), 0, 2, 1, 3, false, { epsStart: 0.1, epsFinal: 0.01 }))).toEqual([0, 0]);
  });

  it('splitAt puts the price between the c-th and (c+1)-th largest', () => {
    const xs = Float64Array.from([0.3, 0.9, 0.1, 0.5, 0.7]);
    expect(splitAt(xs, 5, 2)).toBeCloseTo(0.6, 12); // 0.9, 0.7 above; 0.5 below
    expect(splitAt(Float64Array.from([0.3, 0.9]), 2, 0)).toBeCloseTo(0.9, 12);
  });
});

describe('places (the auction\'s per-expert heaps)', () => {
  it('hand-worked: one expert, 3 places — seats, the cheapest evicted first, empty places before occupied ones', () => {
    const priceE = Float64Array.from([0.1]);
    const pl = createPlaces(5, 1, 3, priceE);
    expect(pl.seat(0, 0, 0.5)).toBe(true);
    expect(pl.seat(0, 1, 0.2)).toBe(true);
    pl.settle();
    expect(priceE[0]).toBe(0.1); // one place still empty at the start price
    expect(pl.take(0, 0.3, 2)).toBe(-1); // fills the empty place, evicts no one
    expect(priceE[0]).toBeCloseTo(0.2, 12);
    expect(pl.take(0, 0.6, 3)).toBe(1); // outbids the cheapest (token 1 at 0.2)
    expect(priceE[0]).toBeCloseTo(0.3, 12);
    // token 0 gives up its place (0.5): it becomes empty at the expert's price, the next bid takes it
    pl.vacate(0, pl.posTE[0]!);
    expect(pl.take(0, 0.35, 4)).toBe(-1);
    // every empty place drops to 0 and the price with it
    pl.vacate(0, pl.posTE[2]!);
    pl.lowerEmpty(0, 0);
    expect(priceE[0]).toBe(0);
    const held = Array.from(pl.placeT).filter((t) => t >= 0).sort();
    expect(held).toEqual([3, 4]);
    for (const t of held) expect(pl.placeT[pl.posTE[t]!]).toBe(t); // positions stay in step with the heap
  });

  it('a full expert refuses a seat', () => {
    const pl = createPlaces(2, 1, 1, Float64Array.from([0]));
    expect(pl.seat(0, 0, 0.4)).toBe(true);
    expect(pl.seat(0, 1, 0.9)).toBe(false);
  });
});
