// Checkpoints (byte-exact round trip, keep-last-K, interrupted writes) and resume/branch truncation with backup.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../../../src/main/store/run-store';
import type { CheckpointData } from '../../../src/shared/worker-protocol';
import { smallConfig, stepReport, tempRoot } from './helpers';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => cleanup());

function checkpoint(step: number): CheckpointData {
  // awkward values on purpose: NaN payload, -0, subnormal, extremes; an odd-length array to test alignment
  const w = new Float32Array([Math.PI, -0, NaN, 1e-45, 3.4e38, -1, step]);
  new Uint32Array(w.buffer)[2] = 0x7fc01234; // a NaN with a payload must survive bit for bit
  return {
    step,
    arrays: [
      { name: 'model/block0/attn/wq', shape: [7], dtype: 'float32', data: w },
      { name: 'strategy/layer0/count', shape: [3], dtype: 'int32', data: new Int32Array([-2147483648, 0, 2147483647]) },
      { name: 'optimizer/m/empty', shape: [0], dtype: 'float32', data: new Float32Array(0) },
    ],
    meta: { cursor: 1234, rng: [1, 2, 3], note: 'ünïcødé' },
  };
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('checkpoints', () => {
  it('round-trips byte-exact and keeps only the newest keepCheckpoints (2)', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig({ keepCheckpoints: 2 }));
    for (let s = 1; s <= 30; s++) {
      w.appendStep(stepReport(s, 2, 4, () => 2));
      if (s % 10 === 0) await w.writeCheckpoint(checkpoint(s), 'periodic');
    }
    const info = await w.writeCheckpoint(checkpoint(30), 'manual');
    expect(info.reason).toBe('manual');
    await w.close();
    const r = await store.open(w.runId);
    // 10 was pruned; 30 was written twice (same file replaced)
    expect(r.listCheckpoints().map((c) => [c.step, c.reason])).toEqual([[20, 'periodic'], [30, 'manual']]);
    const back = await r.readCheckpoint(20);
    const orig = checkpoint(20);
    expect(back.step).toBe(20);
    expect(back.meta).toEqual(orig.meta);
    expect(back.arrays.map((a) => [a.name, a.shape, a.dtype])).toEqual(orig.arrays.map((a) => [a.name, a.shape, a.dtype]));
    back.arrays.forEach((a, i) => expect(bytes(a.data).equals(bytes(orig.arrays[i]!.data))).toBe(true));
    expect(back.arrays[0]!.data).toBeInstanceOf(Float32Array);
    expect(back.arrays[1]!.data).toBeInstanceOf(Int32Array);
    await expect(r.readCheckpoint(10)).rejects.toThrow(/no checkpoint at step 10/);
    r.close();
  });

  it('ignores and reports a temporary file left by an interrupted write, and a garbled checkpoint fails its checksum', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    w.appendStep(stepReport(1, 2, 4, () => 2));
    await w.writeCheckpoint(checkpoint(1), 'periodic');
    await w.close();
    const cdir = join(root, w.runId, 'checkpoints');
    // what a process killed between write and rename leaves behind
    writeFileSync(join(cdir, '.step-0000000002.ckpt.tmp-99999'), Buffer.alloc(100, 7));
    const file = join(cdir, 'step-0000000001.ckpt');
    const buf = readFileSync(file);
    buf[buf.length - 20] ^= 0xff;
    writeFileSync(file, buf);
    const r = await store.open(w.runId);
    expect(r.listCheckpoints().map((c) => c.step)).toEqual([1]);
    expect(r.warnings.join('\n')).toMatch(/step-0000000002\.ckpt\.tmp-99999: an incomplete checkpoint .*ignored/);
    expect(r.readOnly).toBe(false); // the series themselves are intact
    await expect(r.readCheckpoint(1)).rejects.toThrow(/checksum mismatch/);
    expect(existsSync(join(cdir, '.step-0000000002.ckpt.tmp-99999'))).toBe(true); // nothing deleted
    r.close();
  });
});

