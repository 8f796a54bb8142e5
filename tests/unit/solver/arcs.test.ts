// The repair's cache of the cheapest move per expert pair (arcs.ts): after any sequence of token moves, applied the
// way flow.ts applies them, every cached arc must equal the brute-force minimum — the repair's exactness rests on it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMoveArcs } from '../../../src/main/engine/solver/arcs';
import { prng } from '../strategies/fixtures';

/** tokens on each expert as flow.ts keeps them: listET rows with swap-removal, posTE their places */
function setup(T: number, E: number, k: number, rand: () => number) {
  const s = Float64Array.from({ length: T * E }, () => Math.round(rand() * 20) / 20); // coarse: many ties
  const onTE = new Uint8Array(T * E);
  const listET = new Int32Array(E * T);
  const posTE = new Int32Array(T * E);
  const loadE = new Int32Array(E);
  const put = (t: number, e: number) => {
    onTE[t * E + e] = 1;
    posTE[t * E + e] = loadE[e]!;
    listET[e * T + loadE[e]!++] = t;
  };
  const remove = (t: number, e: number) => {
    onTE[t * E + e] = 0;
    const i = posTE[t * E + e]!;
    const last = listET[e * T + --loadE[e]!]!;
    listET[e * T + i] = last;
    posTE[last * E + e] = i;
  };
  for (let t = 0; t < T; t++) {
    const picks = new Set<number>();
    while (picks.size < k) picks.add(Math.floor(rand() * E));
    for (const e of picks) put(t, e);
  }
  return { s, onTE, listET, loadE, put, remove };
}

describe('createMoveArcs', () => {
  it('stays the exact cheapest move of every arc through random moves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 3, max: 6 }), fc.integer({ min: 1, max: 2 }), fc.constantFrom(30, 1000), (seed, E, k, cap) => {
        const rand = prng(seed);
        const T = 30;
        const g = setup(T, E, k, rand);
        const arcs = createMoveArcs(g.s, T, E, cap, g.onTE, g.listET, g.loadE) // cap only sets how many runners-up (4 or 8);
        for (let a = 0; a < E; a++) arcs.rebuildRow(a);
        const check = () => {
          for (let a = 0; a < E; a++) {
            for (let b = 0; b < E; b++) {
              if (a === b) continue;
              let best = Infinity;
              for (let t = 0; t < T; t++) if (g.onTE[t * E + a] && !g.onTE[t * E + b]) best = Math.min(best, g.s[t * E + a]! - g.s[t * E + b]!);
              expect(arcs.costEE[a * E + b]).toBe(best);
              const t = arcs.tokEE[a * E + b]!;
              if (best < Infinity) expect(g.onTE[t * E + a] && !g.onTE[t * E + b] ? g.s[t * E + a]! - g.s[t * E + b]! : NaN).toBe(best);
            }
          }
        };
        check();
        for (let step = 0; step < 60; step++) {
          // move one token from an expert it holds to one it does not: the protocol of flow.ts's moveToken
          const t = Math.floor(rand() * T);
          const held = [...Array(E).keys()].filter((e) => g.onTE[t * E + e]);
          const free = [...Array(E).keys()].filter((e) => !g.onTE[t * E + e]);
          const a = held[Math.floor(rand() * held.length)]!;
          const b = free[Math.floor(rand() * free.length)]!;
          g.remove(t, a);
          g.put(t, b);
          for (let c = 0; c < E; c++) if (arcs.tokEE[a * E + c] === t) arcs.refresh(a, c);
          for (let c = 0; c < E; c++) if (g.onTE[t * E + c]) arcs.offer(c, a, g.s[t * E + c]! - g.s[t * E + a]!, t);
          for (let c = 0; c < E; c++) if (c !== b && arcs.tokEE[c * E + b] === t) arcs.refresh(c, b);
          for (let c = 0; c < E; c++) if (!g.onTE[t * E + c]) arcs.offer(b, c, g.s[t * E + b]! - g.s[t * E + c]!, t);
          check();
        }
      }),
      { numRuns: 40, seed: 3 },
    );
  });
});
