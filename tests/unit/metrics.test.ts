// The pure balancing metrics: loads, MaxVio, CV, dead experts, objective, and the AvgMaxVio/SupMaxVio accumulator.
import { describe, expect, it } from 'vitest';
import {
  MaxVioAccumulator,
  coefficientOfVariation,
  deadExperts,
  droppedSlots,
  idealLoad,
  loadsFromSelection,
  maxVio,
  objectiveRatio,
  routingObjective,
} from '../../src/shared/metrics';

describe('metrics', () => {
  // 3 tokens, k = 2, 4 experts: t0 {0, 1}, t1 {0, 2}, t2 {0, 1 dropped}
  const idxTK = [0, 1, 0, 2, 0, 1];
  const keepTK = [1, 1, 1, 1, 1, 0];

  it('counts kept (token, slot) pairs per expert', () => {
    expect(Array.from(loadsFromSelection(idxTK, keepTK, 4))).toEqual([3, 1, 1, 0]);
    expect(Array.from(loadsFromSelection(idxTK, null, 4))).toEqual([3, 2, 1, 0]);
    expect(() => loadsFromSelection([5], null, 4)).toThrow(/outside/);
    expect(droppedSlots(keepTK)).toBe(1);
  });

  it('MaxVio = (max load − ideal)/ideal; ideal = k·T/E', () => {
    // ideal 2·3/4 = 1.5; loads [3, 1, 1, 0] → (3 − 1.5)/1.5 = 1
    expect(idealLoad(2, 3, 4)).toBe(1.5);
    expect(maxVio([3, 1, 1, 0], 1.5)).toBeCloseTo(1, 12);
    expect(maxVio([2, 2, 2, 2], 2)).toBe(0);
    // balancing.md §5.3: loads 24..47 at ideal 32 → 15/32 = 0.46875
    expect(maxVio([24, 47, 32], 32)).toBeCloseTo(0.46875, 12);
  });

  it('coefficient of variation uses the population std; dead experts count zeros', () => {
    // loads [3, 1, 1, 0]: mean 1.25, var = (3.0625 + 0.0625 + 0.0625 + 1.5625)/4 = 1.1875, std 1.089725 → CV 0.871780
    expect(coefficientOfVariation([3, 1, 1, 0])).toBeCloseTo(0.87178, 5);
    expect(coefficientOfVariation([2, 2])).toBe(0);
    expect(deadExperts([3, 1, 1, 0])).toBe(1);
  });

  it('objective = Σ of kept selected scores; ratio to the optimum', () => {
    const s = [0.5, 0.3, 0.1, 0.1, 0.4, 0.1, 0.4, 0.1, 0.6, 0.2, 0.1, 0.1];
    // t0: 0.5 + 0.3, t1: 0.4 + 0.4, t2: 0.6 (slot on expert 1 dropped) = 2.2
    expect(routingObjective(s, idxTK, keepTK, 4, 2)).toBeCloseTo(2.2, 12);
    expect(objectiveRatio(2.2, 2.0)).toBeCloseTo(1.1, 12);
    expect(objectiveRatio(0, 0)).toBe(1);
  });

  it('MaxVioAccumulator: per-step mean over layers; mean and max over steps; worst layer separately', () => {
    // step 1: layers [0.2, 0.6] → 0.4; step 2: [1.0, 0.0] → 0.5; step 3: [0.1, 0.1] → 0.1
    // avg = (0.4 + 0.5 + 0.1)/3 = 1/3; sup = 0.5; supLayer = 1.0
    const acc = new MaxVioAccumulator();
    acc.push([0.2, 0.6]);
    acc.push([1.0, 0.0]);
    acc.push([0.1, 0.1]);
    expect(acc.avg).toBeCloseTo(1 / 3, 12);
    expect(acc.sup).toBeCloseTo(0.5, 12);
    expect(acc.supLayer).toBeCloseTo(1.0, 12);
    const json = acc.toJSON();
    expect(json.avgByLayer[0]).toBeCloseTo(1.3 / 3, 12);
    expect(json.supByLayer).toEqual([1.0, 0.6]);
    // resuming from JSON continues exactly: one more step [0.0, 0.0] → avg = 1/4
    const again = MaxVioAccumulator.fromJSON(JSON.parse(JSON.stringify(json)));
    again.push([0, 0]);
    expect(again.avg).toBeCloseTo(0.25, 12);
    expect(again.sup).toBeCloseTo(0.5, 12);
    expect(again.count).toBe(4);
    expect(new MaxVioAccumulator().avg).toBe(0);
  });
});
