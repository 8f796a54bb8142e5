// Benchmark section "store": append cost per step at 24 layers × 64 experts, and reading a 100,000-step run
// back (open + downsampled heatmap, zoomed rows, scalars, expert inspector, list) from a temp folder.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveRunConfig } from '../src/shared/run-config';
import type { StepReport } from '../src/shared/reports';
import { RunStore } from '../src/main/store/run-store';
import { BalanceTracker } from '../src/main/engine/train/balance';
import type { BenchModule, BenchSection } from './types';

const LAYERS = 24;
const EXPERTS = 64;

const bench: BenchModule = async (ctx) => {
  const steps = ctx.quick ? 10_000 : 100_000;
  const root = mkdtempSync(join(tmpdir(), 'loadscope-bench-store-'));
  try {
    const cfg = resolveRunConfig({ preset: 'custom', steps, model: { layers: LAYERS, experts: EXPERTS, topK: 6, batch: 8, ctx: 512, dModel: 512, heads: 8 } });
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
    const store = new RunStore(root);
    const w = await store.create(cfg.config);
    // 64 pre-made load rows (k·T = 6·4096 assignments per layer, skewed): generating loads is not store work
    const rows = Array.from({ length: 64 }, (_, i) => {
      const a = new Float32Array(LAYERS * EXPERTS);
      for (let c = 0; c < a.length; c++) a[c] = Math.round(384 * (0.5 + (((c * 7919 + i * 104729) % 1000) / 1000)));
      return a;
    });
    const report: StepReport = {
      step: 0, loss: 3, auxLoss: 0.01, lr: 1e-3, gradNorm: 1, tokens: 4096, tokensPerSec: 50_000, layers: LAYERS, experts: EXPERTS,
      loadsLE: rows[0]!, maxVioL: new Float32Array(LAYERS).fill(0.3), maxVio: 0.3, avgMaxVio: 0.3, supMaxVio: 0.5, supMaxVioLayer: 0.6,
      ...new BalanceTracker(LAYERS, EXPERTS, 6).push(Array.from({ length: LAYERS }, () => ({ loadE: rows[0]!.subarray(0, EXPERTS), demandLoadE: rows[0]!.subarray(0, EXPERTS), gateMassE: new Float32Array(EXPERTS).fill(1 / EXPERTS), dropped: 0 })), 4096),
      dropped: 0, timing: { forwardBackwardMs: 10, optimizerMs: 2, routingMs: 1, totalMs: 13 }, elapsedMs: 0,
    };
    ctx.log(`appending ${steps} steps of ${LAYERS}×${EXPERTS} loads`);
    const blockMs: number[] = [];
    const t0 = performance.now();
    for (let s = 1; s <= steps; ) {
      const tb = performance.now();
      for (let i = 0; i < 1000 && s <= steps; i++, s++) {
        report.step = s;
        report.loadsLE = rows[s % 64]!;
        report.maxVio = 0.2 + (s % 97) / 300;
        report.elapsedMs = s * 13;
        w.appendStep(report);
      }
      blockMs.push((performance.now() - tb) / 1000);
    }
    const appendTotal = performance.now() - t0;
    w.setStatus('completed');
    await w.close();
    const dir = join(root, w.runId);
    const sizes = Object.fromEntries(readdirSync(dir).filter((f) => f.includes('.')).map((f) => [f, statSync(join(dir, f)).size]));
    const mb = (b: number) => b / 2 ** 20;
    blockMs.sort((a, b) => a - b);

    const time = <T>(f: () => T): [T, number] => {
      const t = performance.now();
      const v = f();
      return [v, performance.now() - t];
    };
    const [reader, openMs] = time(() => new RunStore(root).open(w.runId));
    const r = await reader;
    const [h400, heat400Ms] = time(() => r.heatmap(0, { maxColumns: 400 }));
    const [, heat4000Ms] = time(() => r.heatmap(12, { maxColumns: 4000 }));
    const [, zoomMs] = time(() => r.heatmap(5, { fromStep: 40_001, toStep: 40_000 + Math.min(10_000, steps / 2), maxColumns: 400 }));
    const [, rowsMs] = time(() => r.loadRows(steps - 199, steps));
    const [, scalarsMs] = time(() => r.scalars({ maxPoints: 2000 }));
    const [, scalars2Ms] = time(() => r.scalars({ maxPoints: 2000 }));
    const [, expertMs] = time(() => r.expert(3, 17, 2000));
    r.close();
    const [, listMs] = await (async () => {
      const t = performance.now();
      const l = await new RunStore(root).list();
      return [l, performance.now() - t] as const;
    })();

    const section: BenchSection = {
      title: `Run store: ${steps.toLocaleString('en')} steps × ${LAYERS} layers × ${EXPERTS} experts`,
      columns: ['measure', 'value', 'unit', 'aim'],
      rows: [
        ['append per step (mean)', (appendTotal / steps) * 1000, 'µs', '≪ 1000'],
        ['append per step (median of 1000-step blocks)', blockMs[Math.floor(blockMs.length / 2)]! * 1000, 'µs', ''],
        ['append per step (worst 1000-step block)', blockMs.at(-1)! * 1000, 'µs', ''],
        ['open run', openMs, 'ms', ''],
        ['open + heatmap, 400 columns', openMs + heat400Ms, 'ms', '< 500'],
        ['heatmap, 4000 columns', heat4000Ms, 'ms', ''],
        ['heatmap, 10,000-step zoom, 400 columns', zoomMs, 'ms', ''],
        ['loadRows, 200 exact rows', rowsMs, 'ms', ''],
        ['scalars, first call (parses steps.jsonl)', scalarsMs, 'ms', ''],
        ['scalars, again (cached columns)', scalars2Ms, 'ms', ''],
        ['expert inspector (all steps of one layer)', expertMs, 'ms', ''],
        ['list() with this run', listMs, 'ms', ''],
        ['loads.bin', mb(sizes['loads.bin'] ?? 0), 'MiB', ''],
        ['summaries (16 + 256 steps)', mb((sizes['loads.sum16.bin'] ?? 0) + (sizes['loads.sum256.bin'] ?? 0)), 'MiB', ''],
        ['steps.jsonl', mb(sizes['steps.jsonl'] ?? 0), 'MiB', ''],
      ],
      notes: [
        `heatmap of 400 columns covers steps ${h400.stepStarts[0]}–${h400.stepEnds.at(-1)} in ${h400.stepStarts.length} columns`,
        'reads come from the page cache (the run was just written); a cold disk adds its seek time',
        `temp folder ${root} is deleted after the run`,
      ],
      data: { steps, layers: LAYERS, experts: EXPERTS, appendTotalMs: appendTotal, sizes },
    };
    return [section];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};
export default bench;
