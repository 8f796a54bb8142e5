// A real tiny training run driven from the window: start from the form, watch the layer × expert heatmap
// change between steps (asserting on the chart's data), pause and resume, save and restore a checkpoint.
import { chart, expect, liveStep, screenshot, startRunFromForm, test, waitForChart, waitForStatus } from './fixtures';

// tiny preset: 2 layers, 8 experts, top-2, batch 8 × ctx 64 = 512 tokens per step, so every layer makes
// k·T = 2 · 512 = 1024 (token, expert) assignments per step and the ideal load is 1024 / 8 = 128.
const LAYERS = 2;
const EXPERTS = 8;
const ASSIGNMENTS = 1024;
const IDEAL = 128;
// with the fused native kernels tiny trains at tens of steps per second (wasm, one thread): enough steps that
// the pause below lands before the last one, few enough that the run stays short
const STEPS = 120;

type Cell = [number, number, number, number, number]; // expert, layer, colour value, load, load ÷ ideal

test.setTimeout(420_000);

test('live run: heatmap data, pause / resume, checkpoint save and restore', async ({ app: page }) => {
  const runId = await startRunFromForm(page, { name: 'e2e live loss-free', steps: STEPS, strategy: 'loss-free', seed: 3 });

  // the layer × expert heatmap of the latest step, read as numbers
  const first = await waitForChart(page, 'layer-expert-heatmap');
  const cells = first.series[0]!.data as Cell[];
  expect(cells).toHaveLength(LAYERS * EXPERTS);
  expect(first.yLabels).toEqual(['0', '1']);
  for (let l = 0; l < LAYERS; l++) {
    const layer = cells.filter((c) => c[1] === l);
    expect(layer.reduce((a, c) => a + c[3], 0)).toBe(ASSIGNMENTS);
    for (const c of layer) expect(c[4]).toBeCloseTo(c[3] / IDEAL, 3);
  }
  // the colour scale is diverging around 1 (balanced): it spans [0, max ≥ 2]
  expect(first.visualMap!.min).toBe(0);
  expect(first.visualMap!.max).toBeGreaterThanOrEqual(2);
  const firstTitle = await page.getByTestId('layer-expert-heatmap').locator('h3').textContent();

  // a later step brings different loads (the router keeps learning). Wait for the step in the title to move:
  // the digest alone also changes when the adaptive colour scale does, with the same step's loads. The title
  // changes in the same redraw that publishes the cells, so the data read after it is that step's (or newer).
  await expect.poll(() => page.getByTestId('layer-expert-heatmap').locator('h3').textContent(), { timeout: 60_000 }).not.toBe(firstTitle);
  const later = (await chart(page, 'layer-expert-heatmap'))!;
  expect(later.digest).not.toBe(first.digest);
  expect((later.series[0]!.data as Cell[]).map((c) => c[3])).not.toEqual(cells.map((c) => c[3]));
  await screenshot(page, 'live-run');

  // pause: the step stops moving; a checkpoint can be saved while paused
  await page.getByTestId('pause-button').click();
  await waitForStatus(page, ['paused']);
  const pausedAt = await liveStep(page);
  expect(pausedAt, 'the pause must land before the last step, or resume has nothing left to show').toBeLessThan(STEPS);
  await page.waitForTimeout(1500);
  expect(await liveStep(page)).toBe(pausedAt);
  await page.getByTestId('checkpoint-save').click();
  await expect(page.getByTestId('checkpoint-saved')).toContainText(/saved step \d+/);
  const savedStep = Number((await page.getByTestId('checkpoint-saved').textContent())!.match(/\d+/)![0]);
  await expect(page.getByTestId(`checkpoint-${savedStep}`)).toBeVisible();

  // resume: steps move on, up to the end
  await page.getByTestId('resume-button').click();
  await waitForStatus(page, ['running', 'completed']);
  await expect.poll(() => liveStep(page), { timeout: 60_000 }).toBeGreaterThan(pausedAt);
  await waitForStatus(page, ['completed']);
  await expect(page.getByTestId('progress-steps')).toHaveText(`${STEPS} / ${STEPS}`);

  // MaxVio curves: SupMaxVio (running max) is never below AvgMaxVio (running mean) at any step
  await expect.poll(async () => (await chart(page, 'chart-maxvio'))?.series.find((s) => s.name === 'AvgMaxVio')?.data.length ?? 0).toBeGreaterThan(STEPS / 2);
  const maxvio = (await chart(page, 'chart-maxvio'))!;
  const avg = new Map((maxvio.series.find((s) => s.name === 'AvgMaxVio')!.data as Array<[number, number]>).map(([s, v]) => [s, v]));
  for (const [s, v] of maxvio.series.find((x) => x.name === 'SupMaxVio')!.data as Array<[number, number]>) expect(v).toBeGreaterThanOrEqual(avg.get(s)! - 1e-9);
  // the curves redraw at most twice a second: wait until the loss curve holds the last step
  await expect.poll(async () => ((await chart(page, 'chart-loss'))!.series[0]!.data as Array<[number, number]>).at(-1)?.[0], { timeout: 30_000 }).toBe(STEPS);
  const lossBefore = (await chart(page, 'chart-loss'))!.series[0]!.data as Array<[number, number]>;

  // restore the checkpoint: the run continues from it and ends at the last step again, with the steps up to
  // the checkpoint unchanged and no step twice
  await page.getByTestId(`checkpoint-${savedStep}`).getByTestId('checkpoint-restore').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('checkpoint-error')).toHaveCount(0);
  // it was 'completed' at step STEPS: training again from the checkpoint's step shows both
  await waitForStatus(page, ['running']);
  await expect.poll(() => liveStep(page), { timeout: 30_000 }).toBeLessThan(STEPS);
  await waitForStatus(page, ['completed']);
  await expect(page.getByTestId('progress-steps')).toHaveText(`${STEPS} / ${STEPS}`);
  await expect.poll(async () => ((await chart(page, 'chart-loss'))!.series[0]!.data as Array<[number, number]>).at(-1)?.[0], { timeout: 30_000 }).toBe(lossBefore.at(-1)![0]);
  const lossAfter = (await chart(page, 'chart-loss'))!.series[0]!.data as Array<[number, number]>;
  const stepsAfter = lossAfter.map(([s]) => s);
  expect(new Set(stepsAfter).size).toBe(stepsAfter.length);
  expect(stepsAfter).toEqual(lossBefore.map(([s]) => s));
  // steps up to the checkpoint are kept as they were; later ones were trained again from the checkpoint
  // (a checkpoint carries weights, optimizer, data cursor and random state, so they match closely)
  const before = new Map(lossBefore.map(([s, v]) => [s, v]));
  for (const [s, v] of lossAfter) expect(v).toBeCloseTo(before.get(s)!, s <= savedStep ? 6 : 2);
  await screenshot(page, 'live-run-restored');
  // the same screen in the other theme: the charts are rebuilt with its colours and still hold the same data
  const heatmapDigest = (await chart(page, 'layer-expert-heatmap'))!.digest;
  const html = page.locator('html');
  const themeBefore = await html.getAttribute('data-theme');
  await page.keyboard.press('t');
  await expect(html).not.toHaveAttribute('data-theme', themeBefore ?? '');
  await expect.poll(async () => (await chart(page, 'layer-expert-heatmap'))?.digest).toBe(heatmapDigest);
  await screenshot(page, 'live-run-other-theme');
  await page.keyboard.press('t');
  await expect(html).toHaveAttribute('data-theme', themeBefore ?? '');

  // the expert × step heatmap covers every expert of the chosen layer
  const es = await waitForChart(page, 'expert-step-heatmap');
  expect(es.yLabels).toHaveLength(EXPERTS);
  await page.getByTestId('expert-step-heatmap-layer').selectOption('1');
  await expect.poll(async () => (await chart(page, 'expert-step-heatmap'))?.series[0]?.name).toContain('layer 1');

  // the expert inspector: one expert over time and the bytes it receives most
  await page.getByTestId('open-inspector').click();
  await expect(page.getByTestId('expert-view')).toBeVisible();
  const share = await waitForChart(page, 'expert-share-chart');
  expect(share.series[0]!.data.length).toBeGreaterThan(0);
  for (const [, v] of share.series[0]!.data as Array<[number, number]>) expect(v).toBeGreaterThanOrEqual(0);
  await screenshot(page, 'expert-inspector');
  expect(runId).toBeTruthy();
});
