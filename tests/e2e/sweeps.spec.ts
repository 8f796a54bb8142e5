// Sweeps in the browser on real tiny runs: the New sweep form queues a 2 strategies × 2 seeds grid, the sweep
// view tables them (grouped, paired), the grouped curves draw bands, smoothing changes the drawn series,
// zoom on one curve moves the others, and an exported SVG holds the title and every legend entry.
import { readFileSync } from 'node:fs';
import { chart, expect, screenshot, test, waitForChart } from './fixtures';
import { runColor } from '../../src/renderer/src/charts/run-colors';

test.describe.configure({ mode: 'serial' });
/** the sweep's run ids, for the Compare test that follows */
let sweepRuns: string[] = [];

test('a sweep from the form: table, grouped stats, bands, smoothing, shared zoom, SVG export', async ({ app: page }) => {
  test.setTimeout(420_000);
  await page.getByTestId('nav-sweeps').click();
  await expect(page.getByTestId('sweeps-view')).toBeVisible();
  await page.getByTestId('sweep-name').fill('e2e sweep');
  await page.getByTestId('sweep-preset').selectOption('tiny');
  await page.getByTestId('sweep-seeds').fill('1,2');
  await page.getByTestId('sweep-steps').fill('10');
  await page.getByTestId('sweep-eval').fill('5');
  await page.getByTestId('sweep-backend').selectOption('wasm');
  // an option no chosen strategy has is refused before anything starts
  await page.getByTestId('sweep-options').fill('capacityFactor=1,2');
  await expect(page.getByTestId('sweep-form-errors')).toContainText('has an option "capacityFactor"');
  await expect(page.getByTestId('sweep-start')).toBeDisabled();
  await page.getByTestId('sweep-options').fill('');
  await expect(page.getByTestId('sweep-start')).toHaveText('Start 4 runs');
  await screenshot(page, 'sweep-form');
  await page.getByTestId('sweep-start').click();

  const view = page.getByTestId('sweep-view');
  await expect(view).toBeVisible({ timeout: 30_000 });
  await expect(view).toHaveAttribute('data-completed', '4', { timeout: 360_000 });
  await expect(page.getByTestId('sweep-row')).toHaveCount(4);
  await expect(page.getByTestId('sweep-group-row')).toHaveCount(2);
  await expect(page.getByTestId('sweep-paired-row')).toHaveCount(1);
  await expect(page.getByTestId('sweep-paired-row')).toContainText('loss-free');
  // sorting by AvgMaxVio puts the rows in order of the shown values
  await page.getByTestId('sweep-sort-avgMaxVio').click();
  const cells = await page.getByTestId('sweep-row').evaluateAll((rows) => rows.map((r) => Number(r.children[5]!.textContent)));
  expect(cells.slice().sort((a, b) => a - b)).toEqual(cells);
  await page.getByTestId('sweep-filter').fill('bip');
  await expect(page.getByTestId('sweep-row')).toHaveCount(2);
  await page.getByTestId('sweep-filter').fill('');

  // grouped by configuration: 2 seeds per group, so each group draws a band (lower + stacked width > 0)
  const loss = await waitForChart(page, 'sweep-curves-loss');
  const bands = loss.series.filter((s) => s.name.endsWith(' band'));
  expect(bands.map((s) => s.name).sort()).toEqual(['bip (n=2) band', 'loss-free (n=2) band']);
  for (const b of bands) expect((b.data as Array<[number, number]>).some(([, w]) => w > 0)).toBe(true);
  await screenshot(page, 'sweep-view');
  sweepRuns = await page.getByTestId('sweep-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')!));

  // smoothing changes the drawn mean lines (and keeps a constant start: the debiased EMA's first value is the point)
  const mean = (c: typeof loss) => c.series.find((s) => s.name === 'bip (n=2)')!.data as Array<[number, number]>;
  const before = mean(loss);
  await page.getByTestId('sweep-curves-smoothing').fill('0.9');
  const smoothed = await waitForChart(page, 'sweep-curves-loss', loss.digest);
  const after = mean(smoothed);
  expect(after).toHaveLength(before.length);
  expect(after[0]![1]).toBeCloseTo(before[0]![1], 6);
  expect(after.at(-1)![1]).not.toBeCloseTo(before.at(-1)![1], 6);
  // smoothed: the step-to-step changes are smaller in total
  const tv = (d: Array<[number, number]>) => d.slice(1).reduce((s, p, i) => s + Math.abs(p[1] - d[i]![1]), 0);
  expect(tv(after)).toBeLessThan(tv(before));

  // zoom with the wheel on the loss chart: the AvgMaxVio and MaxVio charts follow
  await page.getByTestId('sweep-curves-loss').scrollIntoViewIfNeeded();
  const box = (await page.getByTestId('sweep-curves-loss').locator('.chart-host').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -200);
  await expect(page.getByTestId('sweep-curves-loss')).toHaveAttribute('data-zoom', /^\d/);
  const zoomed = await page.getByTestId('sweep-curves-loss').getAttribute('data-zoom');
  expect(zoomed).not.toBe('0.00-100.00');
  await expect(page.getByTestId('sweep-curves-avgmaxvio')).toHaveAttribute('data-zoom', zoomed!);
  await expect(page.getByTestId('sweep-curves-maxvio')).toHaveAttribute('data-zoom', zoomed!);
  await screenshot(page, 'sweep-zoomed');

  // SVG export: the title and every legend entry are in the file
  const download = page.waitForEvent('download');
  await page.getByTestId('sweep-curves-loss-svg').click();
  const file = await (await download).path();
  const svg = readFileSync(file!, 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('Train loss — e2e sweep');
  const legend = (await chart(page, 'sweep-curves-loss'))!.series.map((s) => s.name).filter((n) => !n.endsWith(' band') && !n.endsWith(' −sd'));
  expect(legend).toHaveLength(2);
  for (const name of legend) expect(svg).toContain(name);
});

