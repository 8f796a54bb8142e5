// Issue 13 in the browser: lists follow a training run (checkpoint list, runs list step count), a queued run
// shows its place and can be cancelled, and Compare's Time is the sum of the run's step times, with the drop
// rate and the "drops tokens" flag. One training slot (settings.json), so the second run has to queue.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, screenshot, startRunFromForm, startServe, waitForChart, waitForStatus, type ServerHandle } from './fixtures';
import type { Page } from '@playwright/test';

const test = base.extend<object, { server: ServerHandle }>({
  server: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const root = mkdtempSync(join(tmpdir(), 'loadscope-e2e-lists-'));
      const runsDir = join(root, 'runs');
      mkdirSync(runsDir);
      // settings live beside the runs folder: one slot, whatever this machine's core count
      writeFileSync(join(root, 'settings.json'), JSON.stringify({ maxConcurrentRuns: 1 }));
      const server = await startServe(runsDir);
      await use(server);
      server.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
    { scope: 'worker', timeout: 90_000 },
  ],
});

test.setTimeout(420_000);

const stepsCell = async (page: Page, runId: string) => {
  const text = (await page.getByTestId(`run-row-${runId}`).getByTestId('cell-steps').textContent()) ?? '';
  return Number(text.split('/')[0]!.trim());
};

test('live lists, a queued run cancelled, Compare time = Σ step times', async ({ app: page, server }) => {
  // a capacity run (factor 1 drops tokens) with a checkpoint every 10 steps, long enough to be still training
  // through the queue checks below at the fused kernels' tens of steps per second (the test stops it)
  const a = await startRunFromForm(page, { name: 'e2e drops', steps: 4000, strategy: 'capacity', options: { capacityFactor: '1' }, seed: 2, checkpointEvery: 10 });
  await waitForStatus(page, ['running']);

  // the checkpoint list shows a periodic checkpoint while the run is still training (any multiple of 10: only
  // the newest 3 are kept, and at tens of steps per second step 10's is pruned before the list may refresh)
  await expect(page.getByTestId(/^checkpoint-[1-9]\d*0$/).first()).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('live-run-view')).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('run-drops-flag')).toBeVisible();
  await expect(page.getByTestId('balance-curves')).toBeVisible();
  // gate mass beside hard load: both are shares of one layer's 8 experts, each summing to 1
  const gate = await waitForChart(page, 'chart-gate-mass');
  for (const series of gate.series.slice(0, 2)) {
    const ys = (series.data as Array<[number, number]>).map((p) => p[1]);
    expect(ys).toHaveLength(8);
    expect(ys.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }
  const balance = await waitForChart(page, 'chart-balance');
  expect(balance.series.map((x) => x.name)).toEqual(['routed MaxVio', 'demanded MaxVio', 'demanded AvgMaxVio', 'drop rate']);
  await screenshot(page, 'lists-live-checkpoint');

  // a second run waits for the only slot: its view says where it is in the queue
  const b = await startRunFromForm(page, { name: 'e2e queued', steps: 10, strategy: 'none', seed: 1 });
  await expect(page.getByTestId('queued-position')).toHaveText('queued (position 1)', { timeout: 30_000 });
  await expect(page.getByTestId('stop-button')).toHaveText(/Cancel/);

  // the runs list: the training run's step count moves without a reload; the queued one shows its place
  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId(`run-row-${b}`).getByTestId('queue-position')).toHaveText('queued (position 1)');
  const s1 = await stepsCell(page, a);
  await expect.poll(() => stepsCell(page, a), { timeout: 60_000 }).toBeGreaterThan(s1);
  await expect(page.getByTestId(`run-row-${a}`).getByTestId('drops-flag')).toBeVisible();
  await screenshot(page, 'lists-runs-live-queued');

  // cancel the queued run from the list: it ends stopped, having trained nothing
  await page.getByTestId(`run-row-${b}`).getByTestId('cancel-queued').click();
  await expect(page.getByTestId(`run-row-${b}`)).toContainText(/stopped/, { timeout: 30_000 });
  await expect(page.getByTestId(`run-row-${b}`).getByTestId('queue-position')).toHaveCount(0);
  await expect(page.getByTestId(`run-row-${b}`).getByTestId('cell-steps')).toHaveText(/^0 \/ 10$/);

  // stop the training run, then compare the two
  await page.getByTestId(`run-row-${a}`).getByTestId('run-link').click();
  await page.getByTestId('stop-button').click();
  await waitForStatus(page, ['stopped']);
  await page.getByTestId('nav-runs').click();
  await page.getByTestId(`select-${a}`).check();
  await page.getByTestId(`select-${b}`).check();
  await page.getByTestId('compare-selected').click();
  const row = page.getByTestId(`compare-row-${a}`);
  await expect(row.getByTestId('compare-drops-flag')).toBeVisible({ timeout: 30_000 });

  // Time is the sum of the step times in steps.jsonl (no queue, no pause); Wall is shown apart
  const steps = readFileSync(join(server.runsDir, a, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { timing: { totalMs: number }; dropRate: number });
  const sumMs = steps.reduce((s, r) => s + r.timing.totalMs, 0);
  const shownMs = Number(await row.getByTestId('compare-time').getAttribute('data-ms'));
  expect(shownMs).toBeCloseTo(sumMs, 3);
  await expect(row.getByTestId('compare-time')).toHaveText(sumMs < 60_000 ? `${(sumMs / 1000).toFixed(1)} s` : /min/);
  const meanDrop = steps.reduce((s, r) => s + r.dropRate, 0) / steps.length;
  expect(meanDrop).toBeGreaterThan(0);
  await expect(row.getByTestId('compare-droprate')).toHaveText(`${(100 * meanDrop).toFixed(1)} %`);
  await expect(page.getByTestId(`compare-row-${b}`).getByTestId('compare-drops-flag')).toHaveCount(0);
  await screenshot(page, 'lists-compare');
});