describe('resume and branch', () => {
  it('cuts every series after the checkpoint into a backup folder and continues seamlessly', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig({ keepCheckpoints: 5 }));
    for (let s = 1; s <= 300; s++) {
      w.appendStep(stepReport(s, 2, 4, (st, _l, e) => st + e));
      if (s % 100 === 0) {
        w.appendEval({ step: s, valLoss: 1, valPerplexity: s, valMaxVioL: [0, 0], valMaxVio: 0 });
        await w.writeCheckpoint(checkpoint(s), 'periodic');
      }
    }
    w.setStatus('stopped');
    await w.close();

    const w2 = await store.openWriter(w.runId, { truncateAfterStep: 200, totalSteps: 400 });
    // the new timeline: loads 1000 + step
    for (let s = 201; s <= 330; s++) w2.appendStep(stepReport(s, 2, 4, (st) => 1000 + st));
    await w2.close();

    const dir = join(root, w.runId);
    const [backup] = readdirSync(join(dir, 'backup'));
    expect(backup).toMatch(/^after-step-200-/);
    const bdir = join(dir, 'backup', backup!);
    const lines = readFileSync(join(bdir, 'steps.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).step)).toEqual(Array.from({ length: 100 }, (_, i) => 201 + i));
    expect(readFileSync(join(bdir, 'eval.jsonl'), 'utf8')).toContain('"step":300');
    // the cut loads are a loads.bin of their own: 64-byte header + 100 records of 8 + 2·4·4 bytes
    expect(readFileSync(join(bdir, 'loads.bin')).length).toBe(64 + 100 * 40);
    expect(readdirSync(join(bdir, 'checkpoints'))).toEqual(['step-0000000300.ckpt']);

    const r = await store.open(w.runId);
    expect(r.readOnly).toBe(false);
    expect(r.lastStep).toBe(330);
    expect(r.config.steps).toBe(400);
    const sc = r.scalars({ maxPoints: 10_000 });
    expect(sc.steps).toEqual(Array.from({ length: 330 }, (_, i) => i + 1));
    expect(sc.eval.map((e) => e.step)).toEqual([100, 200]);
    expect(r.listCheckpoints().map((c) => c.step)).toEqual([100, 200]);
    expect(Array.from(r.loadRows(200, 201)[0]!.subarray(0, 4))).toEqual([200, 201, 202, 203]);
    expect(Array.from(r.loadRows(200, 201)[1]!.subarray(0, 4))).toEqual([1201, 1201, 1201, 1201]);
    // summaries were cut and rebuilt: steps 193..208 = 8 old (193+e..200+e) and 8 new (1201..1208)
    const h = r.heatmap(0, { fromStep: 1, toStep: 320, maxColumns: 20 });
    expect(h.stepStarts[12]).toBe(193);
    expect(h.mean[12]).toBe((196.5 * 8 + 1204.5 * 8) / 16);
    expect(h.max[12]).toBe(1208);
    r.close();
    // appending a step that is not after the last one is refused
    const w3 = await store.openWriter(w.runId);
    expect(() => w3.appendStep(stepReport(330, 2, 4, () => 1))).toThrow(/not after the last step 330/);
    await w3.close();
  });

  it('a branch is a new run recording its parent; the caller copies the checkpoint in', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    w.appendStep(stepReport(1, 2, 4, () => 2));
    await w.writeCheckpoint(checkpoint(1), 'manual');
    await w.close();
    const parentCkpt = await (await store.open(w.runId)).readCheckpoint(1);
    const b = await store.create(smallConfig(), { name: 'branch', parent: { runId: w.runId, step: 1 } });
    await b.writeCheckpoint(parentCkpt, 'branch');
    b.appendStep(stepReport(2, 2, 4, () => 3));
    await b.close();
    const r = await store.open(b.runId);
    expect(r.meta.parent).toEqual({ runId: w.runId, step: 1 });
    expect(r.meta.name).toBe('branch');
    expect(r.listCheckpoints().map((c) => [c.step, c.reason])).toEqual([[1, 'branch']]);
    expect(r.lastStep).toBe(2);
    r.close();
  });
});