test('a run has the same colour in two different Compares (and in the sweep table); Compare CSV', async ({ app: page }) => {
  expect(sweepRuns, 'needs the runs of the sweep test').toHaveLength(4);
  // the first run in id order always keeps its hash colour (clashes move the later runs), so it is the one checked
  const [a, b, c, d] = sweepRuns.slice().sort() as [string, string, string, string];
  const colourIn = async (ids: string[], id: string) => {
    await page.goto(`${new URL(page.url()).origin}/#/compare?runs=${ids.join(',')}`);
    await expect(page.getByTestId(`compare-row-${id}`)).toBeVisible();
    return page.getByTestId(`compare-row-${id}`).getByTestId('compare-swatch').getAttribute('data-color');
  };
  const first = await colourIn([a, b], a);
  const second = await colourIn([c, d, b, a], a);
  expect(first).toBe(runColor(a));
  expect(second).toBe(first);
  // no two runs of one Compare share a colour
  await expect(page.getByTestId('compare-swatch')).toHaveCount(4);
  const all = await page.getByTestId('compare-swatch').evaluateAll((els) => els.map((e) => e.getAttribute('data-color')));
  expect(new Set(all).size).toBe(4);
  await screenshot(page, 'compare-4-runs');
  // the CSV of the table: a header and one line per run
  const download = page.waitForEvent('download');
  await page.getByTestId('compare-csv').click();
  const csv = readFileSync((await (await download).path())!, 'utf8').trim().split('\n');
  expect(csv[0]).toBe('run id,name,strategy,steps,AvgMaxVio,SupMaxVio,final perplexity,time (ms),tokens/s');
  expect(csv.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([a, b, c, d].sort());
});

test('runs list: filter by sweep and status, a hyper-parameter column sorted, notes edited and searched', async ({ app: page }) => {
  expect(sweepRuns, 'needs the runs of the sweep test').toHaveLength(4);
  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('runs-filters')).toBeVisible();
  const rows = page.locator('[data-testid^="run-row-"]');
  await expect(page.getByTestId('run-sweep').first()).toBeVisible();
  // other test files may have left runs in this server's folder: the sweep filter keeps the sweep's 4
  const sweepId = (await page.getByTestId('run-sweep').first().textContent())!.replace('sweep', '').trim();
  await page.getByTestId('filter-sweep').selectOption(sweepId);
  await expect(rows).toHaveCount(4);
  await page.getByTestId('filter-strategy').selectOption('bip');
  await expect(rows).toHaveCount(2);
  await page.getByTestId('filter-strategy').selectOption('');
  // a numeric range on a hyper-parameter: seed between 2 and 2 keeps the 2 runs of seed 2
  await page.getByTestId('filter-range-key').selectOption('seed');
  await page.getByTestId('filter-range-min').fill('2');
  await page.getByTestId('filter-range-max').fill('2');
  await expect(rows).toHaveCount(2);
  await page.getByTestId('filter-range-min').fill('1');
  await expect(rows).toHaveCount(4);
  await page.getByTestId('filter-range-min').fill('3');
  await page.getByTestId('filter-range-max').fill('');
  await expect(rows).toHaveCount(0);
  await page.getByTestId('filter-range-key').selectOption('');
  await expect(rows).toHaveCount(4);
  // the seed column, sorted descending by its header
  await page.getByTestId('column-picker').locator('summary').click();
  await page.getByTestId('column-seed').check();
  await page.getByTestId('column-picker').locator('summary').click(); // closes the list again
  await page.getByTestId('col-head-seed').click();
  await page.getByTestId('col-head-seed').click();
  const seeds = await page.getByTestId('cell-param-seed').allTextContents();
  expect(seeds.map(Number)).toEqual([2, 2, 1, 1]);
  // notes: written through setRunNotes, searchable, still there after a reload
  const row = page.getByTestId(`run-row-${sweepRuns[0]}`);
  await row.getByTestId('notes-button').click();
  await row.getByTestId('notes-input').fill('Looks unstable after warm-up\nsecond line');
  await row.getByTestId('notes-save').click();
  await expect(row.getByTestId('notes-preview')).toHaveText('Looks unstable after warm-up');
  await page.getByTestId('runs-search').fill('unstable');
  await expect(rows).toHaveCount(1);
  await screenshot(page, 'runs-list-notes');
  await page.reload();
  await expect(page.getByTestId(`run-row-${sweepRuns[0]}`).getByTestId('notes-preview')).toHaveText('Looks unstable after warm-up');
});

