// Benchmark section "external": a 100,000-step × 64 layers × 256 experts run written by the Python RunWriter
// (python/examples/synthetic_run.py) opens in the run view in under 2 s: the view's first requests, timed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RunStore } from '../src/main/store/run-store';
import { RunService } from '../src/main/services/run-service';
import type { BenchModule } from './types';

const LAYERS = 64;
const EXPERTS = 256;
const TARGET_MS = 2000;

function python(): string | null {
  for (const p of [process.env.LOADSCOPE_PYTHON, '/usr/bin/python3', 'python3']) {
    if (p && spawnSync(p, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0) return p;
  }
  return null;
}

const bench: BenchModule = async (ctx) => {
  const py = python();
  if (!py) throw new Error('no python3 with numpy (apt-get install python3-numpy): cannot write the external run');
  const steps = ctx.quick ? 10_000 : 100_000;
  // LOADSCOPE_BENCH_EXTERNAL_DIR: keep the written run there and reuse it (writing 6 GiB takes minutes)
  const keep = process.env.LOADSCOPE_BENCH_EXTERNAL_DIR;
  const root = keep ? join(keep, String(steps)) : mkdtempSync(join(tmpdir(), 'loadscope-bench-external-'));
  try {
    let writeMs = NaN;
    if (!existsSync(join(root, 'ext', 'meta.json')) || !readFileSync(join(root, 'ext', 'meta.json'), 'utf8').includes('"completed"')) {
      rmSync(join(root, 'ext'), { recursive: true, force: true });
      ctx.log(`writing ${steps} steps of ${LAYERS}×${EXPERTS} loads with the Python RunWriter`);
      const t0 = performance.now();
      const w = spawnSync(py, ['python/examples/synthetic_run.py', join(root, 'ext'), '--steps', String(steps), '--layers', String(LAYERS), '--experts', String(EXPERTS), '--top-k', '8', '--tokens', '65536', '--patterns', '32'], { encoding: 'utf8' });
      if (w.status !== 0) throw new Error(`the Python writer failed: ${w.stderr.trim().split('\n').at(-1)}`);
      writeMs = performance.now() - t0;
    } else ctx.log(`reusing the run in ${root}`);
    const loadsBytes = statSync(join(root, 'ext', 'loads.bin')).size;

    // what LiveRunView asks for when it opens a run (live-run.ts load(), ExpertStepHeatmap, RunsView)
    const runs = new RunService(new RunStore(root), () => false);
    const timed: Array<[string, number]> = [];
    const time = async (what: string, f: () => Promise<unknown>) => {
      const a = performance.now();
      await f();
      timed.push([what, performance.now() - a]);
    };
    // each request opens the run afresh (RunService keeps nothing open): two opens, the second with warm caches
    const open = async (label: string) => {
      const before = timed.length;
      await time(`${label}: getRun`, () => runs.get('ext'));
      await time(`${label}: getScalars (2000 points)`, () => runs.scalars('ext', { maxPoints: 2000 }));
      await time(`${label}: getLoadsAt (latest)`, () => runs.loadsAt('ext'));
      await time(`${label}: getHeatmap (layer 0, 160 columns)`, () => runs.heatmap('ext', 0, { maxColumns: 160 }));
      return timed.slice(before).reduce((a, [, ms]) => a + ms, 0);
    };
    const firstMs = await open('first open');
    const openMs = await open('second open');
    await time('listRuns', () => runs.list());
    return [
      {
        title: `External run opened in the run view (${steps} steps × ${LAYERS} layers × ${EXPERTS} experts, Python writer)`,
        columns: ['request', 'ms'],
        rows: [...timed, ['run view, first open', firstMs], ['run view, second open', openMs], [`target < ${TARGET_MS} ms (first open)`, firstMs < TARGET_MS ? 'met' : 'MISSED']],
        notes: [
          `${Number.isNaN(writeMs) ? 'reused; ' : `written in ${(writeMs / 1000).toFixed(1)} s `}by ${py} (loads.bin ${(loadsBytes / 2 ** 30).toFixed(2)} GiB, summaries written by the writer)`,
          'one process, requests in sequence, as the view sends them on opening; load average ' + loadavg()[0]!.toFixed(1) + ` on ${cpus().length} cores`,
        ],
        data: { steps, layers: LAYERS, experts: EXPERTS, writeMs, loadsBytes, firstMs, openMs, loadAverage: loadavg()[0], targetMs: TARGET_MS, timed: Object.fromEntries(timed) },
      },
    ];
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
};
export default bench;
