// The expert-parallel cost model on a hand-worked case: 8 experts on 4 devices, 16 tokens, top-2.
import { describe, expect, it } from 'vitest';
import { layerCost, placementError, runCost, stepCost, type ExpertParallelSpec } from '../../src/shared/cost-model';

// Tokens 0–3 live on device 0, 4–7 on 1, 8–11 on 2, 12–15 on 3 (⌊t·4/16⌋). Round-robin puts expert e on e mod 4.
// Chosen experts per token, and how many of the two leave the token's home device:
//   t0–t2 (0,4) → d0,d0: 0     t3 (0,2) → d0,d2: 1
//   t4 (0,1) home d1: 1        t5 (0,5): 1        t6 (0,6): 2        t7 (0,2): 2
//   t8 (4,2) home d2: 1        t9 (4,6): 1        t10 (4,6): 1       t11 (1,6): 1
//   t12 (3,7) home d3: 0       t13 (3,7): 0       t14 (5,7): 1       t15 (2,7): 1      → 13 cross of 32
// Loads per expert [8, 2, 4, 2, 6, 2, 4, 4]; per device (e, e+4): d0 8+6 = 14, d1 2+2 = 4, d2 4+4 = 8, d3 2+4 = 6.
// Slowest share 14/32 = 0.4375; time ratio 14 / (32/4) = 1.75; device capacity ⌈2·16/4⌉ = 8 → 6 over (d0).
// Bytes: 13 assignments × 64 values × 2 bytes × 2 (dispatch + combine) = 3328.
const PAIRS = [[0, 4], [0, 4], [0, 4], [0, 2], [0, 1], [0, 5], [0, 6], [0, 2], [4, 2], [4, 6], [4, 6], [1, 6], [3, 7], [3, 7], [5, 7], [2, 7]];
const IDX = Int32Array.from(PAIRS.flat());
const KEEP = new Uint8Array(32).fill(1);
const RR: ExpertParallelSpec = { devices: 4, deviceCapacityFactor: 1, bytesPerValue: 2 };

describe('expert-parallel cost model (8 experts on 4 devices)', () => {
  it('round-robin: slowest share 0.4375, time ratio 1.75, 13 tokens / 3328 bytes across devices, 6 over capacity', () => {
    const c = layerCost(RR, IDX, KEEP, 16, 2, 8, 64);
    expect(c.loadD).toEqual([14, 4, 8, 6]);
    expect(c.slowestShare).toBeCloseTo(0.4375, 12);
    expect(c.timeRatio).toBeCloseTo(1.75, 12);
    expect(c.crossTokens).toBe(13);
    expect(c.crossBytes).toBe(3328);
    expect(c.overCapacity).toBe(6);
  });

  it('a user placement [0,1,2,3,3,2,1,0] pairs hot with cold experts: devices 12, 6, 6, 8 → share 0.375, ratio 1.5', () => {
    const c = layerCost({ ...RR, placement: [0, 1, 2, 3, 3, 2, 1, 0] }, IDX, KEEP, 16, 2, 8, 64);
    expect(c.loadD).toEqual([12, 6, 6, 8]);
    expect(c.slowestShare).toBeCloseTo(0.375, 12);
    expect(c.timeRatio).toBeCloseTo(1.5, 12);
    // cross: t0–t2 (0 on d0, 4 on d3): 1 each = 3; t3 (0 d0, 2 d2): 1; t4 (0 d0, 1 d1) home d1: 1; t5 (0, 5 d2): 2;
    // t6 (0, 6 d1): 1; t7 (0, 2 d2): 2; t8 home d2 (4 d3, 2 d2): 1; t9 (4 d3, 6 d1): 2; t10: 2; t11 (1 d1, 6 d1): 2;
    // t12 home d3 (3 d3, 7 d0): 1; t13: 1; t14 (5 d2, 7 d0): 2; t15 (2 d2, 7 d0): 2 → 3+1+1+2+1+2+1+2+2+2+1+1+2+2 = 23
    expect(c.crossTokens).toBe(23);
  });

  it('dropped slots cost nothing; layers add up in time; a run averages its steps', () => {
    const keep = KEEP.slice();
    keep[0] = 0; // t0 drops expert 0 (local): d0 13
    const a = layerCost(RR, IDX, keep, 16, 2, 8, 64);
    expect(a.loadD).toEqual([13, 4, 8, 6]);
    const balanced = layerCost(RR, Int32Array.from({ length: 32 }, (_, i) => i % 8), KEEP, 16, 2, 8, 64);
    expect(balanced.loadD).toEqual([8, 8, 8, 8]);
    expect(balanced.timeRatio).toBe(1);
    // two layers: max 13 + 8 over mean 31/4 + 8 = 21 / 15.75
    const s = stepCost([a, balanced], 4);
    expect(s.stepTimeRatio).toBeCloseTo(21 / 15.75, 12);
    expect(s.crossTokens).toBe(a.crossTokens + balanced.crossTokens);
    const r = runCost([s, stepCost([balanced], 4)], 4);
    expect(r.stepTimeRatio).toBeCloseTo((21 / 15.75 + 1) / 2, 12);
    expect(r.maxSlowestShare).toBeCloseTo(s.slowestShare, 12);
  });

  it('rejects placements that cannot hold the experts', () => {
    expect(placementError({ ...RR, devices: 16 }, 8)).toMatch(/16 devices/);
    expect(placementError({ ...RR, placement: [0, 1] }, 8)).toMatch(/one per expert \(8\)/);
    expect(placementError({ ...RR, placement: [0, 1, 2, 3, 4, 0, 0, 0] }, 8)).toMatch(/placement\[4\]/);
    expect(placementError(RR, 8)).toBeNull();
  });
});
