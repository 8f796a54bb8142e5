// Hand-worked checks of the seed statistics (t intervals, paired differences), the debiased EMA and run colours.
import { describe, expect, it } from 'vitest';
import { meanCI, pairedDiff, sampleSd, significant, tQuantile975 } from '../../../src/shared/stats';
import { smoothEma } from '../../../src/renderer/src/charts/smoothing';
import { hashString, runColor, runColors, RUN_PALETTE } from '../../../src/renderer/src/charts/run-colors';
import { expandSweep } from '../../../src/shared/sweep';

describe('seed statistics', () => {
  it('mean ± t·sd/√n, worked by hand', () => {
    // xs = 1, 2, 3: mean 2, sd = sqrt(((1)+(0)+(1))/2) = 1, half-width = t(0.975, 2)·1/√3 = 4.303/1.7320508 = 2.48434
    const ci = meanCI([1, 2, 3]);
    expect(ci.mean).toBe(2);
    expect(ci.sd).toBe(1);
    expect(ci.lo).toBeCloseTo(2 - 2.48434, 4);
    expect(ci.hi).toBeCloseTo(2 + 2.48434, 4);
    expect(sampleSd([5])).toBeNaN();
    expect(meanCI([5]).lo).toBeNaN();
  });

  it('the t quantile follows the table and tends to 1.96', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(10)).toBe(2.228);
    // df 60 from the expansion: table value 2.000
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 3);
    expect(tQuantile975(1e6)).toBeCloseTo(1.96, 3);
  });

  it('paired differences match seeds and say when a difference is inside seed noise', () => {
    // seeds 1..4: candidate − baseline = 0.5, 0.7, 0.3, 0.5 → mean 0.5, sd = sqrt((0 + .04 + .04 + 0)/3) = 0.163299,
    // half = 3.182·0.163299/2 = 0.259809 → [0.24019, 0.75981]: excludes 0
    const base = new Map([[1, 1.0], [2, 2.0], [3, 3.0], [4, 4.0], [5, 9.0]]);
    const cand = new Map([[1, 1.5], [2, 2.7], [3, 3.3], [4, 4.5]]);
    const d = pairedDiff(cand, base);
    expect(d.keys).toEqual([1, 2, 3, 4]); // seed 5 has no pair
    expect(d.mean).toBeCloseTo(0.5, 12);
    expect(d.lo).toBeCloseTo(0.24019, 4);
    expect(d.hi).toBeCloseTo(0.75981, 4);
    expect(significant(d)).toBe(true);
    // differences +1 and −0.8: mean 0.1, CI wide around 0 → not significant
    const noisy = pairedDiff(new Map([[1, 2], [2, 1.2]]), new Map([[1, 1], [2, 2]]));
    expect(noisy.mean).toBeCloseTo(0.1, 12);
    expect(significant(noisy)).toBe(false);
  });
});

describe('debiased EMA (TensorBoard smoothing)', () => {
  it('worked by hand for w = 0.5', () => {
    // m1 = 0.5·1 = 0.5, /(1 − 0.5) = 1; m2 = 0.25 + 1.5 = 1.75, /(1 − 0.25) = 2.33333; m3 = 0.875 + 2.5 = 3.375, /(0.875) = 3.857143
    const s = smoothEma([1, 3, 5], 0.5);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(7 / 3, 12);
    expect(s[2]).toBeCloseTo(3.375 / 0.875, 12);
  });
  it('w = 0 is the identity, a constant stays constant, NaN is skipped', () => {
    expect(smoothEma([4, 1, 9], 0)).toEqual([4, 1, 9]);
    for (const v of smoothEma([2, 2, 2, 2], 0.9)) expect(v).toBeCloseTo(2, 12);
    const s = smoothEma([1, NaN, 3], 0.5);
    expect(s[1]).toBeNaN();
    expect(s[2]).toBeCloseTo(7 / 3, 12);
  });
});

describe('run colours', () => {
  it('FNV-1a hash: known values; a run id always maps to the same palette colour', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
    expect(runColor('20261202-130413-bip-e6683e')).toBe(runColor('20261202-130413-bip-e6683e'));
    expect(RUN_PALETTE).toContain(runColor('x'));
  });
  it('runs shown together never share a colour; without a clash a run keeps its hash colour', () => {
    // find two ids that clash on the palette
    const ids = Array.from({ length: 40 }, (_, i) => `run-${i}`);
    const a = ids[0]!;
    const b = ids.find((id) => id !== a && runColor(id) === runColor(a))!;
    expect(b).toBeDefined();
    const both = runColors([b, a]);
    expect(both.get(a)).toBe(runColor(a)); // 'run-0' sorts first: keeps its colour
    expect(both.get(b)).not.toBe(both.get(a));
    const k = RUN_PALETTE.indexOf(runColor(a));
    expect(both.get(b)).toBe(RUN_PALETTE[(k + 1) % RUN_PALETTE.length]); // the next free slot
    const alone = runColors([b, 'zzz']);
    if (runColor('zzz') !== runColor(b)) expect(alone.get(b)).toBe(runColor(b));
    expect(new Set(runColors(ids.slice(0, 16)).values()).size).toBe(16);
  });
});

describe('sweep grid', () => {
  it('an option multiplies only the strategies that have it; seeds multiply all', () => {
    const g = expandSweep({ strategies: ['bip', 'loss-free'], options: { T: [2, 4, 8] }, seeds: [1, 2, 3], base: { preset: 'tiny', steps: 5 } });
    expect(g.ok).toBe(true);
    if (!g.ok) return;
    expect(g.cells).toHaveLength(3 * 3 + 3);
    expect(g.cells.filter((c) => c.strategy === 'bip').map((c) => c.key)).toContain('strategy=bip,T=8,seed=3');
    expect(g.cells.filter((c) => c.strategy === 'loss-free').every((c) => Object.keys(c.options).length === 0)).toBe(true);
  });
  it('a value out of range names the cell and the field', () => {
    const g = expandSweep({ strategies: ['bip'], options: { T: [2, 99999] }, seeds: [1] });
    expect(g.ok).toBe(false);
    if (g.ok) return;
    expect(g.errors[0]!.path).toBe('strategy=bip,T=99999,seed=1: strategyOptions');
    expect(g.errors[0]!.message).toMatch(/outside/);
  });
});
