// The exact routing solver against brute force (tiny, property-based), a full-graph min-cost flow (medium) and
// the structural facts of balancing.md §5.3 (optimum balanced, never above plain top-k).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { solveOptimal } from '../../../src/main/engine/solver/optimal';
import { bruteForce, minCostFlow } from './reference';
import { seededScores } from '../strategies/fixtures';

function checkFeasible(sol: ReturnType<typeof solveOptimal>, s: ArrayLike<number>, T: number, E: number, k: number, C: number): void {
  const load = new Int32Array(E);
  let objective = 0;
  for (let t = 0; t < T; t++) {
    const seen = new Set<number>();
    for (let r = 0; r < k; r++) {
      if (!sol.keepTK[t * k + r]) continue;
      const e = sol.idxTK[t * k + r]!;
      expect(seen.has(e)).toBe(false); // a token never takes the same expert twice
      seen.add(e);
      load[e]!++;
      objective += s[t * E + e]!;
    }
  }
  expect(Array.from(load)).toEqual(Array.from(sol.loadE));
  expect(Math.max(...load)).toBeLessThanOrEqual(C);
  expect(sol.objective).toBeCloseTo(objective, 9);
}

describe('solveOptimal', () => {
  it('hand-worked: 3 tokens, 2 experts, k = 1, C = 2', () => {
    // scores: t0 [0.9, 0.1], t1 [0.8, 0.2], t2 [0.7, 0.3]. Top-1 puts all three on expert 0 (load 3 > C = 2).
    // One token must move to expert 1; moving t costs s_t0 − s_t1: 0.8, 0.6, 0.4 → move t2.
    // Optimum = 0.9 + 0.8 + 0.3 = 2.0, loads [2, 1].
    const s = Float64Array.from([0.9, 0.1, 0.8, 0.2, 0.7, 0.3]);
    const sol = solveOptimal(s, 3, 2, 1, 2);
    expect(sol.objective).toBeCloseTo(2.0, 12);
    expect(Array.from(sol.idxTK)).toEqual([0, 0, 1]);
    expect(Array.from(sol.loadE)).toEqual([2, 1]);
  });

  it('hand-worked: a two-move chain beats the direct move', () => {
    // k = 1, C = 1, 3 tokens, 3 experts. t0 [1.0, 0.9, 0.0], t1 [0.0, 1.0, 0.8], t2 [0.95, 0.0, 0.0] (top-1: t0,t2 → 0, t1 → 1).
    // Expert 0 has one unit too many. Options: t2 → 2 (cost 0.95), t0 → 2 (1.0), or t0 → 1 and t1 → 2
    // (0.1 + 0.2 = 0.3). Optimum = total top-1 (1.0 + 1.0 + 0.95 = 2.95) − 0.3 = 2.65.
    const s = Float64Array.from([1.0, 0.9, 0.0, 0.0, 1.0, 0.8, 0.95, 0.0, 0.0]);
    const sol = solveOptimal(s, 3, 3, 1, 1);
    expect(sol.objective).toBeCloseTo(2.65, 12);
    expect(Array.from(sol.idxTK)).toEqual([1, 2, 0]);
  });

  it('rows "≤ k" may leave a slot empty when every move costs more than the slot is worth; fill forces it', () => {
    // k = 2, C = 2, 3 tokens × 3 experts: t0 [0.8, 0.1, 0.9], t1 [0.8, 0.1, 0.7], t2 [0.5, 0.6, 0.3].
    // Top-2: t0 {2, 0} 1.7, t1 {0, 2} 1.5, t2 {1, 0} 1.1 = 4.3; loads [3, 1, 2]: expert 0 holds one too many.
    // Drop t2's slot on 0: −0.5 → 3.8. Cheapest way to keep every slot: t0 or t1 from 0 to 1 (−0.7) → 3.6;
    // t2 0 → 2 (−0.2) needs room on 2: t1 2 → 1 (−0.6), total −0.8.
    const s = Float64Array.from([0.8, 0.1, 0.9, 0.8, 0.1, 0.7, 0.5, 0.6, 0.3]);
    const sol = solveOptimal(s, 3, 3, 2, 2);
    expect(sol.objective).toBeCloseTo(3.8, 12);
    expect(Array.from(sol.keepTK)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(solveOptimal(s, 3, 3, 2, 2, { fill: true }).objective).toBeCloseTo(3.6, 12);
    expect(() => solveOptimal(s, 3, 3, 2, 1, { fill: true })).toThrow(/cannot place/);
  });

  it('matches brute force on random tiny instances (both row forms, negative scores included)', () => {
    const instance = fc
      .record({ T: fc.integer({ min: 1, max: 4 }), E: fc.integer({ min: 2, max: 4 }) })
      .filter(({ T, E }) => T * E <= 12)
      .chain(({ T, E }) =>
        fc.record({
          T: fc.constant(T),
          E: fc.constant(E),
          k: fc.integer({ min: 1, max: E - 1 }),
          C: fc.integer({ min: 1, max: T }),
          fill: fc.boolean(),
          s: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: T * E, maxLength: T * E }),
        }),
      );
    fc.assert(
      fc.property(instance, ({ T, E, k, C, fill, s }) => {
        const scores = Float64Array.from(s);
        const f = fill && C * E >= k * T;
        const sol = solveOptimal(scores, T, E, k, C, { fill: f });
        checkFeasible(sol, scores, T, E, k, C);
        expect(sol.objective).toBeCloseTo(bruteForce(scores, T, E, k, C, f), 9);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('matches a full-graph min-cost flow on medium skewed instances to 1e-9 relative', () => {
    for (const [T, E, k, skew, seed] of [
      [120, 8, 2, 1.5, 1],
      [96, 6, 3, 3, 2],
      [80, 16, 1, 0.5, 3],
      [64, 8, 4, 2, 4],
    ] as const) {
      const s = seededScores(T, E, skew, seed);
      const C = Math.ceil((k * T) / E);
      for (const fill of [false, true]) {
        const sol = solveOptimal(s, T, E, k, C, { fill });
        checkFeasible(sol, s, T, E, k, C);
        const ref = minCostFlow(s, T, E, k, C, fill);
        expect(Math.abs(sol.objective - ref.objective) / ref.objective).toBeLessThan(1e-9);
      }
    }
  });

  it('the optimum is balanced and never above plain top-k (balancing.md §5.3, benign and skewed)', () => {
    for (const skew of [0, 1]) {
      const T = 256;
      const E = 16;
      const s = seededScores(T, E, skew, 0);
      const sol = solveOptimal(s, T, E, 2, 32);
      const topk = solveOptimal(s, T, E, 2, T); // capacity never binds: plain top-k
      expect(Math.max(...sol.loadE)).toBe(32); // ideal load 2·256/16 = 32 everywhere (MaxVio 0)
      expect(Math.min(...sol.loadE)).toBe(32);
      expect(sol.objective).toBeLessThanOrEqual(topk.objective + 1e-12);
      if (skew > 0) expect(Math.max(...topk.loadE)).toBeGreaterThan(32);
    }
  });

  it('rejects bad arguments with a message', () => {
    expect(() => solveOptimal(new Float64Array(5), 2, 3, 1, 1)).toThrow(/expected 2×3/);
    expect(() => solveOptimal(new Float64Array(6), 2, 3, 4, 1)).toThrow(/k must be/);
    expect(() => solveOptimal(new Float64Array(6), 2, 3, 1, 1.5)).toThrow(/capacity/);
  });
});

describe('solveOptimal from warm-start prices (heavily overloaded top-k)', () => {
  it('matches the full-graph min-cost flow on random skewed batches, both row forms, negative scores included', () => {
    // Skew 3 overloads a few experts by far more than 1/16 of all slots, so the price sweeps run and the repair
    // starts from a priced top-k with both overloaded and under-filled priced experts (sources and sinks).
    const instance = fc.record({
      T: fc.integer({ min: 20, max: 48 }),
      E: fc.integer({ min: 3, max: 7 }),
      k: fc.integer({ min: 1, max: 2 }),
      slack: fc.integer({ min: 0, max: 3 }),
      shift: fc.constantFrom(0, 0.05),
      seed: fc.integer({ min: 0, max: 1e6 }),
      fill: fc.boolean(),
    });
    fc.assert(
      fc.property(instance, ({ T, E, k, slack, shift, seed, fill }) => {
        const s = Float64Array.from(seededScores(T, E, 3, seed), (v) => v - shift); // shift: some scores < 0
        const C = Math.ceil((k * T) / E) + slack;
        const sol = solveOptimal(s, T, E, k, C, { fill });
        checkFeasible(sol, s, T, E, k, C);
        const ref = minCostFlow(s, T, E, k, C, fill);
        expect(Math.abs(sol.objective - ref.objective)).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref.objective)));
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
