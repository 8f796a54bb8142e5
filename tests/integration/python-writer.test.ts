// The Python writer end to end: a tiny PyTorch MoE trains 50 steps with the generic hook, then the
// `loadscope` CLI reads the run back; a hand-counted Megatron router trace through `loadscope import`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonWithTorch } from './fixtures/python';
import { encodeNpy } from '../../src/cli/npy';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');
const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1' };
const tmp = mkdtempSync(join(tmpdir(), 'loadscope-py-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const python = pythonWithTorch();

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(!python)('python writer (skipped: no Python with torch; apt-get install python3-torch python3-numpy)', () => {
  it('a 50-step PyTorch MoE run: loads equal the independent count and `runs show` reads it back', () => {
    const runs = join(tmp, 'runs');
    const expectedFile = join(tmp, 'expected.json');
    const r = spawnSync(python!, [join(root, 'python', 'examples', 'tiny_moe.py'), join(runs, 'tiny-torch'), '--steps', '50', '--expected', expectedFile], { encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const shown = cli('runs', 'show', 'tiny-torch', '--runs', runs, '--json');
    expect(shown.err).toBe('');
    const detail = JSON.parse(shown.out);
    expect(detail).toMatchObject({ lastStep: 50, readOnly: false, warnings: [], meta: { name: 'tiny torch MoE', status: 'completed', source: 'external', framework: 'pytorch' } });
    expect(detail.config.model).toMatchObject({ layers: 2, experts: 8, topK: 2 });
    const exported = JSON.parse(cli('runs', 'export', 'tiny-torch', '--runs', runs, '--series', 'loads', '--format', 'json').out);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as number[][][];
    expect(exported.rows.map((x: { step: number }) => x.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(exported.rows.map((x: { loadsLE: number[] }) => x.loadsLE)).toEqual(expected.map((s) => s.flat()));
    // ideal load from the declared tokens per step: 2 micro-batches × 32 tokens × top-2 / 8 experts
    expect(exported.idealLoad).toBe(16);
    const list = JSON.parse(cli('runs', 'list', '--runs', runs, '--json').out);
    expect(list[0]).toMatchObject({ runId: 'tiny-torch', source: 'external', steps: 50, preset: 'external · pytorch' });
    expect(typeof list[0].avgMaxVio).toBe('number');
  });
});

describe('loadscope import', () => {
  it('a Megatron router trace: micro-batch lines of a step are summed per layer', () => {
    const trace = join(tmp, 'router-trace.jsonl');
    const lines = [
      // step 1, layer 0, two micro-batches of 2 tokens, top-2
      { step: 1, layer: 0, indices: [[0, 1], [1, 2]] },
      { step: 1, layer: 0, indices: [[3, 1], [0, 1]] },
      { step: 1, layer: 1, indices: [[2, 3], [2, 3], [2, 0], [1, 3]] },
      { iteration: 2, layer: 0, topk: [[3, 2], [3, 2], [3, 1], [3, 0]] },
      { iteration: 2, layer: 1, topk: [[0, 1], [2, 3], [0, 1], [2, 3]] },
    ];
    writeFileSync(trace, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const runs = join(tmp, 'imported');
    const r = cli('import', trace, '--runs', runs, '--id', 'mega', '--experts', '4', '--tokens-per-step', '4');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/imported 2 steps \(2 layers × 4 experts, top-2\)/);
    const exported = JSON.parse(cli('runs', 'export', 'mega', '--runs', runs, '--series', 'loads', '--format', 'json').out);
    expect(exported.rows).toEqual([
      { step: 1, loadsLE: [2, 4, 1, 1, 1, 1, 3, 3] },
      { step: 2, loadsLE: [1, 1, 2, 4, 2, 2, 2, 2] },
    ]);
    expect(exported.idealLoad).toBe(2); // 4 tokens × top-2 / 4 experts
    const detail = JSON.parse(cli('runs', 'show', 'mega', '--runs', runs, '--json').out);
    expect(detail.meta).toMatchObject({ source: 'external', framework: 'megatron', status: 'completed' });
    // MaxVio derived from the loads: step 2 layer 0 = (4 − 2)/2 = 1, layer 1 = 0 → mean 0.5
    const scalars = JSON.parse(cli('runs', 'export', 'mega', '--runs', runs, '--series', 'scalars', '--format', 'json').out);
    expect(JSON.stringify(scalars)).toMatch(/"step":2[^}]*"maxVio":0\.5/);
  });

  it('.npy [steps × layers × experts] and CSV (the `runs export` layout) give the same run', () => {
    const npy = join(tmp, 'loads.npy');
    // 2 steps × 1 layer × 3 experts, top-1 of 6 tokens per step: ideal 2
    writeFileSync(npy, encodeNpy(Float64Array.from([3, 2, 1, 2, 2, 2]), [2, 1, 3]));
    const csv = join(tmp, 'loads.csv');
    writeFileSync(csv, 'step,layer,e0,e1,e2\n1,0,3,2,1\n2,0,2,2,2\n');
    const runs = join(tmp, 'plain');
    for (const [file, id] of [[npy, 'from-npy'], [csv, 'from-csv']] as const) {
      const r = cli('import', file, '--runs', runs, '--id', id, '--top-k', '1', '--tokens-per-step', '6');
      expect(r.err).toBe('');
      const exported = JSON.parse(cli('runs', 'export', id, '--runs', runs, '--series', 'loads', '--format', 'json').out);
      expect(exported).toEqual({ layers: 1, experts: 3, idealLoad: 2, rows: [{ step: 1, loadsLE: [3, 2, 1] }, { step: 2, loadsLE: [2, 2, 2] }] });
    }
    expect(cli('import', npy, '--runs', runs, '--id', 'no-k').err.trim()).toBe('loadscope: import: --top-k is required for .npy and .csv loads (slots per token)');
  });

  it('bad input is one line naming the problem, and nothing is written', () => {
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"step": 1, "layer": 0, "indices": [[0, 9]]}\n');
    const r = cli('import', bad, '--runs', join(tmp, 'bad-runs'), '--experts', '4');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`loadscope: import: ${bad}: line 1: expert index 9 is not below --experts 4`);
    expect(existsSync(join(tmp, 'bad-runs', 'bad'))).toBe(false);
  });
});
