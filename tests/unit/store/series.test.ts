// Reading a run's series: heatmap buckets (mean and max) by hand and against brute force, exact rows,
// loads at a step, the expert inspector's streaks, and scalar downsampling that keeps maxVio's extremes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { RunStore } from '../../../src/main/store/run-store';
import { downsampleIndexes } from '../../../src/main/store/scalars';
import type { RunReader } from '../../../src/main/store/types';
import { smallConfig, stepReport, tempRoot } from './helpers';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => cleanup());

async function writeRun(store: RunStore, steps: number, loadsOf: (s: number, l: number, e: number) => number): Promise<string> {
  const w = await store.create(smallConfig());
  for (let s = 1; s <= steps; s++) w.appendStep(stepReport(s, 2, 4, loadsOf));
  await w.close();
  return w.runId;
}

/** mean and max of each expert over steps [a, b] from exact rows: the reference for heatmap(). */
function bruteForce(r: RunReader, layer: number, a: number, b: number): { mean: number[]; max: number[] } {
  const rows = r.loadRows(a, b);
  const mean = [0, 0, 0, 0];
  const max = [-Infinity, -Infinity, -Infinity, -Infinity];
  for (const row of rows) for (let e = 0; e < 4; e++) {
    mean[e]! += row[layer * 4 + e]! / rows.length;
    max[e] = Math.max(max[e]!, row[layer * 4 + e]!);
  }
  return { mean, max };
}

describe('heatmap', () => {
  it('buckets 10 steps into 3 columns with the hand-computed mean and max', async () => {
    const store = new RunStore(root);
    // layer 0: e0 = s, e1 = 10 - s, e2 = 3 on odd steps else 1, e3 = 0; layer 1: 100 + s everywhere
    const id = await writeRun(store, 10, (s, l, e) => (l === 1 ? 100 + s : [s, 10 - s, s % 2 ? 3 : 1, 0][e]!));
    const r = await store.open(id);
    const h = r.heatmap(0, { maxColumns: 3 });
    // width ceil(10/3) = 4 → columns [1–4], [5–8], [9–10]
    expect(h.stepStarts).toEqual([1, 5, 9]);
    expect(h.stepEnds).toEqual([4, 8, 10]);
    // expert-major: e0 means (1+2+3+4)/4 = 2.5, (5..8) 6.5, (9,10) 9.5; e1: 7.5, 3.5, 0.5; e2: 2, 2, 2; e3: 0
    expect(h.mean).toEqual([2.5, 6.5, 9.5, 7.5, 3.5, 0.5, 2, 2, 2, 0, 0, 0]);
    expect(h.max).toEqual([4, 8, 10, 9, 5, 1, 3, 3, 3, 0, 0, 0]);
    expect(h.idealLoad).toBe(2); // k·T/E = 1·8/4
    expect(r.heatmap(1, { maxColumns: 3 }).mean.slice(0, 3)).toEqual([102.5, 106.5, 109.5]);
    // enough columns: one per step, exact values
    const full = r.heatmap(0, { fromStep: 3, toStep: 5, maxColumns: 100 });
    expect(full.stepStarts).toEqual([3, 4, 5]);
    expect(full.mean.slice(0, 3)).toEqual([3, 4, 5]);
    expect(full.mean.slice(3, 6)).toEqual([7, 6, 5]);
    r.close();
  });

  it('uses the 16- and 256-step summaries across block edges (arithmetic series by hand)', async () => {
    const store = new RunStore(root);
    const id = await writeRun(store, 600, (s, _l, e) => (e === 0 ? s : e));
    const r = await store.open(id);
    // two columns of 300 steps: mean of 1..300 = 150.5, of 301..600 = 450.5
    let h = r.heatmap(0, { maxColumns: 2 });
    expect(h.mean.slice(0, 2)).toEqual([150.5, 450.5]);
    expect(h.max.slice(0, 2)).toEqual([300, 600]);
    // steps 17..530 in 3 columns of ceil(514/3) = 172: [17–188], [189–360], [361–530]; mean = (first+last)/2
    h = r.heatmap(0, { fromStep: 17, toStep: 530, maxColumns: 3 });
    expect(h.stepStarts).toEqual([17, 189, 361]);
    expect(h.stepEnds).toEqual([188, 360, 530]);
    expect(h.mean.slice(0, 3)).toEqual([102.5, 274.5, 445.5]);
    expect(h.max.slice(0, 3)).toEqual([188, 360, 530]);
    expect(h.mean.slice(3, 6)).toEqual([1, 1, 1]); // expert 1 is always 1
    r.close();
  });

  it('matches mean and max from exact rows for random loads and ranges, with and without summary files', async () => {
    const store = new RunStore(root);
    const loadsOf = (s: number, l: number, e: number) => ((s * 2654435761 + l * 97 + e * 31) >>> 0) % 50;
    const id = await writeRun(store, 700, loadsOf);
    const check = async () => {
      const r = await store.open(id);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1 }), (x, y, cols, layer) => {
          const [a, b] = [Math.min(x, y), Math.max(x, y)];
          const h = r.heatmap(layer, { fromStep: a, toStep: b, maxColumns: cols });
          expect(h.stepStarts[0]).toBe(a);
          expect(h.stepEnds.at(-1)).toBe(b);
          expect(h.stepStarts.length).toBeLessThanOrEqual(cols);
          const C = h.stepStarts.length;
          for (let c = 0; c < C; c++) {
            const ref = bruteForce(r, layer, h.stepStarts[c]!, h.stepEnds[c]!);
            for (let e = 0; e < 4; e++) {
              expect(h.mean[e * C + c]).toBeCloseTo(ref.mean[e]!, 4);
              expect(h.max[e * C + c]).toBe(ref.max[e]);
            }
          }
        }),
        { numRuns: 30 },
      );
      r.close();
    };
    await check();
    // an external trainer writes no summary files: they are made up in memory from loads.bin
    rmSync(join(root, id, 'loads.sum16.bin'));
    rmSync(join(root, id, 'loads.sum256.bin'));
    await check();
  });
});

