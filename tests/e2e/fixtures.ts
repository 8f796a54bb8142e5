// Browser-test fixtures: one `loadscope serve` per worker on a temporary runs folder (the built app,
// so `npm run build` comes first), a page signed in through the printed URL, and helpers that read the
// charts' DATA (window.__loadscopeCharts) rather than pixels.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';

export interface ServerHandle {
  url: string;
  origin: string;
  runsDir: string;
  proc: ChildProcess;
}

/** Spawn `node bin/loadscope.mjs serve --port 0 --runs DIR` and wait for the printed address. */
export async function startServe(runsDir: string): Promise<ServerHandle> {
  const proc = spawn(process.execPath, ['bin/loadscope.mjs', 'serve', '--port', '0', '--runs', runsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`loadscope serve printed no address within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /(https?:\/\/\S+token=\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`loadscope serve exited (${code}) before printing its address:\n${output}`));
    });
  });
  return { url, origin: new URL(url).origin, runsDir, proc };
}

async function stopServe(s: ServerHandle): Promise<void> {
  if (s.proc.exitCode !== null) return;
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
}

export const test = base.extend<{ app: Page }, { server: ServerHandle }>({
  server: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const runsDir = mkdtempSync(join(tmpdir(), 'loadscope-e2e-'));
      const server = await startServe(runsDir);
      await use(server);
      await stopServe(server);
      rmSync(runsDir, { recursive: true, force: true });
    },
    { scope: 'worker', timeout: 90_000 },
  ],
  app: async ({ page, server }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // the token URL trades the token for a session cookie and redirects to the app
    await page.goto(server.url);
    await expect(page.getByTestId('nav')).toBeVisible();
    await use(page);
    expect(errors, 'uncaught errors in the page').toEqual([]);
  },
});
export { expect };

export type ChartSnapshot = { updates: number; digest: string; series: Array<{ name: string; type: string; data: unknown[] }>; visualMap: { min: number; max: number } | null; xLabels: string[]; yLabels: string[] };

export async function chart(page: Page, testid: string): Promise<ChartSnapshot | null> {
  return page.evaluate((id) => (globalThis as unknown as { __loadscopeCharts?: Record<string, ChartSnapshot> }).__loadscopeCharts?.[id] ?? null, testid);
}

/** Wait until a chart has data whose digest differs from `notDigest` (if given). */
export async function waitForChart(page: Page, testid: string, notDigest?: string, timeout = 60_000): Promise<ChartSnapshot> {
  await page.waitForFunction(
    ([id, not]) => {
      const c = (globalThis as unknown as { __loadscopeCharts?: Record<string, { digest: string; series: Array<{ data: unknown[] }> }> }).__loadscopeCharts?.[id!];
      return !!c && c.series.some((s) => s.data.length > 0) && c.digest !== not;
    },
    [testid, notDigest ?? ''] as const,
    { timeout },
  );
  return (await chart(page, testid))!;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join('test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

export interface RunFormInput {
  name: string;
  steps: number;
  strategy?: string;
  options?: Record<string, string>;
  seed?: number;
  checkpointEvery?: number;
}

/** Fill the new-run form, start, and return the new run's id (from the live view's address). */
export async function startRunFromForm(page: Page, r: RunFormInput): Promise<string> {
  await page.getByTestId('nav-new').click();
  await page.getByTestId('field-name').fill(r.name);
  await page.getByTestId('field-preset').selectOption('tiny');
  await page.getByTestId('data-synthetic').check();
  if (r.strategy) await page.getByTestId('field-strategy').selectOption(r.strategy);
  for (const [k, v] of Object.entries(r.options ?? {})) await page.getByTestId(`option-${k}`).fill(v);
  await page.getByTestId('field-steps').fill(String(r.steps));
  if (r.seed !== undefined) await page.getByTestId('field-seed').fill(String(r.seed));
  // small runs: validate and top-token sampling often enough to show up, checkpoints only when asked
  await page.locator('details summary', { hasText: 'Advanced' }).click();
  await page.getByTestId('field-evalEvery').fill('4');
  await page.getByTestId('field-checkpointEvery').fill(String(r.checkpointEvery ?? 0));
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('live-run-view')).toBeVisible({ timeout: 30_000 });
  const runId = await page.getByTestId('live-run-view').getAttribute('data-run-id');
  expect(runId).toBeTruthy();
  return runId!;
}

/** Wait for the live view's run to reach one of these statuses. */
export async function waitForStatus(page: Page, statuses: string[], timeout = 150_000): Promise<string> {
  await expect(page.getByTestId('live-run-view')).toHaveAttribute('data-status', new RegExp(`^(${statuses.join('|')})$`), { timeout });
  return (await page.getByTestId('live-run-view').getAttribute('data-status'))!;
}

export async function liveStep(page: Page): Promise<number> {
  return Number(await page.getByTestId('live-run-view').getAttribute('data-step'));
}
