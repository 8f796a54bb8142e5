// Two finished runs: the runs list (search, rename, tag, delete with confirmation) and Compare (overlaid
// curves, synchronized layer / step / colour scale, the summary table).
import { chart, expect, screenshot, startRunFromForm, test, waitForChart, waitForStatus } from './fixtures';

// two short runs (tiny trains at a few steps per second here)
const STEPS = 8;
test.setTimeout(420_000);

test('runs list and compare two finished runs', async ({ app: page }) => {
  const a = await startRunFromForm(page, { name: 'e2e compare none', steps: STEPS, strategy: 'none', seed: 5 });
  await waitForStatus(page, ['completed']);
  const b = await startRunFromForm(page, { name: 'e2e compare loss-free', steps: STEPS, strategy: 'loss-free', seed: 5 });
  await waitForStatus(page, ['completed']);

  // runs list: both runs with their headline metrics
  await page.getByTestId('nav-runs').click();
  const rowA = page.getByTestId(`run-row-${a}`);
  const rowB = page.getByTestId(`run-row-${b}`);
  await expect(rowA).toContainText('completed');
  await expect(rowB).toContainText('loss-free');
  await expect(rowA.getByTestId('cell-avgmaxvio')).toHaveText(/^\d/);

  // search narrows the list
  await page.getByTestId('runs-search').fill('loss-free');
  await expect(rowA).toHaveCount(0);
  await expect(rowB).toBeVisible();
  await page.getByTestId('runs-search').fill('');

  // rename and tag
  await rowA.getByTestId('rename-button').click();
  await page.getByTestId('rename-input').fill('baseline top-k');
  await page.getByTestId('rename-input').press('Enter');
  await expect(rowA.getByTestId('run-link')).toHaveText('baseline top-k');
  await rowA.getByTestId('tag-button').click();
  await page.getByTestId('tags-input').fill('baseline, e2e');
  await page.getByTestId('tags-input').press('Enter');
  await expect(rowA.locator('.tag')).toHaveText(['baseline', 'e2e']);
  await page.getByTestId('runs-search').fill('baseline');
  await expect(rowB).toHaveCount(0);
  await page.getByTestId('runs-search').fill('');
  await screenshot(page, 'runs-list');

  // compare the two
  await page.getByTestId(`select-${a}`).check();
  await page.getByTestId(`select-${b}`).check();
  await page.getByTestId('compare-selected').click();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.getByTestId('compare-table').locator('tbody tr')).toHaveCount(2);
  // same preset, data, steps, validation and (now for loss-free too) the same softmax gate: nothing to warn about
  await expect(page.getByTestId('compare-warnings')).toHaveCount(0);

  // overlaid loss: one series per run, every step of each
  const loss = await waitForChart(page, 'compare-loss');
  expect(loss.series.map((s) => s.name)).toEqual(['baseline top-k', 'e2e compare loss-free']);
  for (const s of loss.series) expect(s.data).toHaveLength(STEPS);
  const maxvio = await waitForChart(page, 'compare-maxvio');
  expect(maxvio.series).toHaveLength(4); // AvgMaxVio and SupMaxVio of each run

  // synchronized heatmaps: the same colour scale on both, the same layer, the same step
  const h0 = await waitForChart(page, 'compare-heatmap-0');
  const h1 = await waitForChart(page, 'compare-heatmap-1');
  expect(h0.visualMap).toEqual(h1.visualMap);
  await page.getByTestId('compare-layer').selectOption('1');
  for (const i of [0, 1]) await expect.poll(async () => (await chart(page, `compare-expert-step-${i}`))?.series[0]?.name).toContain('layer 1');
  const slider = page.getByTestId('compare-step');
  const min = Number(await slider.getAttribute('min'));
  const target = min + 3;
  await slider.fill(String(target));
  await slider.dispatchEvent('change');
  await expect(page.getByTestId('compare-step-value')).toHaveText(String(target));
  for (const i of [0, 1]) await expect(page.getByTestId(`compare-heatmap-${i}`).locator('h3')).toContainText(`step ${target}`);
  await screenshot(page, 'compare');

  // delete asks first; cancel keeps the run, confirm removes it
  await page.getByTestId('nav-runs').click();
  await rowB.getByTestId('delete-button').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await page.getByTestId('confirm-cancel').click();
  await expect(rowB).toBeVisible();
  await rowB.getByTestId('delete-button').click();
  await page.getByTestId('confirm-ok').click();
  await expect(rowB).toHaveCount(0);
  await expect(rowA).toBeVisible();
});