describe('exact rows and inspectors', () => {
  it('loadRows returns exact layer-major rows; loadsAt the latest or a given step', async () => {
    const store = new RunStore(root);
    const id = await writeRun(store, 40, (s, l, e) => s * 10 + l * 4 + e);
    const r = await store.open(id);
    const rows = r.loadRows(20, 22);
    expect(rows.map((x) => Array.from(x))).toEqual([20, 21, 22].map((s) => [0, 1, 2, 3, 4, 5, 6, 7].map((c) => s * 10 + c)));
    expect(r.loadsAt().step).toBe(40);
    expect(r.loadsAt().loadsLE).toEqual([400, 401, 402, 403, 404, 405, 406, 407]);
    expect(r.loadsAt(7).loadsLE[5]).toBe(75);
    expect(r.lastStep).toBe(40);
    expect(() => r.loadRows(1, 30_000)).toThrow(/at most/);
    expect(() => r.heatmap(2, { maxColumns: 10 })).toThrow(/layer 2 is out of range/);
    r.close();
  });

  it('expert(): share per step, longest over/under-load streaks against k·T/E = 2, top tokens of the latest record', async () => {
    const store = new RunStore(root);
    const e0 = [3, 3, 3, 1, 1, 2, 3, 3, 1, 1];
    const w = await store.create(smallConfig());
    // layer 1: e0 as above, e1 = e2 = 2, e3 = 4 - e0, so every step routes 8 assignments
    for (let s = 1; s <= 10; s++) w.appendStep(stepReport(s, 2, 4, (st, l, e) => (l === 0 ? 2 : [e0[st - 1]!, 2, 2, 4 - e0[st - 1]!][e]!)));
    w.appendTopTokens({ step: 5, tokens: [[], [[[65, 1]]]] });
    w.appendTopTokens({ step: 10, tokens: [[], [[[97, 12], [98, 3]]]] });
    await w.close();
    const r = await store.open(w.runId);
    const x = r.expert(1, 0, 100);
    expect(x.steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(x.share).toEqual(e0.map((v) => v / 8));
    expect(x.idealShare).toBe(0.25);
    // over 2: steps 1–3 (3 long), 7–8; under: 4–5, 9–10 (2 long); step 6 equals the ideal and breaks both
    expect(x.overStreakMax).toBe(3);
    expect(x.underStreakMax).toBe(2);
    expect(x.topTokens).toEqual([[97, 12], [98, 3]]);
    // 10 steps into 4 points: buckets of ceil(10/4) = 3 steps, means of the shares
    const d = r.expert(1, 0, 4);
    expect(d.steps).toEqual([1, 4, 7, 10]);
    expect(d.share).toEqual([3 / 8, 4 / 3 / 8, 7 / 3 / 8, 1 / 8]);
    r.close();
  });
});

describe('scalars', () => {
  it('downsampling keeps the lowest and highest maxVio of each bucket and the last point', () => {
    const key = Float64Array.from([1, 5, 2, 8, 3, 0, 4, 9, 7, 6]);
    // 2 buckets: [0,5) → min at 0, max at 3; [5,10) → min at 5, max at 7, and the last index 9 takes the min's place
    expect(downsampleIndexes(key, 0, 10, 4)).toEqual([0, 3, 7, 9]);
    expect(downsampleIndexes(key, 2, 5, 4)).toEqual([2, 3, 4]);
  });

  it('scalars() returns steps in range, at most maxPoints, plus eval records', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    for (let s = 1; s <= 50; s++) w.appendStep(stepReport(s, 2, 4, () => 2));
    w.appendEval({ step: 25, valLoss: 2, valPerplexity: 7.39, valMaxVioL: [0.1, 0.2], valMaxVio: 0.15 });
    w.appendEval({ step: 50, valLoss: 1.5, valPerplexity: 4.48, valMaxVioL: [0.1, 0.1], valMaxVio: 0.1 });
    await w.close();
    const r = await store.open(w.runId);
    const all = r.scalars({ maxPoints: 1000 });
    expect(all.steps).toHaveLength(50);
    expect(all.loss[9]).toBeCloseTo(5 - 10 / 1000, 12);
    expect(all.eval.map((e) => e.step)).toEqual([25, 50]);
    const part = r.scalars({ fromStep: 11, toStep: 30, maxPoints: 6 });
    // maxVio = step/100 grows, so each of 3 buckets keeps its first and last step
    expect(part.steps).toEqual([11, 16, 17, 23, 24, 30]);
    expect(part.eval.map((e) => e.step)).toEqual([25]);
    r.close();
  });
});
