// The window around the screens: empty state, keyboard shortcuts, help overlay, theme (persisted), and the
// disconnected banner with automatic reconnect.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, screenshot, startServe, test, type ServerHandle } from './fixtures';

let empty: ServerHandle;
test.beforeAll(async () => {
  empty = await startServe(mkdtempSync(join(tmpdir(), 'loadscope-e2e-empty-')));
});
test.afterAll(async () => {
  empty.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(empty.runsDir, { recursive: true, force: true });
});

test('empty state, shortcuts, help and theme', async ({ page }) => {
  await page.goto(empty.url);
  await expect(page.getByTestId('runs-empty')).toContainText('No runs yet — start one');
  await screenshot(page, 'runs-empty');

  await page.keyboard.press('n');
  await expect(page.getByTestId('new-run-view')).toBeVisible();
  // typing in a field is not a shortcut
  await page.getByTestId('field-name').fill('rc');
  await expect(page.getByTestId('new-run-view')).toBeVisible();
  await page.getByTestId('field-name').blur();
  await page.keyboard.press('c');
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.getByTestId('compare-empty')).toBeVisible();
  await page.keyboard.press('r');
  await expect(page.getByTestId('runs-view')).toBeVisible();

  await page.keyboard.press('Shift+?');
  await expect(page.getByTestId('help-overlay')).toContainText('new run');
  await screenshot(page, 'help-overlay');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help-overlay')).toHaveCount(0);

  const themeNow = await page.locator('html').getAttribute('data-theme');
  await page.keyboard.press('t');
  const flipped = themeNow === 'dark' ? 'light' : 'dark';
  await expect(page.locator('html')).toHaveAttribute('data-theme', flipped);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', flipped);
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', themeNow!);
});

test('a dropped connection shows the banner and reconnects', async ({ page }) => {
  const sockets: Array<{ close: () => Promise<void> }> = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    ws.connectToServer();
    sockets.push(ws);
  });
  await page.goto(empty.url);
  await expect(page.getByTestId('runs-empty')).toBeVisible();
  await expect(page.getByTestId('disconnected-banner')).toHaveCount(0);
  await sockets.at(-1)!.close();
  await expect(page.getByTestId('disconnected-banner')).toBeVisible();
  await screenshot(page, 'disconnected');
  // the client reconnects on its own (backoff starts at 0.5 s) and the banner goes away
  await expect(page.getByTestId('disconnected-banner')).toHaveCount(0, { timeout: 15_000 });
  expect(sockets.length).toBeGreaterThanOrEqual(2);
  await page.keyboard.press('n');
  await expect(page.getByTestId('new-run-view')).toBeVisible();
});
