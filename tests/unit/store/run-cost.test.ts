// The run-level cost model read from steps.jsonl: sums match runCost, appended lines are added, a rewrite restarts.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCost, type StepCost } from '../../../src/shared/cost-model';
import { resolveRunConfig, type RunConfig } from '../../../src/shared/run-config';
import { readRunCost } from '../../../src/main/store/run-cost';
import { FILES } from '../../../src/main/store/format';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const config = (() => {
  const r = resolveRunConfig({ preset: 'tiny' });
  if (!r.ok) throw new Error('tiny preset must resolve');
  return r.config as RunConfig;
})();
const ep = (share: number, ratio: number, cross: number): StepCost => ({ slowestShare: share, stepTimeRatio: ratio, overCapacity: 1, crossTokens: cross, crossBytes: cross * 256 });
const line = (step: number, c: StepCost) => JSON.stringify({ step, loss: 1, ep: c }) + '\n';

describe('readRunCost', () => {
  it('sums the steps like runCost, keeps the latest step, then adds only appended lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-cost-'));
    dirs.push(dir);
    const a = [ep(0.5, 2, 10), ep(0.25, 1, 4)];
    const third = line(3, ep(0.75, 3, 6));
    writeFileSync(join(dir, FILES.steps), line(1, a[0]!) + line(2, a[1]!) + third.slice(0, 20)); // torn tail: not read yet
    const r1 = readRunCost(dir, config);
    if ('unavailable' in r1) throw new Error(r1.unavailable);
    expect(r1).toMatchObject({ ...runCost(a, config.expertParallel.devices), placement: 'round-robin' });
    expect(r1.stepTimeRatio).toBeCloseTo(1.5, 12);
    expect(r1.crossTokens).toBe(14);
    expect(r1.latest).toEqual({ step: 2, ...a[1]! });
    // the torn line completes and another follows
    appendFileSync(join(dir, FILES.steps), third.slice(20) + line(4, ep(0.25, 1, 0)));
    const r2 = readRunCost(dir, config);
    if ('unavailable' in r2) throw new Error(r2.unavailable);
    expect(r2.steps).toBe(4);
    expect(r2.crossTokens).toBe(20);
    expect(r2.maxSlowestShare).toBe(0.75);
    expect(r2.stepTimeRatio).toBeCloseTo((2 + 1 + 3 + 1) / 4, 12);
    expect(r2.latest?.step).toBe(4);
  });

  it('a file rewritten from an earlier step (a restore) is summed again from the start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-cost-'));
    dirs.push(dir);
    writeFileSync(join(dir, FILES.steps), line(1, ep(0.5, 2, 10)) + line(2, ep(0.5, 2, 10)));
    expect(readRunCost(dir, config)).toMatchObject({ steps: 2, crossTokens: 20 });
    writeFileSync(join(dir, FILES.steps), line(1, ep(0.25, 1, 1)) + line(2, ep(0.25, 1, 1)) + line(3, ep(0.25, 1, 1)));
    expect(readRunCost(dir, config)).toMatchObject({ steps: 3, crossTokens: 3, stepTimeRatio: 1 });
  });

  it('reads a file a few bytes at a time with the same sums (lines split across chunks)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-cost-'));
    dirs.push(dir);
    const steps = Array.from({ length: 9 }, (_, i) => ep(0.25 + i / 40, 1 + i / 10, i));
    writeFileSync(join(dir, FILES.steps), steps.map((c, i) => line(i + 1, c)).join(''));
    const r = readRunCost(dir, config, 7);
    if ('unavailable' in r) throw new Error(r.unavailable);
    const want = runCost(steps, config.expertParallel.devices);
    expect(r.steps).toBe(9);
    expect(r.crossTokens).toBe(want.crossTokens);
    expect(r.stepTimeRatio).toBeCloseTo(want.stepTimeRatio, 12);
    expect(r.meanSlowestShare).toBeCloseTo(want.meanSlowestShare, 12);
    expect(r.latest?.step).toBe(9);
  });

  it('steps without cost figures say why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-cost-'));
    dirs.push(dir);
    writeFileSync(join(dir, FILES.steps), JSON.stringify({ step: 1, loss: 1 }) + '\n');
    expect(readRunCost(dir, config)).toEqual({ unavailable: expect.stringContaining('no cost-model figures') });
  });
});
