// Kill a writing process with SIGKILL mid-append and reopen its run: every complete step is there, the torn
// one is gone, and the warnings say so.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../../src/main/store/run-store';
import { loadOf } from './fixtures/store-loads';
import { stepReport, tempRoot } from '../unit/store/helpers';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ root, cleanup } = tempRoot()));
afterEach(() => cleanup());

/** Start the fixture, wait until stdout matches `until`, SIGKILL it; resolves with its run id. */
function runAndKill(mode: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/integration/fixtures/store-writer.ts', root, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let runId = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      runId ||= /run (\S+)/.exec(out)?.[1] ?? '';
      if (until.test(out) && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' && runId ? resolve(runId) : reject(new Error(`writer exited without being killed: ${err}`))));
  });
}

/** every step 1..last has exactly the fixture's loads */
function expectComplete(r: Awaited<ReturnType<RunStore['open']>>): void {
  const rows = r.loadRows(1, r.lastStep);
  rows.forEach((row, i) => expect(Array.from(row)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((c) => loadOf(i + 1, c >> 2, c & 3))));
  expect(r.scalars({ maxPoints: 100_000 }).steps).toEqual(Array.from({ length: r.lastStep }, (_, i) => i + 1));
}

describe('store survives SIGKILL', () => {
  it('a deliberately torn step 41 is dropped with warnings; steps 1–40 are intact; the run can continue', async () => {
    const runId = await runAndKill('torn', /torn 40/);
    const store = new RunStore(root);
    const r = await store.open(runId);
    expect(r.lastStep).toBe(40);
    const w = r.warnings.join('\n');
    expect(w).toMatch(/loads\.bin: dropped a torn record of 20 bytes at the end .* after step 40/);
    expect(w).toMatch(/steps\.jsonl: dropped a torn last line \(21 bytes/);
    expect(w).toMatch(/status says running but no writer is alive/);
    expectComplete(r);
    r.close();
    const [item] = await store.list();
    expect([item!.status, item!.steps]).toEqual(['running', 40]);
    expect(await store.markCrashedRuns()).toEqual([runId]);
    // continuing moves the torn bytes into backup/ and appends step 41 after step 40
    const writer = await store.openWriter(runId);
    writer.appendStep(stepReport(41, 2, 4, loadOf));
    await writer.close();
    const r2 = await store.open(runId);
    expect([r2.lastStep, r2.warnings]).toEqual([41, []]);
    expectComplete(r2);
    r2.close();
    const backup = readFileSync(join(root, runId, 'backup', readdirSync(join(root, runId, 'backup'))[0]!, 'steps.jsonl'), 'utf8');
    expect(backup).toBe('{"step":41,"loss":4.9');
  });

  it('a kill at a random point of a tight append loop loses nothing but a possibly torn last step', async () => {
    const runId = await runAndKill('loop', /progress (4|6|8)00/);
    const store = new RunStore(root);
    const r = await store.open(runId);
    expect(r.lastStep).toBeGreaterThanOrEqual(400);
    // whatever was mid-write is named in a warning; everything before it is complete and exact
    for (const w of r.warnings) expect(w).toMatch(/torn|no writer is alive|never written/);
    expect(r.warnings.join('\n')).toMatch(/no writer is alive/);
    expectComplete(r);
    r.close();
  });
});
