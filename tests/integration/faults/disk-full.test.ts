// Fault #1: a full disk. A 13 MiB tmpfs as the runs folder (real ENOSPC) and, where mounting is not
// allowed, the test-only LOADSCOPE_FAULT_ENOSPC_AFTER_BYTES hook: the run ends failed with the reason,
// only complete records stay, and it resumes once there is space.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/store/run-store';
import { TINY, allFiles, cli, hasStack, lastLine, mountTmpfs, range, remountTmpfs, stepsOf, umount } from './cli-helpers';

const base = mkdtempSync(join(tmpdir(), 'loadscope-diskfull-'));
const mnt = join(base, 'mnt');
const mounted = mountTmpfs(mnt, '13m');
afterAll(() => {
  if (mounted) umount(mnt);
  rmSync(base, { recursive: true, force: true });
});

/** The run folder is left with complete records only: no temp file, no lock, whole lines, no warnings. */
async function expectOnlyCompleteRecords(runsDir: string, runId: string): Promise<number[]> {
  const dir = join(runsDir, runId);
  const files = allFiles(dir);
  expect(files.filter((f) => f.includes('.tmp') || f === 'writer.lock')).toEqual([]);
  const steps = stepsOf(dir);
  expect(steps).toEqual(range(1, steps.length));
  const reader = await new RunStore(runsDir).open(runId);
  try {
    expect(reader.warnings).toEqual([]);
    expect(reader.lastStep).toBe(steps.length);
  } finally {
    reader.close();
  }
  return steps;
}

describe('1 disk full', () => {
  it.skipIf(!mounted)('1 disk full: a 300-step run on a 13 MiB tmpfs fails "no space left on device", keeps complete records, resumes after remount (skips where mount is not permitted)', async () => {
    const r = cli(['train', ...TINY, '--steps', '300', '--checkpoint-every', '40', '--out', mnt, '--json']);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.code).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/^loadscope: run failed: no space left on device/);
    const summary = JSON.parse(lastLine(r.stdout)) as { runId: string; status: string };
    expect(summary.status).toBe('failed');
    const meta = JSON.parse(readFileSync(join(mnt, summary.runId, 'meta.json'), 'utf8')) as { status: string; failure: string };
    expect(meta.status).toBe('failed');
    expect(meta.failure).toMatch(/no space left on device/);
    const steps = await expectOnlyCompleteRecords(mnt, summary.runId);
    expect(steps.length).toBeLessThan(300);

    expect(remountTmpfs(mnt, '64m')).toBe(true);
    const again = cli(['train', '--resume', join(mnt, summary.runId), '--steps', '300', '--json']);
    expect(again.stderr).not.toMatch(/run failed/);
    expect(again.code).toBe(0);
    expect(JSON.parse(lastLine(again.stdout))).toMatchObject({ status: 'completed', steps: 300 });
    expect(await expectOnlyCompleteRecords(mnt, summary.runId)).toEqual(range(1, 300));
  }, 400_000);

  it('1 disk full (injected ENOSPC): the second checkpoint fails, the run is failed with the reason, resume completes', async () => {
    const runs = join(base, 'injected');
    // a tiny checkpoint is ~5.4 MB: 8 MB lets the first one through and fails the second
    const r = cli(['train', ...TINY, '--steps', '20', '--checkpoint-every', '8', '--out', runs, '--json'], { LOADSCOPE_FAULT_ENOSPC_AFTER_BYTES: String(8e6) });
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.code).toBe(1);
    // the checkpoint's bytes exhaust the disk; training goes on meanwhile, so the first write refused is that
    // checkpoint or a step record after it (which one depends on speed: CI saw both)
    expect(lastLine(r.stderr)).toMatch(/^loadscope: run failed: no space left on device \(while writing (the checkpoint of step 16|step (1[6-9]|20))\b/);
    const { runId } = JSON.parse(lastLine(r.stdout)) as { runId: string };
    const meta = JSON.parse(readFileSync(join(runs, runId, 'meta.json'), 'utf8')) as { status: string; failure: string };
    expect(meta).toMatchObject({ status: 'failed' });
    expect(meta.failure).toMatch(/no space left on device/);
    await expectOnlyCompleteRecords(runs, runId);
    const again = cli(['train', '--resume', join(runs, runId), '--json']);
    expect(again.code).toBe(0);
    expect(await expectOnlyCompleteRecords(runs, runId)).toEqual(range(1, 20));
  }, 300_000);
});

describe('1 disk full (service)', () => {
  it('1 disk full (service): the app/server shows the run failed with the reason, its lock is gone, resume and delete work once there is space', async () => {
    const { composeServices } = await import('../../../src/main/services/compose');
    const { setFaultBudget, writerAlive } = await import('../../../src/main/store/fs-util');
    const { tinyConfig } = await import('../fixtures/service-helpers');
    const runs = join(base, 'service');
    const s = await composeServices({ runsDir: runs, log: () => undefined });
    try {
      // the injected disk takes the first checkpoint (~5.4 MB) and not the second
      setFaultBudget(8e6);
      const { runId } = await s.training.start(tinyConfig({ steps: 12, checkpointEvery: 4 }));
      expect(await s.training.waitFor(runId)).toBe('failed');
      const item = (await s.store.list()).find((r) => r.runId === runId)!;
      expect(item.status).toBe('failed');
      const reader = await s.store.open(runId);
      // the checkpoint of step 8 exhausts the disk: it, or a step record written after it, is refused first
      expect(reader.meta.failure).toMatch(/^no space left on device \(while writing (the checkpoint of step 8|step (8|9|1[0-2]))\b/);
      reader.close();
      expect(writerAlive(join(runs, runId))).toBe(false);
      expect(allFiles(join(runs, runId)).filter((f) => f.includes('.tmp') || f === 'writer.lock')).toEqual([]);

      setFaultBudget(null); // space is back
      await s.training.resumeFromCheckpoint(runId, 4);
      expect(await s.training.waitFor(runId)).toBe('completed');
      expect(stepsOf(join(runs, runId))).toEqual(range(1, 12));
      await s.store.delete(runId);
      expect((await s.store.list()).map((r) => r.runId)).not.toContain(runId);
    } finally {
      setFaultBudget(null);
      await s.dispose();
    }
  }, 200_000);
});
