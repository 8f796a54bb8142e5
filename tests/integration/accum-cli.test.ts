// Gradient accumulation end to end: `loadscope train --micro-batches 2` on tiny records MaxVio of the global batch
// and per micro-batch (steps.jsonl, --json lines, `runs show --json`), and a bad k is one clear line.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempRunsDir } from './fixtures/service-helpers';
import { RunStore } from '../../src/main/store/run-store';
import type { RunReaderImpl } from '../../src/main/store/run-reader';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'loadscope.mjs');
const env = { ...process.env, LOADSCOPE_FROM_SOURCE: '1' };
const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, encoding: 'utf8', timeout: 200_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('loadscope train --micro-batches', () => {
  it('k = 2 on tiny: global-batch and micro-batch MaxVio in the step lines, steps.jsonl and the run summary', async () => {
    const r = cli(['train', '--preset', 'tiny', '--strategy', 'aux-loss', '--set', 'scope=global', '--micro-batches', '2', '--steps', '3', '--backend', 'wasm', '--eval-every', '0', '--checkpoint-every', '0', '--out', tmp.dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    const steps = lines.filter((l) => l.type === 'step');
    expect(steps.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const l of steps) expect(l.maxVio as number).toBeLessThanOrEqual((l.maxVioMicro as number) + 1e-9);
    const summary = lines.at(-1)!;
    const runId = summary.runId as string;
    const recorded = readFileSync(join(tmp.dir, runId, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const s of recorded) {
      // tiny: batch 8 × ctx 64 per micro-batch, two per step
      expect(s.tokens).toBe(2 * 8 * 64);
      expect(s.microBatches).toBe(2);
      expect(s.maxVioMicroL).toHaveLength(2);
      expect(s.maxVioMicro).toBeCloseTo((s.maxVioMicroL[0] + s.maxVioMicroL[1]) / 2, 9);
    }
    const shown = cli(['runs', 'show', runId, '--runs', tmp.dir, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const detail = JSON.parse(shown.stdout);
    expect(detail.config.microBatches).toBe(2);
    expect(detail.summary.avgMaxVioMicro).toBeCloseTo(recorded.reduce((a: number, s: { maxVioMicro: number }) => a + s.maxVioMicro, 0) / 3, 9);
    expect(detail.summary.avgMaxVio).toBeCloseTo(recorded.reduce((a: number, s: { maxVio: number }) => a + s.maxVio, 0) / 3, 9);
    // loads.bin's ideal load is the global batch's: top-2 · 2 · 512 tokens / 8 experts
    const reader = (await new RunStore(tmp.dir).open(runId)) as RunReaderImpl;
    try {
      expect(reader.idealLoad).toBe(256);
    } finally {
      reader.close();
    }
  }, 240_000);

  it('rejects k < 1 and fractions with one line naming the flag and the range', () => {
    for (const k of ['0', '1.5', 'two']) {
      const r = cli(['train', '--micro-batches', k, '--out', tmp.dir]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--micro-batches \(microBatches\): must be a whole number from 1 to 1024/);
    }
  }, 240_000);
});
