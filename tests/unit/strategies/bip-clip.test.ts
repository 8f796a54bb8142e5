// bip's clip switches worked by hand (four experts, four tokens), the capacity rounding, the `clip` alias of saved
// runs, and a skewed sequence on which only clipping p stalls.
import { beforeAll, describe, expect, it } from 'vitest';
import { bipCapacity } from '../../../src/main/engine/strategies/bip';
import { resolveStrategyOptions } from '../../../src/shared/strategy-descriptors';
import { driftingSequence } from './fixtures';
import { make, mean, step, useCpu, vioOf } from './helpers';

const close = (got: ArrayLike<number>, want: number[], digits = 5) => want.forEach((w, i) => expect(got[i]!).toBeCloseTo(w, digits));

beforeAll(useCpu);

// k = 1, T = 4 tokens, E = 4 experts, C = k·T/E = 1, one dual round (T option = 1), warm-started from carried prices
// q0 = [0.4, 0.3, 0.2, 0] (a state the clipped method can reach: q0 ≥ 0). Every token likes a different expert.
const Q0 = [0.4, 0.3, 0.2, 0];
const S = [
  0.6, 0.2, 0.1, 0.1, //   t0   s − q0 = [ 0.2, −0.1, −0.1, 0.1]   p = 2nd largest =  0.1
  0.1, 0.5, 0.3, 0.1, //   t1   s − q0 = [−0.3,  0.2,  0.1, 0.1]   p =  0.1
  0.2, 0.2, 0.5, 0.1, //   t2   s − q0 = [−0.2, −0.1,  0.3, 0.1]   p =  0.1
  0.1, 0.1, 0.1, 0.7, //   t3   s − q0 = [−0.3, −0.2, −0.1, 0.7]   p = −0.1   ← the clip binds here: p = 0
];
// Expert block, q_e = 2nd largest (C + 1 = 2) of the column s_·e − p:
//   free p = [0.1, 0.1, 0.1, −0.1]:  e0 [0.5, 0, 0.1, 0.2] → 0.2; e1 [0.1, 0.4, 0.1, 0.2] → 0.2;
//                                     e2 [0, 0.2, 0.4, 0.2] → 0.2; e3 [0, 0, 0, 0.8] → 0           q = [0.2, 0.2, 0.2, 0]
//   clipped p = [0.1, 0.1, 0.1, 0]:  e0 [0.5, 0, 0.1, 0.1] → 0.1; e1 [0.1, 0.4, 0.1, 0.1] → 0.1;
//                                     e2 [0, 0.2, 0.4, 0.1] → 0.2; e3 [0, 0, 0, 0.7] → 0           q = [0.1, 0.1, 0.2, 0]
// No q here is negative, so clipping q changes nothing; free q is re-centred (mean subtracted), a common shift:
//   both clipped [0.1, 0.1, 0.2, 0]   p only [0, 0, 0.1, −0.1]   q only [0.2, 0.2, 0.2, 0]   neither [0.05, 0.05, 0.05, −0.15]
// t3 wants only expert 3 (its 2nd choice is already priced below 0). Clipping its p to 0 pretends its 2nd choice
// is still worth 0, so the column prices of e0, e1 see 0.1 less demand from t3 and come out lower.
// Probe token w = [0.3, 0.1, 0.38, 0.1], routed with the stored q (validation, no update):
//   both / p only: s − q = [0.2, 0, 0.18, 0.1] (+ shift) → expert 0;  q only / neither: [0.1, −0.1, 0.18, 0.1] → expert 2
const W = [0.3, 0.1, 0.38, 0.1];

function afterOneBatch(clipP: boolean, clipQ: boolean) {
  const s = make('bip', 4, 1, { T: 1, clipP, clipQ });
  s.setState({ q: Float32Array.from(Q0) });
  const sel = step(s, S, 4, 4);
  const q = Array.from(s.getState().q!);
  const probe = step(s, W, 1, 4, { training: false }).idxTK[0];
  s.dispose();
  return { routed: Array.from(sel.idxTK), q, probe };
}

