// The expert-parallel cost model on screen (run view panel, Compare's cost table), a custom model shape from the
// New run form (accepted, and rejected with a message naming the field), and Compare's warning when the gate differs.
import type { Page } from '@playwright/test';
import { expect, screenshot, test, waitForStatus } from './fixtures';

test.setTimeout(420_000);

async function startTiny(page: Page, name: string, scoreFn: 'softmax' | 'sigmoid'): Promise<string> {
  await page.getByTestId('nav-new').click();
  await page.getByTestId('field-name').fill(name);
  await page.getByTestId('field-preset').selectOption('tiny');
  await page.getByTestId('data-synthetic').check();
  await page.getByTestId('field-scoreFn').selectOption(scoreFn);
  await page.getByTestId('field-steps').fill('6');
  await page.locator('details summary', { hasText: 'Advanced' }).click();
  await page.getByTestId('field-evalEvery').fill('3');
  await page.getByTestId('field-checkpointEvery').fill('0');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('live-run-view')).toBeVisible({ timeout: 30_000 });
  return (await page.getByTestId('live-run-view').getAttribute('data-run-id'))!;
}

test('a custom shape from the form: bad values named per field, a good one trains and shows its cost model', async ({ app: page }) => {
  await page.getByTestId('nav-new').click();
  await page.getByTestId('field-preset').selectOption('custom');
  await expect(page.getByTestId('custom-shape')).toBeVisible();
  // starts from tiny's shape
  await expect(page.getByTestId('field-model-experts')).toHaveValue('8');
  await page.getByTestId('field-model-layers').fill('100');
  await expect(page.getByTestId('error-model-layers')).toHaveText('must be a whole number from 1 to 48');
  await page.getByTestId('field-model-layers').fill('x');
  await expect(page.getByTestId('error-model-layers')).toContainText('not a number');
  await page.getByTestId('field-model-layers').fill('1');
  await expect(page.getByTestId('error-model-layers')).toHaveCount(0);
  // cross-field checks come from resolveRunConfig, the same as the CLI's
  await page.getByTestId('field-model-experts').fill('4');
  await page.getByTestId('field-model-topK').fill('4');
  await expect(page.getByTestId('error-model-topK')).toHaveText('top-k 4 must be below the number of experts 4');
  await page.getByTestId('field-model-topK').fill('1');
  await page.getByTestId('field-model-heads').fill('3');
  await expect(page.getByTestId('error-model-heads')).toHaveText('dModel 64 must be divisible by heads 3');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('form-invalid')).toBeVisible();
  await expect(page.getByTestId('live-run-view')).toHaveCount(0);
  await screenshot(page, 'new-run-custom-shape-errors');

  await page.getByTestId('field-model-heads').fill('2');
  for (const [k, v] of Object.entries({ dModel: '32', ctx: '32', batch: '4', expertHidden: '64' })) await page.getByTestId(`field-model-${k}`).fill(v);
  await expect(page.locator('[data-testid^="error-model-"]')).toHaveCount(0);
  await page.getByTestId('field-name').fill('e2e custom shape');
  await page.getByTestId('data-synthetic').check();
  await page.getByTestId('field-steps').fill('6');
  await page.locator('details summary', { hasText: 'Advanced' }).click();
  await page.getByTestId('field-evalEvery').fill('3');
  await page.getByTestId('field-checkpointEvery').fill('0');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('live-run-view')).toBeVisible({ timeout: 30_000 });
  await waitForStatus(page, ['completed']);
  await expect(page.getByTestId('live-run-view')).toContainText('custom · 1 layers × 4 experts, top-1');

  // the cost model: 4 devices (min(4, experts)), a ratio ≥ 1, a slowest share ≥ 1/4, whole numbers of tokens
  const panel = page.getByTestId('cost-model');
  await expect(panel.getByTestId('cost-devices')).toHaveText('4');
  await expect(panel.getByTestId('cost-run')).toContainText('run (6 steps)');
  const ratio = Number((await panel.getByTestId('cost-run-ratio').innerText()).replace('×', ''));
  expect(ratio).toBeGreaterThanOrEqual(1);
  expect(ratio).toBeLessThanOrEqual(4);
  const share = parseFloat(await panel.getByTestId('cost-run-share').innerText());
  expect(share).toBeGreaterThanOrEqual(25);
  // share and ratio are the same figure in two units for one layer: ratio = D × share
  expect(ratio).toBeCloseTo((4 * share) / 100, 2);
  // 6 steps × 4·32 tokens × top-1: at most 768 assignments, and a token's expert is elsewhere for most of them
  const cross = Number(await panel.getByTestId('cost-run-cross').innerText());
  expect(cross).toBeGreaterThan(0);
  expect(cross).toBeLessThanOrEqual(768);
  await expect(panel.getByTestId('cost-latest')).toContainText('latest step (6)');
  await expect(panel.getByTestId('cost-latest-ratio')).toHaveText(/^×\d/);
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'run-cost-model');
});

test('Compare: cost columns for each run, and a warning when the runs differ in gate', async ({ app: page }) => {
  const a = await startTiny(page, 'e2e gate softmax', 'softmax');
  await waitForStatus(page, ['completed']);
  const b = await startTiny(page, 'e2e gate sigmoid', 'sigmoid');
  await waitForStatus(page, ['completed']);
  await page.goto(`${new URL(page.url()).origin}/#/compare?runs=${a},${b}`);
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.getByTestId('compare-warnings')).toBeVisible();
  await expect(page.getByTestId('compare-warning-gate')).toContainText('softmax');
  await expect(page.getByTestId('compare-warning-gate')).toContainText('sigmoid');
  // nothing else differs
  await expect(page.getByTestId('compare-warnings').locator('li')).toHaveCount(1);
  for (const id of [a, b]) {
    const row = page.getByTestId(`compare-cost-row-${id}`);
    const ratio = Number((await row.getByTestId('compare-cost-ratio').innerText()).replace('×', ''));
    expect(ratio).toBeGreaterThanOrEqual(1);
    expect(ratio).toBeLessThanOrEqual(4);
    expect(Number(await row.getByTestId('compare-cost-cross').innerText())).toBeGreaterThan(0);
  }
  await screenshot(page, 'compare-cost-gate-warning');
});
