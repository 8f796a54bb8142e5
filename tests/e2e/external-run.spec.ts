// An external trainer (the Python RunWriter) appends steps while the page is open: the step count and the
// heatmap advance without a reload, there are no pause / stop controls, and starting `serve` during the
// write leaves the trainer's meta.json byte for byte as it was.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonWithTorch } from '../integration/fixtures/python';
import { chart, expect, liveStep, screenshot, startServe, test, waitForChart, type ServerHandle } from './fixtures';

const python = pythonWithTorch() ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : null);

test.setTimeout(240_000);

test('external run: live steps and heatmap from a Python writer; serve leaves meta.json untouched', async ({ page }) => {
  test.skip(!python, 'no python3 with numpy on this machine (apt-get install python3-numpy)');
  const runsDir = mkdtempSync(join(tmpdir(), 'loadscope-e2e-ext-'));
  const folder = join(runsDir, 'py-live');
  let writer: ChildProcess | null = null;
  let server: ServerHandle | null = null;
  try {
    writer = spawn(python!, ['python/examples/synthetic_run.py', folder, '--steps', '400', '--interval', '0.1', '--layers', '4', '--experts', '16', '--name', 'python live'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    writer.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    await expect.poll(() => (existsSync(join(folder, 'steps.jsonl')) ? readFileSync(join(folder, 'steps.jsonl'), 'utf8').split('\n').length : 0), { timeout: 30_000, message: err }).toBeGreaterThan(5);
    const metaBefore = readFileSync(join(folder, 'meta.json'));
    expect(JSON.parse(metaBefore.toString())).toMatchObject({ status: 'running', source: 'external' });

    server = await startServe(runsDir); // while the trainer writes: it must not "repair" or mark anything
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await expect(page.getByTestId('nav')).toBeVisible();
    await page.evaluate("location.hash = '#/run/py-live'");
    await expect(page.getByTestId('live-run-view')).toBeVisible();
    await expect(page.getByTestId('external-note')).toContainText('watching · written by synthetic');
    await expect(page.getByTestId('pause-button')).toHaveCount(0);
    await expect(page.getByTestId('stop-button')).toHaveCount(0);
    await expect(page.getByTestId('checkpoint-save')).toHaveCount(0);
    await expect(page.getByTestId('native-missing')).toHaveCount(0); // Loadscope's kernels say nothing about the trainer
    await expect(page.getByTestId('external-shape')).toContainText('seed unknown');

    const first = await waitForChart(page, 'layer-expert-heatmap');
    const step0 = await liveStep(page);
    expect(step0).toBeGreaterThan(0);
    // new steps arrive by themselves: no reload
    await expect.poll(() => liveStep(page), { timeout: 30_000 }).toBeGreaterThan(step0 + 10);
    const firstTitle = await page.getByTestId('layer-expert-heatmap').locator('h3').textContent();
    await expect.poll(() => page.getByTestId('layer-expert-heatmap').locator('h3').textContent(), { timeout: 30_000 }).not.toBe(firstTitle);
    const later = (await chart(page, 'layer-expert-heatmap'))!;
    expect(later.digest).not.toBe(first.digest);
    // 4 layers × 16 experts, each layer's loads sum to tokens·k = 4096·2
    const cells = later.series[0]!.data as Array<[number, number, number, number, number]>;
    expect(cells).toHaveLength(64);
    for (let l = 0; l < 4; l++) expect(cells.filter((c) => c[1] === l).reduce((a, c) => a + c[3], 0)).toBe(8192);
    await screenshot(page, 'external-run');

    expect(readFileSync(join(folder, 'meta.json')).equals(metaBefore)).toBe(true);
    expect(existsSync(join(folder, 'backup'))).toBe(false);
    expect(errors).toEqual([]);
  } finally {
    writer?.kill();
    if (server) {
      server.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
    }
    rmSync(runsDir, { recursive: true, force: true });
  }
});
