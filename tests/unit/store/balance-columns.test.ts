// The balance figures through the run store: per-step columns (entropy, CV, idle experts, drop rate), the
// latest step's gate mass with its loads, the runs-list fields, and the scalars CSV header.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/run-store';
import type { RunReaderImpl } from '../../../src/main/store/run-reader';
import { smallConfig, stepReport, tempRoot } from './helpers';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => cleanup());

describe('balance columns in the store', () => {
  it('stores, reads back and lists the balance figures of hand-made loads', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    // 2 layers × 4 experts, 8 tokens, k = 1 (ideal 2). Step 1: layer 0 even, layer 1 [8, 0, 0, 0]; step 2: layer 1 [4, 4, 0, 0]
    const loads = [
      [2, 2, 2, 2, 8, 0, 0, 0],
      [2, 2, 2, 2, 4, 4, 0, 0],
    ];
    w.appendStep(stepReport(1, 2, 4, (_s, l, e) => loads[0]![l * 4 + e]!));
    w.appendStep(stepReport(2, 2, 4, (_s, l, e) => loads[1]![l * 4 + e]!));
    await w.close();
    const r = (await store.open(w.runId)) as RunReaderImpl;
    try {
      const s = r.scalars({ maxPoints: 100 });
      // entropy: layer 0 = 1, layer 1 = 0 (step 1) and ln 2 / ln 4 = 0.5 (step 2); mean over layers
      expect(s.entropy[0]).toBeCloseTo(0.5, 12);
      expect(s.entropy[1]).toBeCloseTo(0.75, 12);
      // CV of [8,0,0,0]: mean 2, std √12 → √3; of [4,4,0,0]: std 2 → 1; layer 0: 0
      expect(s.cv[0]).toBeCloseTo(Math.sqrt(3) / 2, 12);
      expect(s.cv[1]).toBeCloseTo(0.5, 12);
      expect(s.idle).toEqual([3, 2]);
      expect(s.dropRate).toEqual([0, 0]);
      // gate mass of the latest step comes with its loads (the helper's uniform 1/E)
      const at = r.loadsAt();
      expect(at.step).toBe(2);
      expect(at.gateMassLE).toEqual(new Array(8).fill(0.25));
      expect(r.loadsAt(1).gateMassLE).toBeUndefined();
      const csv = [...r.exportChunks('scalars', 'csv')].join('');
      expect(csv.split('\n')[0]).toMatch(/dropRate.*demandMaxVio.*entropy.*cv.*idle.*dead/);
    } finally {
      r.close();
    }
    const item = (await store.list()).find((i) => i.runId === w.runId)!;
    expect(item.dropRate).toBe(0);
    expect(item.demandAvgMaxVio).toBeGreaterThan(0);
    // the helper's elapsedMs = 10 · step
    expect(item.trainMs).toBe(20);
  });

  it('micro-batch MaxVio: a column when recorded (gradient accumulation), null for one batch per step', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    const one = stepReport(1, 2, 4, () => 2);
    const acc = { ...stepReport(2, 2, 4, () => 2), microBatches: 2, maxVioMicroL: [0.5, 0.25], maxVioMicro: 0.375, avgMaxVioMicro: 0.375, supMaxVioMicro: 0.375 };
    w.appendStep(one);
    w.appendStep(acc);
    await w.close();
    const r = (await store.open(w.runId)) as RunReaderImpl;
    try {
      const s = r.scalars({ maxPoints: 100 });
      expect(s.maxVioMicro[0]).toBeNaN();
      expect(s.maxVioMicro[1]).toBe(0.375);
      expect(JSON.parse(JSON.stringify(s)).maxVioMicro).toEqual([null, 0.375]);
    } finally {
      r.close();
    }
  });
});
