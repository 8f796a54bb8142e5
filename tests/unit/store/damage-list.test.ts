// Damaged and crashed runs open read-only with warnings and never break list(); rename, tag, delete;
// a run written by an external trainer (uint16 loads, minimal JSON) opens the same way.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { RunStore } from '../../../src/main/store/run-store';
import { smallConfig, stepReport, tempRoot } from './helpers';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => cleanup());

async function goodRun(store: RunStore, steps = 20): Promise<string> {
  const w = await store.create(smallConfig());
  for (let s = 1; s <= steps; s++) w.appendStep(stepReport(s, 2, 4, (st, l, e) => st + l + e));
  w.appendEval({ step: steps, valLoss: 2, valPerplexity: 7.5, valMaxVioL: [0, 0], valMaxVio: 0 });
  w.setStatus('completed');
  await w.close();
  return w.runId;
}

describe('damaged runs', () => {
  it('garbled meta.json and missing config.json: read-only with warnings; other runs untouched; list() does not throw', async () => {
    const store = new RunStore(root);
    const good = await goodRun(store);
    const bad = await goodRun(store);
    writeFileSync(join(root, bad, 'meta.json'), '{"name": "half');
    writeFileSync(join(root, bad, 'config.json'), '');
    const r = await store.open(bad);
    expect(r.readOnly).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/meta\.json: not valid JSON/);
    expect(r.warnings.join('\n')).toMatch(/config\.json: not valid JSON.*default config/);
    // the shape still comes from loads.bin, so its charts work
    expect(r.config.model.layers).toBe(2);
    expect(r.heatmap(0, { maxColumns: 5 }).stepEnds.at(-1)).toBe(20);
    r.close();
    await expect(store.openWriter(bad)).rejects.toThrow(/cannot be continued: meta\.json/);
    await expect(store.rename(bad, 'x')).rejects.toThrow(/read-only/);

    const list = await store.list();
    const byId = Object.fromEntries(list.map((i) => [i.runId, i]));
    expect(byId[good]!.warnings).toEqual([]);
    expect(byId[good]!.avgMaxVio).toBe(20 / 200);
    expect(byId[good]!.supMaxVio).toBe(20 / 100);
    expect(byId[good]!.perplexity).toBe(7.5);
    expect(byId[good]!.steps).toBe(20);
    expect(byId[bad]!.warnings.length).toBeGreaterThan(0);
    // stray files and a folder with nothing of a run are not runs
    writeFileSync(join(root, 'notes.txt'), 'hi');
    mkdirSync(join(root, 'empty-folder'));
    expect((await store.list()).map((i) => i.runId).sort()).toEqual([good, bad].sort());
  });

  it('a garbled loads record in the middle is reported and left out; a torn tail is dropped with a warning', async () => {
    const store = new RunStore(root);
    const id = await goodRun(store, 10);
    const path = join(root, id, 'loads.bin');
    const buf = readFileSync(path);
    buf[64 + 4 * 40 + 10] ^= 0xff; // inside the record of step 5 (records are 40 bytes)
    writeFileSync(path, buf);
    appendFileSync(path, Buffer.alloc(17, 1)); // a torn 18th… record
    appendFileSync(join(root, id, 'steps.jsonl'), '{"step":11,"loss":');
    const r = await store.open(id);
    const w = r.warnings.join('\n');
    expect(w).toMatch(/loads\.bin: 1 record\(s\) in the middle fail their checksum \(garbled; steps 5\)/);
    expect(w).toMatch(/loads\.bin: dropped a torn record of 17 bytes at the end .* after step 10/);
    expect(w).toMatch(/steps\.jsonl: dropped a torn last line \(18 bytes/);
    expect(r.readOnly).toBe(true);
    expect(r.lastStep).toBe(10);
    expect(Array.from(r.loadRows(5, 5)[0]!).every(Number.isNaN)).toBe(true);
    expect(Array.from(r.loadRows(6, 6)[0]!.subarray(0, 2))).toEqual([6, 7]);
    r.close();
  });
});

