// Faults #2 and #7: concurrent writers of one run folder (exclusive lock) and concurrent checkpoints of one
// step (a temp file of their own each).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/run-store';
import { readCheckpointFile } from '../../../src/main/store/checkpoint-io';
import { tempRunsDir, tinyConfig } from '../fixtures/service-helpers';
import { resolveRunConfig } from '../../../src/shared/run-config';
import { TINY, cli, cliAsync, hasStack, lastLine, range, stepsOf } from './cli-helpers';

const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

describe('2 concurrent writers', () => {
  it('2 concurrent writers: of 4 simultaneous train --resume exactly one writes, the others get one clear line', async () => {
    const first = cli(['train', ...TINY, '--steps', '8', '--checkpoint-every', '4', '--out', tmp.dir, '--json']);
    expect(first.code).toBe(0);
    const { runDir } = JSON.parse(lastLine(first.stdout)) as { runDir: string };
    const results = await Promise.all(range(1, 4).map(() => cliAsync(['train', '--resume', runDir, '--checkpoint', '8', '--steps', '12', '--json'])));
    const winners = results.filter((r) => r.code === 0);
    expect(winners.length).toBe(1);
    for (const r of results.filter((x) => x.code !== 0)) {
      expect(hasStack(r.stderr)).toBe(false);
      expect(lastLine(r.stderr)).toMatch(/^loadscope: (run \S+ is being written by another training|--checkpoint: .*|--steps .*)$/);
    }
    // one writer: each step exactly once
    expect(stepsOf(runDir)).toEqual(range(1, 12));
  }, 300_000);
});

describe('7 unique temp names', () => {
  it('7 unique temp names: 10 concurrent checkpoints of one step all succeed and leave no temp file', async () => {
    const store = new RunStore(tmp.dir);
    const res = resolveRunConfig(tinyConfig());
    if (!res.ok) throw new Error('tiny config does not resolve');
    const writer = await store.create(res.config);
    const data = new Float32Array(1 << 18).map((_, i) => i);
    const results = await Promise.allSettled(
      range(1, 10).map((i) => writer.writeCheckpoint({ step: 5, arrays: [{ name: 'w', shape: [data.length], dtype: 'float32', data }], meta: { call: i } }, 'manual')),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill('fulfilled'));
    const ckpt = await readCheckpointFile(join(tmp.dir, writer.runId), 5);
    expect(Array.from(ckpt.arrays[0]!.data.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(readdirSync(join(tmp.dir, writer.runId, 'checkpoints'))).toEqual(['step-0000000005.ckpt']);
    await writer.close();
  });
});
