// `loadscope route` end to end (spawned from source): .npy/JSON input, exact optimum, state across steps,
// and one clear line with a non-zero exit for every kind of bad input.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, parseNpy } from '../../src/cli/npy';
import { seededScores } from '../unit/strategies/fixtures';
import { solveOptimal } from '../../src/main/engine/solver/optimal';

const dir = mkdtempSync(join(tmpdir(), 'loadscope-route-'));
function route(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['bin/loadscope.mjs', 'route', ...args], { encoding: 'utf8', env: { ...process.env, LOADSCOPE_FROM_SOURCE: '1' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** The same bytes with the header's dtype '<f4' relabelled '<i4' (what np.save writes for int32). */
function asInt32Header(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const at = Buffer.from(out).indexOf('<f4');
  out[at + 1] = 'i'.charCodeAt(0);
  return out;
}

const T = 128;
const E = 8;
let benign: string;

beforeAll(() => {
  benign = file('benign.npy', encodeNpy(Float32Array.from(seededScores(T, E, 1, 3)), [T, E]));
});

describe('npy reader', () => {
  it('round-trips float32/float64 with their shapes and rejects other dtypes by name', () => {
    const a = parseNpy(encodeNpy(Float64Array.from([1, 2, 3, 4, 5, 6]), [2, 3]));
    expect(a.dtype).toBe('float64');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseNpy(asInt32Header(encodeNpy(Float32Array.from([1, 2]), [1, 2])))).toThrow(/unsupported dtype '<i4'/);
    expect(() => parseNpy(new Uint8Array(20))).toThrow(/not a \.npy/);
  });
});

describe('loadscope route', () => {
  it('optimal: the exact optimum, every expert within capacity, ratio 1', () => {
    const r = route('--scores', benign, '--k', '2', '--strategy', 'optimal', '--assignment');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.capacity).toBe(32); // ⌈2·128/8⌉
    const step = out.results[0];
    const s = seededScores(T, E, 1, 3);
    expect(step.optimum).toBeCloseTo(solveOptimal(Float32Array.from(s), T, E, 2, 32).objective, 6);
    expect(step.objectiveRatio).toBeCloseTo(1, 9);
    expect(Math.max(...step.loads)).toBeLessThanOrEqual(32);
    expect(step.assignment).toHaveLength(T);
    const counted = new Array(E).fill(0);
    for (const experts of step.assignment) for (const e of experts) counted[e]++;
    expect(counted).toEqual(step.loads);
  });

  it('none reports plain top-k (objective ≥ optimum, MaxVio > 0); a 3-D file is a sequence with state carried', () => {
    const none = JSON.parse(route('--scores', benign, '--k', '2').out).results[0];
    expect(none.objective).toBeGreaterThanOrEqual(none.optimum);
    expect(none.maxVio).toBeGreaterThan(0);
    // two identical batches: loss-free's bias from step 0 changes step 1's routing (u = 0.05 to make it visible)
    const batch = Array.from(seededScores(16, 4, 2, 5));
    const rows = (b: number[]) => Array.from({ length: 16 }, (_, t) => b.slice(t * 4, t * 4 + 4));
    const json = file('seq.json', JSON.stringify([rows(batch), rows(batch)]));
    const seq = JSON.parse(route('--scores', json, '--k', '1', '--strategy', 'loss-free', '--set', 'u=0.05').out);
    expect(seq.steps).toBe(2);
    expect(seq.results[1].loads).not.toEqual(seq.results[0].loads);
    expect(seq.results[1].maxVio).toBeLessThan(seq.results[0].maxVio);
  });

  it('softmax/sigmoid: the file holds logits', () => {
    // logits t0 [2, 0, 0, 0], t1 [0, 0, 0, 3] with k = 1: objective = e²/(e² + 3) + e³/(e³ + 3) = 7.389056/10.389056 + 20.085537/23.085537 = 0.711236 + 0.870047
    const f = file('logits.json', JSON.stringify([[2, 0, 0, 0], [0, 0, 0, 3]]));
    const out = JSON.parse(route('--scores', f, '--k', '1', '--score-fn', 'softmax').out);
    expect(out.results[0].objective).toBeCloseTo(1.581283, 5);
  });

  it('bad input: one line naming the problem, non-zero exit, no stack trace', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--scores', join(dir, 'missing.npy'), '--k', '2'], /not found/],
      [['--scores', file('int.npy', asInt32Header(encodeNpy(Float32Array.from([1, 2]), [1, 2]))), '--k', '1'], /dtype '<i4'/],
      [['--scores', file('rank1.npy', encodeNpy(Float32Array.from([1, 2, 3]), [3])), '--k', '1'], /2-D .* or 3-D/],
      [['--scores', file('nan.npy', encodeNpy(Float64Array.from([0.5, NaN, 0.2, 0.8]), [2, 2])), '--k', '1'], /NaN at token 0, expert 1/],
      [['--scores', file('inf.json', '[[0.5, 1e999], [0.1, 0.9]]'), '--k', '1'], /Infinity at token 0, expert 1/],
      [['--scores', file('ragged.json', '[[0.5, 0.5], [0.1]]'), '--k', '1'], /ragged/],
      [['--scores', benign, '--k', '8'], /--k 8 must be smaller than the number of experts \(8\)/],
      [['--scores', benign, '--k', '2', '--capacity', '31'], /too small/],
      [['--scores', benign, '--k', '2', '--strategy', 'magic'], /unknown strategy "magic"/],
      [['--scores', benign, '--k', '2', '--strategy', 'bip', '--set', 'rounds=3'], /no option "rounds"/],
      [['--scores', benign], /--k K is required/],
    ];
    for (const [args, message] of cases) {
      const r = route(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