describe('crashed runs', () => {
  it('status running with a dead writer is listed with a warning, and markCrashedRuns marks it failed', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    w.appendStep(stepReport(1, 2, 4, () => 2));
    w.setStatus('running');
    await w.close();
    // the lock of a process that has exited
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(root, w.runId, 'writer.lock'), JSON.stringify({ pid: dead, host: hostname(), startedAt: '' }));
    const [item] = await store.list();
    expect(item!.status).toBe('running');
    expect(item!.warnings.join('\n')).toMatch(/no writer is alive/);
    expect(await store.markCrashedRuns()).toEqual([w.runId]);
    const r = await store.open(w.runId);
    expect(r.meta.status).toBe('failed');
    expect(r.meta.failure).toMatch(/crash or kill/);
    r.close();
  });

  it('a live writer blocks a second writer and delete', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig());
    w.setStatus('running');
    await expect(store.openWriter(w.runId)).rejects.toThrow(/being written/);
    await expect(store.delete(w.runId)).rejects.toThrow(/being written/);
    expect(await store.markCrashedRuns()).toEqual([]);
    await w.close();
  });
});

describe('rename, tag, delete', () => {
  it('renames and tags (kept when the writer later changes status), deletes the folder', async () => {
    const store = new RunStore(root);
    const w = await store.create(smallConfig(), { name: 'first' });
    await store.rename(w.runId, 'second');
    await store.tag(w.runId, ['a', 'b', 'a']);
    w.setStatus('completed');
    await w.close();
    const [item] = await store.list();
    expect([item!.name, item!.tags, item!.status]).toEqual(['second', ['a', 'b'], 'completed']);
    await store.delete(w.runId);
    expect(existsSync(join(root, w.runId))).toBe(false);
    await expect(store.open(w.runId)).rejects.toThrow(/no run/);
    await expect(store.open('..')).rejects.toThrow(/not a run id/);
  });
});

describe('external trainer', () => {
  it('opens a folder written by hand the way docs/run-format.md shows (uint16 loads, no summaries)', async () => {
    const dir = join(root, 'megatron-run-1');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ preset: 'custom', strategy: 'loss-free', steps: 100, model: { layers: 3, experts: 4, topK: 2, batch: 2, ctx: 16 } }));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ name: 'from PyTorch', status: 'completed', createdAt: '2025-01-01T00:00:00Z', tags: ['external'], formatVersion: 1 }));
    const L = 3;
    const E = 4;
    const header = Buffer.alloc(64);
    header.write('LSLOADS1', 0, 'ascii');
    header.writeUInt32LE(1, 8);
    header.writeUInt32LE(L, 12);
    header.writeUInt32LE(E, 16);
    header.writeUInt32LE(2, 20); // uint16
    header.writeDoubleLE((2 * 32) / 4, 24); // k·T/E = 2·32/4 = 16
    const recs: Buffer[] = [header];
    const lines: string[] = [];
    // logged every 10 steps: steps 10, 20, ..., 100
    for (let s = 10; s <= 100; s += 10) {
      const rec = Buffer.alloc(8 + L * E * 2);
      rec.writeUInt32LE(s, 0);
      for (let c = 0; c < L * E; c++) rec.writeUInt16LE(s + c, 4 + 2 * c);
      rec.writeUInt32LE(crc32(rec.subarray(0, rec.length - 4)), rec.length - 4);
      recs.push(rec);
      lines.push(JSON.stringify({ step: s, loss: 3, maxVio: s / 100 }));
    }
    writeFileSync(join(dir, 'loads.bin'), Buffer.concat(recs));
    writeFileSync(join(dir, 'steps.jsonl'), lines.join('\n') + '\n');
    const store = new RunStore(root);
    const r = await store.open('megatron-run-1');
    expect(r.warnings).toEqual([]);
    expect([r.meta.name, r.config.strategy, r.config.model.experts, r.lastStep]).toEqual(['from PyTorch', 'loss-free', 4, 100]);
    // layer 1 expert 0 of step s is s + 4; columns of 5 logged rows: steps 10–50 and 60–100
    const h = r.heatmap(1, { maxColumns: 2 });
    expect([h.stepStarts, h.stepEnds, h.mean.slice(0, 2), h.max.slice(0, 2), h.idealLoad]).toEqual([[10, 60], [50, 100], [34, 84], [54, 104], 16]);
    expect(r.loadsAt(35).step).toBe(30);
    // avgMaxVio / supMaxVio are filled in as the running mean / max of maxVio: (0.1 + 0.2 + 0.3) / 3
    expect(r.scalars({ maxPoints: 100 }).avgMaxVio[2]).toBeCloseTo(0.2, 12);
    const [item] = await store.list();
    expect([item!.runId, item!.supMaxVio, item!.tags]).toEqual(['megatron-run-1', 1, ['external']]);
    r.close();
  });
});