test("a run's view: smoothing changes the drawn series, zoom on one curve moves the others, x by tokens", async ({ app: page }) => {
  expect(sweepRuns, 'needs the runs of the sweep test').toHaveLength(4);
  await page.goto(`${new URL(page.url()).origin}/#/run/${encodeURIComponent(sweepRuns[0]!)}`);
  const loss = await waitForChart(page, 'chart-loss');
  const train = (c: typeof loss) => c.series.find((s) => s.name === 'train loss')!.data as Array<[number, number]>;
  const before = train(loss);
  expect(before.length).toBe(10);
  await page.getByTestId('run-curves-smoothing').fill('0.9');
  const smoothed = await waitForChart(page, 'chart-loss', loss.digest);
  const after = train(smoothed);
  expect(after.map((p) => p[0])).toEqual(before.map((p) => p[0]));
  // the debiased EMA starts at the first point and then lags behind it
  expect(after[0]![1]).toBeCloseTo(before[0]![1], 6);
  expect(after.at(-1)![1]).not.toBeCloseTo(before.at(-1)![1], 6);
  const tv = (d: Array<[number, number]>) => d.slice(1).reduce((s, p, i) => s + Math.abs(p[1] - d[i]![1]), 0);
  expect(tv(after)).toBeLessThan(tv(before));
  // val points are not smoothed
  const val = (c: typeof loss) => c.series.find((s) => s.name === 'val loss')!.data;
  expect(val(smoothed)).toEqual(val(loss));

  // zoom with the wheel on the loss chart: every other chart of the run follows
  await page.getByTestId('chart-loss').scrollIntoViewIfNeeded();
  const box = (await page.getByTestId('chart-loss').locator('.chart-host').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -200);
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-zoom', /^\d/);
  const zoomed = (await page.getByTestId('chart-loss').getAttribute('data-zoom'))!;
  expect(zoomed).not.toBe('0.00-100.00');
  for (const id of ['chart-perplexity', 'chart-maxvio', 'chart-balance', 'chart-spread', 'chart-idle']) await expect(page.getByTestId(id)).toHaveAttribute('data-zoom', zoomed);
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6);
  await screenshot(page, 'run-curves-zoomed');

  // x by tokens: every x is the step times the same tokens per step (> 1)
  const digest = (await chart(page, 'chart-loss'))!.digest;
  await page.getByTestId('run-curves-x').selectOption('tokens');
  const tokens = train(await waitForChart(page, 'chart-loss', digest));
  const ratios = tokens.map((p, i) => p[0] / after[i]![0]);
  expect(ratios[0]).toBeGreaterThan(1);
  for (const r of ratios) expect(r).toBe(ratios[0]);
});

test('Compare grouped view: the runs grouped by strategy, then by seed, each drawn as mean ± band', async ({ app: page }) => {
  expect(sweepRuns, 'needs the runs of the sweep test').toHaveLength(4);
  await page.goto(`${new URL(page.url()).origin}/#/compare?runs=${sweepRuns.join(',')}`);
  const loss = await waitForChart(page, 'compare-grouped-loss');
  const bandsOf = (c: typeof loss) => c.series.filter((s) => s.name.endsWith(' band'));
  expect(bandsOf(loss).map((s) => s.name).sort()).toEqual(['bip (n=2) band', 'loss-free (n=2) band']);
  for (const b of bandsOf(loss)) expect((b.data as Array<[number, number]>).some(([, w]) => w > 0)).toBe(true);
  await page.getByTestId('compare-grouped-section').scrollIntoViewIfNeeded();
  await screenshot(page, 'compare-grouped-strategy');
  await page.getByTestId('compare-grouped-group').selectOption('seed');
  const bySeed = await waitForChart(page, 'compare-grouped-loss', loss.digest);
  expect(bandsOf(bySeed).map((s) => s.name).sort()).toEqual(['seed=1 (n=2) band', 'seed=2 (n=2) band']);
  // each seed's band spans its two strategies: the mean line lies inside it
  const mean = bySeed.series.find((s) => s.name === 'seed=1 (n=2)')!.data as Array<[number, number]>;
  const lower = bySeed.series.find((s) => s.name === 'seed=1 (n=2) −sd')!.data as Array<[number, number]>;
  const width = bySeed.series.find((s) => s.name === 'seed=1 (n=2) band')!.data as Array<[number, number]>;
  mean.forEach(([, m], i) => {
    expect(lower[i]![1]).toBeLessThanOrEqual(m + 1e-9);
    expect(lower[i]![1] + width[i]![1]).toBeGreaterThanOrEqual(m - 1e-9);
  });
});
