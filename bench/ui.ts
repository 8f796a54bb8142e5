// Benchmark section "ui": the built renderer in Debian's Chromium (playwright-core), fed 24 layers × 64
// experts at 20 frames/s through a fake LoadscopeApi injected into the page (it measures the renderer,
// not training). Reports the median frame time (event handling + every chart's setOption, which renders
// and paints synchronously), the rAF interval, main-thread time per frame from CDP, and the JS heap
// after 5 minutes (30 s with --quick).
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BenchModule, BenchSection } from './types';

const RENDERER = resolve('out/renderer');
const CHROMIUM = process.env.LOADSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const LAYERS = 24;
const EXPERTS = 64;
const FPS = 20;

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** A static file server for out/renderer (the page needs http: for its module scripts). */
export async function serveRenderer(dir = RENDERER): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'index.html' : path);
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/**
 * window.loadscope for the page: one running run "bench-run" whose frames (24 × 64 loads drifting around a
 * skewed profile, one scalar point each) arrive every 1000/fps ms. Plain JS in a string: it is injected
 * before the app starts, and serialising a tsx-compiled function would drag helper names along.
 * __benchStats() returns each frame's handling time (listeners + the microtasks they queue) and rAF intervals.
 */
export const FAKE_API_SOURCE = String.raw`(() => {
  const cfg = window.__benchConfig;
  const L = cfg.layers, E = cfg.experts, k = 2, tokens = 32 * 512, ideal = (k * tokens) / E;
  const listeners = { 'run:frame': new Set(), 'run:status': new Set(), 'runs:changed': new Set() };
  let step = 0, avg = 0, sup = 0;
  const model = { ctx: 512, dModel: 512, heads: 8, layers: L, experts: E, topK: k, expertHidden: 1408, batch: 32, vocab: 256 };
  const loadsAt = (s) => {
    const out = new Array(L * E);
    for (let l = 0; l < L; l++) {
      let sum = 0; const w = new Array(E);
      for (let e = 0; e < E; e++) { w[e] = Math.exp(0.8 * Math.sin(e * 0.7 + l + s / (40 + l)) + 0.3 * Math.sin(s * 0.31 + e)); sum += w[e]; }
      for (let e = 0; e < E; e++) out[l * E + e] = Math.round((w[e] / sum) * k * tokens);
    }
    return out;
  };
  const ok = (value) => Promise.resolve({ ok: true, value });
  const item = () => ({ runId: 'bench-run', name: 'UI bench (fake feed)', status: 'running', strategy: 'bip', preset: 'paper-64e', tags: [], createdAt: new Date().toISOString(), steps: step, totalSteps: 1e6, avgMaxVio: avg, supMaxVio: sup, perplexity: null, warnings: [] });
  const api = {
    getSystemInfo: () => ok({ version: 'bench', runsDir: '/', backends: [], maxConcurrentRuns: 1, transport: 'electron' }),
    listRuns: () => ok([item()]),
    getRun: () => ok({ ...item(), config: { preset: 'paper-64e', model, strategy: 'bip', strategyOptions: {}, seed: 1, steps: 1e6 }, backend: { name: 'cpu', device: 'fake', notes: [] }, summary: null, failure: null, readOnly: false }),
    getScalars: () => ok({ steps: [], loss: [], maxVio: [], avgMaxVio: [], supMaxVio: [], tokensPerSec: [], lr: [], eval: [] }),
    getLoadsAt: () => ok({ step, layers: L, experts: E, loadsLE: loadsAt(step), idealLoad: ideal }),
    getHeatmap: (r) => {
      const from = r.fromStep ?? 1, to = r.toStep ?? Math.max(1, step), cols = Math.max(1, Math.min(r.maxColumns ?? 400, to - from + 1));
      const per = (to - from + 1) / cols, stepStarts = [], stepEnds = [], mean = new Array(E * cols), max = new Array(E * cols);
      for (let c = 0; c < cols; c++) {
        const a = Math.floor(from + c * per), b = Math.max(a, Math.floor(from + (c + 1) * per) - 1);
        stepStarts.push(a); stepEnds.push(b);
        const loads = loadsAt(a);
        for (let e = 0; e < E; e++) { mean[e * cols + c] = loads[r.layer * E + e]; max[e * cols + c] = loads[r.layer * E + e] * 1.1; }
      }
      return ok({ layer: r.layer, experts: E, stepStarts, stepEnds, mean, max, idealLoad: ideal });
    },
    getExpert: () => ok({ steps: [], share: [], idealShare: 1 / E, overStreakMax: 0, underStreakMax: 0, topTokens: [] }),
    listCheckpoints: () => ok([]),
    on: (event, fn) => { listeners[event].add(fn); return () => listeners[event].delete(fn); },
  };
  for (const name of ['startRun', 'pauseRun', 'resumeRun', 'stopRun', 'checkpointRun', 'renameRun', 'tagRun', 'deleteRun', 'resumeFromCheckpoint', 'branchRun', 'exportSeries', 'inspectDataFile'])
    api[name] = () => Promise.resolve({ ok: false, error: { code: 'conflict', message: 'bench feed' } });
  window.loadscope = api;
  // preallocated typed buffers, so recording does not grow the heap being measured
  const CAP = 200000, ids = [];
  let nFrames = 0, nProf = 0, nRaf = 0;
  const frameAt = new Float64Array(CAP), frameMs = new Float64Array(CAP), profAt = new Float64Array(CAP), profMs = new Float64Array(CAP), profId = new Uint8Array(CAP), raf = new Float64Array(CAP);
  window.__loadscopeProfile = { push: (p) => { if (nProf >= CAP) return; let i = ids.indexOf(p.testid); if (i < 0) i = ids.push(p.testid) - 1; profAt[nProf] = p.at; profMs[nProf] = p.ms; profId[nProf++] = i; } };
  const channel = new MessageChannel();
  let pendingStart = 0;
  channel.port1.onmessage = () => { if (nFrames < CAP) { frameAt[nFrames] = pendingStart; frameMs[nFrames++] = performance.now() - pendingStart; } };
  setInterval(() => {
    step++;
    const loadsLE = loadsAt(step);
    let v = 0;
    for (let l = 0; l < L; l++) { let m = 0; for (let e = 0; e < E; e++) m = Math.max(m, loadsLE[l * E + e]); v += (m - ideal) / ideal / L; }
    avg += (v - avg) / step; sup = Math.max(sup, v);
    const frame = { runId: 'bench-run', step, totalSteps: 1e6, points: [{ step, loss: 2 + 3 / Math.sqrt(step), maxVio: v, avgMaxVio: avg, supMaxVio: sup, tokensPerSec: 9000, lr: 1e-3, dropped: 0 }], loadsLE, layers: L, experts: E, idealLoad: ideal, etaMs: 1e6 };
    pendingStart = performance.now();
    for (const fn of listeners['run:frame']) fn(frame);
    // a message posted now is handled after the microtasks the listeners queued (Vue's flush)
    channel.port2.postMessage(0);
  }, 1000 / cfg.fps);
  let last = 0;
  const tick = (t) => { if (last && nRaf < CAP) raf[nRaf++] = t - last; last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  window.__benchReset = () => { nFrames = 0; nProf = 0; nRaf = 0; };
  window.__benchUpdates = (testid) => { const i = ids.indexOf(testid); let n = 0; for (let j = 0; j < nProf; j++) if (profId[j] === i) n++; return n; };
  window.__benchStats = () => ({
    frames: Array.from({ length: nFrames }, (_, i) => ({ at: frameAt[i], handleMs: frameMs[i] })),
    profile: Array.from({ length: nProf }, (_, i) => ({ testid: ids[profId[i]], at: profAt[i], ms: profMs[i] })),
    rafIntervals: Array.from(raf.subarray(0, nRaf)),
  });
})();`;

