// Gradient accumulation from the window: a tiny run with 2 micro-batches per optimizer step shows MaxVio of
// the global batch and the micro-batches' mean as two series, and the heatmap counts the global batch's loads.
import { chart, expect, screenshot, test, waitForChart, waitForStatus } from './fixtures';

// tiny: 8 experts, top-2, 512 tokens per micro-batch → 1024 assignments per layer and micro-batch
const MICRO = 2;
const ASSIGNMENTS_PER_STEP = MICRO * 1024;
const STEPS = 8;

test.setTimeout(300_000);

test('micro-batches: the MaxVio chart has the global batch and the micro-batch mean, global ≤ mean', async ({ app: page }) => {
  await page.getByTestId('nav-new').click();
  await page.getByTestId('field-name').fill('e2e accumulation');
  await page.getByTestId('field-preset').selectOption('tiny');
  await page.getByTestId('data-synthetic').check();
  await page.getByTestId('field-steps').fill(String(STEPS));
  await page.locator('details summary', { hasText: 'Advanced' }).click();
  await page.getByTestId('field-evalEvery').fill('4');
  await page.getByTestId('field-checkpointEvery').fill('0');
  // the form refuses a fractional count in the field itself, before anything is sent
  await page.getByTestId('field-microBatches').fill('1.5');
  await expect(page.getByTestId('error-microBatches')).toBeVisible();
  await page.getByTestId('field-microBatches').fill(String(MICRO));
  await expect(page.getByTestId('error-microBatches')).toHaveCount(0);
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('live-run-view')).toBeVisible({ timeout: 30_000 });
  await waitForStatus(page, ['completed']);

  // each layer's row of the layer × expert heatmap sums to the global batch's assignments (k micro-batches)
  const heat = await waitForChart(page, 'layer-expert-heatmap');
  const cells = heat.series[0]!.data as Array<[number, number, number, number, number]>;
  for (const layer of [0, 1]) {
    const sum = cells.filter((c) => c[1] === layer).reduce((s, c) => s + c[3], 0);
    expect(sum).toBe(ASSIGNMENTS_PER_STEP);
  }

  await expect.poll(async () => (await chart(page, 'chart-maxvio'))?.series.find((s) => s.name === 'MaxVio per micro-batch (mean)')?.data.length ?? 0, { timeout: 30_000 }).toBe(STEPS);
  const maxvio = (await chart(page, 'chart-maxvio'))!;
  const global = maxvio.series.find((s) => s.name === 'MaxVio (global batch)')!.data as Array<[number, number]>;
  const micro = new Map((maxvio.series.find((s) => s.name === 'MaxVio per micro-batch (mean)')!.data as Array<[number, number]>).map(([s, v]) => [s, v]));
  expect(global).toHaveLength(STEPS);
  // max_e Σ_i load_ie / (k·ideal) ≤ mean_i max_e load_ie / ideal: summing micro-batches can only even loads out
  for (const [step, v] of global) expect(v).toBeLessThanOrEqual(micro.get(step)! + 1e-9);
  await screenshot(page, 'accumulation-run');
  await page.getByTestId('chart-maxvio').screenshot({ path: 'test-results/screenshots/accumulation-maxvio.png' });
});
