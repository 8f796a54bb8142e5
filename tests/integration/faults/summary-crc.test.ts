// Fault #5: the CRCs inside loads.sum16.bin are checked on read; a garbled block is rebuilt from
// loads.bin (heatmap values stay right) and the reader warns.
import { openSync, closeSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/run-store';
import { HEADER_BYTES, SUMMARY_PREFIX } from '../../../src/main/store/format';
import { tempRunsDir } from '../fixtures/service-helpers';
import { TINY, cli, lastLine } from './cli-helpers';

const tmp = tempRunsDir();
afterAll(() => tmp.cleanup());

/** Per-expert mean load of layer 0 over rows [a, b), from the one-column-per-step heatmap (loads.bin). */
function meanOfSteps(perStep: { mean: number[]; stepStarts: number[] }, E: number, a: number, b: number): number[] {
  const cols = perStep.stepStarts.length;
  return Array.from({ length: E }, (_, e) => {
    let s = 0;
    for (let c = a; c < b; c++) s += perStep.mean[e * cols + c]!;
    return s / (b - a);
  });
}

describe('5 summary CRC', () => {
  it('5 summary CRC: 64 flipped bytes in loads.sum16.bin are detected, the block rebuilt from loads.bin, with a warning', async () => {
    const r = cli(['train', ...TINY, '--steps', '32', '--checkpoint-every', '0', '--out', tmp.dir, '--json']);
    expect(r.code).toBe(0);
    const { runId, runDir } = JSON.parse(lastLine(r.stdout)) as { runId: string; runDir: string };
    const store = new RunStore(tmp.dir);

    // flip 64 bytes of block 0's layer-0 means
    const fd = openSync(join(runDir, 'loads.sum16.bin'), 'r+');
    const buf = Buffer.alloc(64);
    readSync(fd, buf, 0, 64, HEADER_BYTES + SUMMARY_PREFIX);
    for (let i = 0; i < 64; i++) buf[i] = buf[i]! ^ 0x5a;
    writeSync(fd, buf, 0, 64, HEADER_BYTES + SUMMARY_PREFIX);
    closeSync(fd);

    const reader = await store.open(runId);
    try {
      const E = reader.config.model.experts;
      const perStep = reader.heatmap(0, { maxColumns: 1000 });
      expect(perStep.stepStarts.length).toBe(32);
      const two = reader.heatmap(0, { maxColumns: 2 }); // two 16-step columns: read from loads.sum16.bin
      expect(two.stepStarts).toEqual([1, 17]);
      const want0 = meanOfSteps(perStep, E, 0, 16);
      const want1 = meanOfSteps(perStep, E, 16, 32);
      for (let e = 0; e < E; e++) {
        expect(two.mean[e * 2]).toBeCloseTo(want0[e]!, 4);
        expect(two.mean[e * 2 + 1]).toBeCloseTo(want1[e]!, 4);
      }
      expect(reader.warnings.join('\n')).toMatch(/loads\.sum16\.bin: block 0 fails its checksum/);
    } finally {
      reader.close();
    }
  }, 200_000);
});