type PageStats = { frames: Array<{ handleMs: number; at: number }>; profile: Array<{ testid: string; at: number; ms: number }>; rafIntervals: number[] };

const bench: BenchModule = async (ctx) => {
  if (!existsSync(join(RENDERER, 'index.html'))) throw new Error('out/renderer/index.html is missing: run `npm run build` first');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set LOADSCOPE_CHROMIUM)`);
  const seconds = ctx.quick ? 30 : 300;
  const { url, server } = await serveRenderer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--enable-precise-memory-info', '--disable-background-timer-throttling', '--disable-renderer-backgrounding'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.addInitScript({ content: `window.__benchConfig = ${JSON.stringify({ layers: LAYERS, experts: EXPERTS, fps: FPS })};\n${FAKE_API_SOURCE}` });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(`${url}/#/run/bench-run`);
    await page.waitForFunction(() => ((globalThis as unknown as { __loadscopeCharts?: Record<string, { updates: number }> }).__loadscopeCharts?.['layer-expert-heatmap']?.updates ?? 0) > 5, null, { timeout: 30_000 });
    ctx.log(`renderer loaded; streaming ${LAYERS}×${EXPERTS} at ${FPS} frames/s for ${seconds} s`);
    // warm-up done: reset the counters, take a baseline heap after a forced GC
    await page.evaluate(() => (globalThis as unknown as { __benchReset: () => void }).__benchReset());
    await cdp.send('HeapProfiler.collectGarbage');
    const heapStart = await heapUsed(cdp);
    const m0 = await metrics(cdp);
    const heapSamples: Array<[number, number]> = [[0, heapStart]];
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await page.waitForTimeout(Math.min(10_000, seconds * 1000 - (Date.now() - t0)));
      heapSamples.push([Math.round((Date.now() - t0) / 1000), await heapUsed(cdp)]);
    }
    const m1 = await metrics(cdp);
    const stats = (await page.evaluate(() => (globalThis as unknown as { __benchStats: () => unknown }).__benchStats())) as PageStats;
    await cdp.send('HeapProfiler.collectGarbage');
    const heapEnd = await heapUsed(cdp);
    await page.screenshot({ path: 'bench/results/ui-live.png' }).catch(() => undefined);

    // per data frame: its handling plus every chart update in the animation frame that followed it
    const byFrame: number[] = [];
    let j = 0;
    for (let i = 0; i < stats.frames.length; i++) {
      const f = stats.frames[i]!;
      const next = stats.frames[i + 1]?.at ?? Infinity;
      let render = 0;
      while (j < stats.profile.length && stats.profile[j]!.at < f.at) j++;
      while (j < stats.profile.length && stats.profile[j]!.at < next) render += stats.profile[j++]!.ms;
      byFrame.push(f.handleMs + render);
    }
    const heatmapMs = stats.profile.filter((p) => p.testid === 'layer-expert-heatmap').map((p) => p.ms);
    const expertStepMs = stats.profile.filter((p) => p.testid === 'expert-step-heatmap').map((p) => p.ms);
    const curveMs = stats.profile.filter((p) => p.testid.startsWith('chart-')).map((p) => p.ms);
    const frames = stats.frames.length;
    const taskMsPerFrame = frames ? ((m1.TaskDuration! - m0.TaskDuration!) * 1000) / frames : NaN;
    const mb = (b: number) => +(b / 2 ** 20).toFixed(1);
    const rows: Array<Array<string | number>> = [
      ['frame time (handling + chart updates), median', +quantile(byFrame, 0.5).toFixed(2), 'ms', '< 16'],
      ['frame time, p95', +quantile(byFrame, 0.95).toFixed(2), 'ms', ''],
      ['event handling (store + Vue), median', +quantile(stats.frames.map((f) => f.handleMs), 0.5).toFixed(2), 'ms', ''],
      ['main-thread time per data frame (CDP TaskDuration, mean)', +taskMsPerFrame.toFixed(2), 'ms', '< 50 (20 fps)'],
      ['layer×expert heatmap setOption (1536 cells), median', +quantile(heatmapMs, 0.5).toFixed(2), 'ms', ''],
      ['loss / perplexity / MaxVio curve setOption, median', +quantile(curveMs, 0.5).toFixed(2), 'ms', ''],
      ['expert×step heatmap re-fetch + setOption, median (every 3 s)', +quantile(expertStepMs, 0.5).toFixed(2), 'ms', ''],
      ['requestAnimationFrame interval, median', +quantile(stats.rafIntervals, 0.5).toFixed(2), 'ms', '16.7 at 60 Hz'],
      ['requestAnimationFrame interval, p95', +quantile(stats.rafIntervals, 0.95).toFixed(2), 'ms', ''],
      ['data frames received', frames, '', `${FPS}/s × ${seconds} s`],
      ['JS heap used after GC, start', mb(heapStart), 'MiB', ''],
      [`JS heap used after GC, after ${seconds} s`, mb(heapEnd), 'MiB', 'flat = bounded'],
    ];
    const section: BenchSection = {
      title: `Live UI: ${LAYERS} layers × ${EXPERTS} experts at ${FPS} frames/s for ${seconds} s (Chromium, software rendering)`,
      columns: ['measure', 'value', 'unit', 'target / note'],
      rows,
      notes: [
        'fake LoadscopeApi in the page (FAKE_API_SOURCE in bench/ui.ts): measures the renderer, not training or the WebSocket',
        'headless Chromium with --disable-gpu: canvas painting is in software, so figures are pessimistic for a desktop',
        'screenshot of the measured page: bench/results/ui-live.png',
      ],
      data: { heapSamples, frameTimeMs: { median: quantile(byFrame, 0.5), p95: quantile(byFrame, 0.95) }, frames },
    };
    return [section];
  } finally {
    await browser.close();
    server.close();
  }
};
export default bench;

async function heapUsed(cdp: import('playwright-core').CDPSession): Promise<number> {
  return (await metrics(cdp)).JSHeapUsedSize ?? NaN;
}

async function metrics(cdp: import('playwright-core').CDPSession): Promise<Record<string, number>> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}
