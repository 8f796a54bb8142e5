// Issue 13 acceptance: capacity dropping at factor 1 on real text no longer reads as perfect balance. The exact
// CLI command of the issue, checked against the per-step lines and the stored steps.jsonl.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempRunsDir } from './fixtures/service-helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');
const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1' };
const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

describe('train --strategy capacity --set capacityFactor=1 (issue 13)', () => {
  it('reports the drop rate and the demanded MaxVio, consistent with every step', () => {
    const args = ['train', '--preset', 'tiny', '--strategy', 'capacity', '--set', 'capacityFactor=1', '--steps', '40', '--data', 'corpus', '--json', '--out', tmp.dir];
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, encoding: 'utf8', timeout: 240_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    const summary = lines.at(-1)!;
    expect(summary.type).toBe('summary');
    expect(summary.dropRate).toBeGreaterThan(0.2);
    expect(summary.demandAvgMaxVio).toBeGreaterThan(0);
    expect(summary.demandSupMaxVio).toBeGreaterThanOrEqual(summary.demandAvgMaxVio as number);

    // recompute from the stored steps: drop rate = Σ dropped ÷ (L·k·T) per step, then the mean over steps
    const dir = summary.runDir as string;
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: { layers: number; topK: number; batch: number; ctx: number } };
    const { layers: L, topK: K, batch, ctx } = config.model;
    const steps = readFileSync(join(dir, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(steps).toHaveLength(40);
    let dropSum = 0;
    let demandSum = 0;
    let timeSum = 0;
    for (const s of steps) {
      const rate = (s.dropped as number) / (L * K * batch * ctx);
      expect(s.dropRate as number).toBeCloseTo(rate, 9);
      dropSum += rate;
      demandSum += s.demandMaxVio as number;
      timeSum += (s.timing as { totalMs: number }).totalMs;
      // capacity keeps at most C = ⌈k·T/E⌉ per expert, so the routed MaxVio is 0 while the demand is not
      expect(s.maxVio).toBe(0);
      expect(s.demandMaxVio as number).toBeGreaterThan(0);
      expect((s.loadsLE as undefined)).toBeUndefined();
      expect((s.demandLoadsLE as number[]).reduce((a, b) => a + b, 0)).toBe(L * K * batch * ctx);
    }
    expect(summary.dropRate as number).toBeCloseTo(dropSum / 40, 9);
    expect(summary.demandAvgMaxVio as number).toBeCloseTo(demandSum / 40, 9);
    // training time is the sum of the step times; wall time is at least that
    expect(summary.trainMs as number).toBeCloseTo(timeSum, 3);
    expect(summary.wallMs as number).toBeGreaterThanOrEqual(timeSum);

    // runs show: the same summary and the configuration, as JSON and as text; runs list flags the drops
    const runsCli = (...a: string[]) => spawnSync(process.execPath, [bin, 'runs', ...a, '--runs', tmp.dir], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
    const shown = JSON.parse(runsCli('show', summary.runId as string, '--json').stdout) as { summary: Record<string, number>; config: { strategy: string; strategyOptions: Record<string, number>; data: { kind: string } } };
    expect(shown.summary.dropRate).toBe(summary.dropRate);
    expect(shown.summary.demandAvgMaxVio).toBe(summary.demandAvgMaxVio);
    expect(shown.config).toMatchObject({ strategy: 'capacity', strategyOptions: { capacityFactor: 1 }, data: { kind: 'corpus' } });
    const text = runsCli('show', summary.runId as string).stdout;
    expect(text).toMatch(/DROPS TOKENS \d+\.\d%/);
    expect(text).toMatch(/strategy\s+capacity \(capacityFactor=1, dropPolicy=probs\)/);
    expect(text).toMatch(/preset\s+tiny: 2 layers × 8 experts, top-2/);
    expect(text).toMatch(/data\s+built-in text corpus/);
    expect(text).toMatch(/seed\s+1/);
    expect(runsCli('list').stdout).toMatch(new RegExp(`${summary.runId as string}.*\\d+\\.\\d%!`));
  }, 300_000);
});
