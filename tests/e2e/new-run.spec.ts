// The new-run form: options generated from the strategy descriptors, field-level messages from the shared
// zod schema, and the server's own check of a dataset file (inspectDataFile).
import { expect, screenshot, test } from './fixtures';

test('the form validates each field and shows the strategy options with their ranges', async ({ app: page }) => {
  await page.getByTestId('nav-new').click();
  await expect(page.getByTestId('new-run-view')).toBeVisible();

  // steps: not a number, then out of range (schema: integer in [1, 10,000,000])
  await page.getByTestId('field-steps').fill('abc');
  await expect(page.getByTestId('error-steps')).toContainText('not a number');
  await page.getByTestId('field-steps').fill('0');
  await expect(page.getByTestId('error-steps')).toBeVisible();
  await page.getByTestId('field-steps').fill('1.5');
  await expect(page.getByTestId('error-steps')).toBeVisible();
  await page.getByTestId('field-steps').fill('40');
  await expect(page.getByTestId('error-steps')).toHaveCount(0);

  // z-loss is a coefficient in [0, 1]
  await page.getByTestId('field-zLoss').fill('2');
  await expect(page.getByTestId('error-zLoss')).toBeVisible();
  await page.getByTestId('field-zLoss').fill('0.001');
  await expect(page.getByTestId('error-zLoss')).toHaveCount(0);

  // BIP's options come from its descriptor: T is an integer in [1, 64] with default 4
  await page.getByTestId('field-strategy').selectOption('bip');
  await expect(page.getByTestId('option-T')).toHaveValue('4');
  await expect(page.getByTestId('option-clipP')).toBeChecked();
  await expect(page.getByTestId('option-clipQ')).toBeChecked();
  await expect(page.getByTestId('option-route')).toHaveValue('current');
  await expect(page.getByText('integer in [1, 64], default 4')).toBeVisible();
  await page.getByTestId('option-T').fill('0');
  await expect(page.getByTestId('error-strategyOptions.T')).toContainText('outside [1, 64]');
  await page.getByTestId('option-T').fill('2.5');
  await expect(page.getByTestId('error-strategyOptions.T')).toContainText('integer');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('form-invalid')).toBeVisible();
  await expect(page.getByTestId('live-run-view')).toHaveCount(0);
  await page.getByTestId('option-T').fill('8');
  await expect(page.getByTestId('error-strategyOptions.T')).toHaveCount(0);

  // switching strategy swaps the generated options (capacity: factor and drop policy)
  await page.getByTestId('field-strategy').selectOption('capacity');
  await expect(page.getByTestId('option-T')).toHaveCount(0);
  await expect(page.getByTestId('option-capacityFactor')).toHaveValue('1.25');
  await expect(page.getByTestId('option-dropPolicy')).toHaveValue('probs');
  await screenshot(page, 'new-run-form');

  // a file dataset: the browser has no file picker path, so the path is checked by the server
  await page.getByTestId('data-file').check();
  await page.getByTestId('data-path').fill('/definitely/not/here.txt');
  await page.getByTestId('data-check').click();
  await expect(page.getByTestId('error-data.path')).toBeVisible();
  await screenshot(page, 'new-run-form-errors');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('live-run-view')).toHaveCount(0);
});
