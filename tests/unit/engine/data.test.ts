// Data sources and batches: deterministic synthetic text with skewed topics, the built-in corpus, user files
// with clear errors, the train/validation split and checkpointable batch order; and config field errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../src/main/engine/data/batcher';
import { DataError, loadText } from '../../../src/main/engine/data/sources';
import { syntheticText } from '../../../src/main/engine/data/synthetic';
import { resolveRunConfig } from '../../../src/shared/run-config';

const dir = mkdtempSync(join(tmpdir(), 'loadscope-data-'));

describe('data sources', () => {
  it('synthetic text is deterministic and skewed: a few bytes dominate', () => {
    const a = syntheticText({ bytes: 50_000 });
    expect(syntheticText({ bytes: 50_000 })).toEqual(a);
    const counts = new Array(256).fill(0);
    for (const b of a) counts[b]++;
    const sorted = [...counts].sort((x, y) => y - x);
    const distinct = counts.filter((c) => c > 0).length;
    // uniform over the ~60 bytes in use would give the top 10 bytes 10/60 ≈ 17% of the text; topic skew gives far more
    expect(distinct).toBeGreaterThan(30);
    expect(sorted.slice(0, 10).reduce((x, y) => x + y, 0) / a.length).toBeGreaterThan(0.5);
  });

  it('the built-in corpus is public-domain English text: the first address of each President, in order', () => {
    const { bytes, label } = loadText({ kind: 'corpus' });
    expect(label).toMatch(/State of the Union/);
    // 43 addresses of ~50 KB each: large enough for the paper-sized presets' validation split
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    expect(text.slice(0, 4000)).toMatch(/Congress/);
    const headers = [...text.matchAll(/^State of the Union Address, (\d{4}), (.+)$/gm)];
    expect(headers.length).toBe(43);
    expect(headers[0].slice(1)).toEqual(['1790', 'George Washington']);
    expect(headers[42].slice(1)).toEqual(['2021', 'Joseph R Biden']);
    const years = headers.map((h) => Number(h[1]));
    expect([...years].sort((a, b) => a - b)).toEqual(years);
    // one address per President: Cleveland's second term is not repeated
    expect(new Set(headers.map((h) => h[2])).size).toBe(43);
    // the same bytes every time (a fixed split for every run)
    expect(loadText({ kind: 'corpus' }).bytes).toBe(bytes);
  });

  it('a user file: missing, empty, binary and non-UTF-8 files fail with the file named', () => {
    const ok = join(dir, 'ok.txt');
    writeFileSync(ok, 'héllo wörld '.repeat(100));
    expect(loadText({ kind: 'file', path: ok }).bytes.length).toBe(Buffer.byteLength('héllo wörld '.repeat(100)));
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const binary = join(dir, 'bin.dat');
    writeFileSync(binary, Buffer.from([1, 2, 0, 3]));
    const latin1 = join(dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.from([0x68, 0xe9, 0x6c]));
    const missing = join(dir, 'nope.txt');
    expect(() => loadText({ kind: 'file', path: missing })).toThrow(`data file not found: ${missing}`);
    expect(() => loadText({ kind: 'file', path: empty })).toThrow(`data file is empty: ${empty}`);
    expect(() => loadText({ kind: 'file', path: binary })).toThrow(new RegExp(`binary.*${binary}`));
    expect(() => loadText({ kind: 'file', path: latin1 })).toThrow(`data file is not valid UTF-8 text: ${latin1}`);
    expect(() => loadText({ kind: 'file', path: dir })).toThrow(DataError);
  });
});

describe('batches', () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const data = { label: 'counting', bytes };

  it('splits by validationFraction and pairs each input with the next byte', () => {
    const b = new Batcher(data, 3, 8, 0.1, 1);
    // floor(1000 · 0.1) = 100 validation bytes at the end
    expect(b.train.length).toBe(900);
    expect(b.val.length).toBe(100);
    const batch = b.nextTrain();
    expect(batch.inputs.length).toBe(24);
    for (let i = 0; i < 24; i++) {
      if (i % 8 !== 7) expect(batch.targets[i]).toBe(batch.inputs[i + 1]);
      expect(batch.targets[i]).toBe((batch.inputs[i]! + 1) % 251);
    }
  });

  it('same seed → same batches; the PRNG state restores the order exactly', () => {
    const a = new Batcher(data, 2, 8, 0.1, 9);
    const b = new Batcher(data, 2, 8, 0.1, 9);
    expect(b.nextTrain().inputs).toEqual(a.nextTrain().inputs);
    const state = a.getState();
    const want = a.nextTrain().inputs;
    b.setState(state);
    expect(b.nextTrain().inputs).toEqual(want);
    // validation batches are fixed windows, the same every time
    expect(a.valBatch(1, 2).inputs).toEqual(b.valBatch(1, 2).inputs);
  });

  it('a text too short for ctx + 1 bytes per split is refused with the sizes', () => {
    expect(() => new Batcher({ label: 'tiny file', bytes: new Uint8Array(50) }, 1, 16, 0.1, 1)).toThrow(/tiny file is too short.*ctx \+ 1 = 17/);
  });
});

describe('run config errors name the field', () => {
  it.each([
    [{ model: { topK: 8 } }, 'model.topK'],
    [{ model: { dModel: 30, heads: 4 } }, 'model.heads'],
    [{ lr: -1 }, 'lr'],
    [{ strategy: 'bip', strategyOptions: { T: 0 } }, 'strategyOptions'],
    [{ dispatch: 'scatter' }, 'dispatch'],
  ])('%j → %s', (input, path) => {
    const r = resolveRunConfig(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain(path);
  });
});