describe('bip clip switches (hand-worked, k = 1, 4 tokens × 4 experts)', () => {
  it('both clipped (the paper): q = [0.1, 0.1, 0.2, 0]; the probe goes to expert 0', () => {
    const r = afterOneBatch(true, true);
    close(r.q, [0.1, 0.1, 0.2, 0]);
    expect(r.routed).toEqual([0, 1, 2, 3]); // s − q: every token keeps its favourite
    expect(r.probe).toBe(0);
  });

  it('p only clipped: the same prices up to a shift (re-centred [0, 0, 0.1, −0.1]), so the same routing', () => {
    const r = afterOneBatch(true, false);
    close(r.q, [0, 0, 0.1, -0.1]);
    expect(r.routed).toEqual([0, 1, 2, 3]);
    expect(r.probe).toBe(0);
  });

  it('q only clipped: q = [0.2, 0.2, 0.2, 0] — the unclipped prices; the probe goes to expert 2', () => {
    const r = afterOneBatch(false, true);
    close(r.q, [0.2, 0.2, 0.2, 0]);
    expect(r.routed).toEqual([0, 1, 2, 3]);
    expect(r.probe).toBe(2);
    const free = afterOneBatch(false, false);
    close(free.q, [0.05, 0.05, 0.05, -0.15]); // neither clipped: [0.2, 0.2, 0.2, 0] − 0.15
    expect(free.probe).toBe(2);
  });
});

describe('bip capacity rounding and the clip alias', () => {
  it('floor gives the paper’s ⌊k·T/E⌋, ceil ⌈k·T/E⌉; equal when E divides k·T', () => {
    expect([bipCapacity(1, 6, 4, 'floor'), bipCapacity(1, 6, 4, 'ceil')]).toEqual([1, 2]);
    expect([bipCapacity(2, 512, 8, 'floor'), bipCapacity(2, 512, 8, 'ceil')]).toEqual([128, 128]);
    // 6 tokens all prefer expert 0 (scores 0.9 … 0.4, 0.1 elsewhere): p = 2nd largest of each row = 0.1, so
    // q_0 = (C+1)-th largest of [0.8, 0.7, 0.6, 0.5, 0.4, 0.3]: floor C = 1 → 0.7, ceil C = 2 → 0.6
    const rows = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4].flatMap((v) => [v, 0.1, 0.1, 0.1]);
    for (const [rounding, q0] of [['floor', 0.7], ['ceil', 0.6]] as const) {
      const s = make('bip', 4, 1, { T: 1, capacityRounding: rounding });
      step(s, rows, 6, 4);
      close(s.getState().q!, [q0, 0, 0, 0]);
      s.dispose();
    }
  });

  it('a saved run’s clip: false|true still resolves, to both switches (an explicit switch wins)', () => {
    const a = resolveStrategyOptions('bip', { clip: false });
    expect(a.ok && [a.options.clipP, a.options.clipQ, 'clip' in a.options]).toEqual([false, false, false]);
    const b = resolveStrategyOptions('bip', { clip: false, clipQ: true });
    expect(b.ok && [b.options.clipP, b.options.clipQ]).toEqual([false, true]);
    // and an engine given the old option directly (a checkpointed config) means both
    const old = afterOld();
    close(old, [0.05, 0.05, 0.05, -0.15]);
  });
});

function afterOld(): number[] {
  const s = make('bip', 4, 1, { T: 1, clip: false });
  s.setState({ q: Float32Array.from(Q0) });
  step(s, S, 4, 4);
  const q = Array.from(s.getState().q!);
  s.dispose();
  return q;
}

// The stall (balancing.md §5.4): 30 batches of 512 tokens × 16 experts, k = 2, from a skewed drifting softmax router.
describe('bip over a skewed drifting sequence: only clipping p stalls', () => {
  const T = 512;
  const E = 16;
  const SEQ = driftingSequence(30, T, E, { skew: 1.5, drift: 0.03, seed: 1 });
  const late = (clipP: boolean, clipQ: boolean) => {
    const s = make('bip', E, 2, { T: 1, clipP, clipQ });
    const vio = SEQ.map((scores) => vioOf(step(s, scores, T, E).loadE, 2, T));
    s.dispose();
    return mean(vio.slice(15));
  };

  it('both clipped stalls (≈ 0.59); clipping q alone balances like no clip (≈ 0.31)', () => {
    const both = late(true, true);
    const qOnly = late(false, true);
    const neither = late(false, false);
    const pOnly = late(true, false);
    expect(both).toBeGreaterThan(1.5 * neither);
    expect(Math.abs(qOnly - neither)).toBeLessThan(0.15 * neither);
    // with free, re-centred q no token's (k+1)-th priced score falls below 0 on this sequence, so p's clip never
    // binds: p only behaves like neither. The stall needs p clipped while q ≥ 0 prices most experts above a token.
    expect(Math.abs(pOnly - neither)).toBeLessThan(0.15 * neither);
  });
});
