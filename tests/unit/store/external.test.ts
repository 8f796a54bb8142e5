// External runs (meta.source "external"): lenient shapes, unknown fields, never repaired, "stopped writing".
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/run-store';
import { RunService } from '../../../src/main/services/run-service';
import { recoverInterrupted } from '../../../src/main/services/run-origins';
import { ExternalRunWriter } from '../../../src/main/store/external-writer';
import type { RunReaderImpl } from '../../../src/main/store/run-reader';
import { tempRoot } from './helpers';

let root: string;
let cleanup: () => void;
let child: ChildProcess | null = null;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => {
  child?.kill();
  child = null;
  cleanup();
});

/** a 100-layer × 300-expert top-20 run of 3 steps, with a 50,000-token vocabulary Loadscope's engine never trains */
function bigExternal(id: string): string {
  const dir = join(root, id);
  const w = new ExternalRunWriter(dir, { layers: 100, experts: 300, topK: 20, tokensPerStep: 4096, name: 'big', framework: 'megatron', counted: 'after-drop' });
  const loads = new Float32Array(100 * 300);
  for (let s = 1; s <= 3; s++) {
    loads.fill(4096 * 20 / 300);
    loads[7] = 2 * 4096 * 20 / 300; // layer 0, expert 7: twice the ideal → MaxVio 1 on layer 0
    w.append(s, loads);
  }
  w.close();
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, model: { ...cfg.model, vocab: 50_000, ctx: 8192 } }));
  return dir;
}

/** every file's sha-256: a diff names the file that changed without printing megabytes */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

describe('external runs', () => {
  it('validate what they declare (256 layers, 1024 experts, top-k 32, any vocab), unknown fields listed, ideal from tokens per step', async () => {
    bigExternal('big');
    const r = (await new RunStore(root).open('big')) as RunReaderImpl;
    expect(r.warnings).toEqual([]);
    expect(r.readOnly).toBe(false);
    expect(r.config.model).toMatchObject({ layers: 100, experts: 300, topK: 20, vocab: 50_000, ctx: 8192 });
    expect(r.external).toMatchObject({ framework: 'megatron', tokensPerStep: 4096, loadsCounted: 'after-drop' });
    expect(r.external!.unknown).toEqual(expect.arrayContaining(['strategy', 'seed', 'steps', 'model.batch', 'model.dModel']));
    expect(r.external!.unknown).not.toContain('model.vocab');
    expect(r.heatmap(0, { maxColumns: 10 }).idealLoad).toBeCloseTo((4096 * 20) / 300, 9);
    r.close();
    const detail = await new RunService(new RunStore(root), () => false).get('big');
    // Compare's columns come from the loads-derived MaxVio: layer 0 has MaxVio 1, the others 0 → 1/100
    expect(detail).toMatchObject({ source: 'external', status: 'completed' });
    // (loads are float32: 4096·20/300 is stored rounded, hence closeTo)
    expect(detail.avgMaxVio).toBeCloseTo(0.01, 6);
    expect(detail.supMaxVio).toBeCloseTo(0.01, 6);
    expect(detail.external?.unknown).toContain('strategy');
  });

  it('top tokens may be strings (BPE pieces): the inspector gets them, the CSV export quotes them', async () => {
    const dir = bigExternal('bpe');
    const tokens = Array.from({ length: 100 }, () => Array.from({ length: 300 }, () => [] as Array<[string, number]>));
    tokens[0]![7] = [['▁the', 12], ['a "quote"', 3]];
    writeFileSync(join(dir, 'top-tokens.jsonl'), JSON.stringify({ step: 3, tokens }) + '\n');
    const r = (await new RunStore(root).open('bpe')) as RunReaderImpl;
    expect(r.expert(0, 7, 10).topTokens).toEqual([['▁the', 12], ['a "quote"', 3]]);
    const csv = r.exportSeries('top-tokens', 'csv').content.split('\n');
    expect(csv).toContain('3,0,7,0,"▁the",12');
    expect(csv).toContain('3,0,7,1,"a ""quote""",3');
    r.close();
  });

  it('too many layers is damage with a clear message, not a crash', async () => {
    const dir = join(root, 'huge');
    mkdirSync(dir);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ name: 'huge', source: 'external' }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: { layers: 300, experts: 8, topK: 2 } }));
    const r = (await new RunStore(root).open('huge')) as RunReaderImpl;
    expect(r.warnings).toContain('config.json: model.layers 300 is outside 1–256');
    expect(r.meta.status).toBe('stopped'); // no status in meta.json: stopped, not failed
    r.close();
  });

  it('never marked failed or written to while the writer holds the lock; afterwards "stopped writing", untouched', async () => {
    const dir = bigExternal('live');
    child = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((res) => child!.once('spawn', res));
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...meta, status: 'running' }));
    writeFileSync(join(dir, 'writer.lock'), JSON.stringify({ pid: child.pid, host: hostname(), startedAt: '' }));
    const before = snapshot(dir);
    const store = new RunStore(root);
    const logs: string[] = [];
    const recover = () => recoverInterrupted(store, () => false, () => {}, (_l, m) => logs.push(m));
    expect(await store.markCrashedRuns()).toEqual([]);
    expect(await recover()).toEqual([]);
    const item = (await store.list()).find((i) => i.runId === 'live')!;
    expect(item.status).toBe('running');
    await expect(store.openWriter('live')).rejects.toThrow(/being written/);
    expect(snapshot(dir)).toEqual(before);

    child.kill();
    await new Promise((res) => child!.once('exit', res));
    child = null;
    expect(await store.markCrashedRuns()).toEqual([]);
    expect(await recover()).toEqual([]);
    expect(logs).toEqual([]);
    const r = (await store.open('live')) as RunReaderImpl;
    expect(r.meta.status).toBe('stopped');
    expect(r.warnings).toContain('stopped writing: the trainer that wrote this run is gone (nothing was changed)');
    r.close();
    await expect(store.openWriter('live')).rejects.toThrow(/external trainer/);
    expect(snapshot(dir)).toEqual(before); // the stale lock and meta.json stay as the trainer left them
  });
});
