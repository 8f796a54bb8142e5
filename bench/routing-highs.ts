// Benchmark section "routing" (second part): the exact solver's time beside scipy's HiGHS (dual simplex, bench/highs.py)
// on the same batches: skewed and sigmoid routers, k up to 8, 16–128 experts, and a warm-started solve.
//
// Shape legend: T tokens, E experts, K = top-k slots; scores row-major [T*E] float32 (both solvers read the same).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/main/engine/rng';
import { solveOptimal } from '../src/main/engine/solver/optimal';
import type { BenchContext, BenchSection } from './types';

const HIGHS_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'highs.py');

/** seeded N(0,1) draws from the engine's own PRNG */
function gaussian(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.normal();
}

type Kind = 'benign' | 'skewed' | 'sigmoid';

/** softmax or sigmoid of z + skew·b: z ~ N(0,1) per pair (new per seed), b ~ N(0,1) per expert (one router per E). */
export function routerScores(kind: Kind, T: number, E: number, seed: number): Float32Array {
  const skew = kind === 'benign' ? 0 : 1.5;
  const g = gaussian(seed);
  const gb = gaussian(7919 * E);
  const biasE = Array.from({ length: E }, () => gb() * skew);
  const s = new Float32Array(T * E);
  const row = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) row[e] = g() + biasE[e]!;
    if (kind === 'sigmoid') {
      for (let e = 0; e < E; e++) s[t * E + e] = 1 / (1 + Math.exp(-row[e]!));
      continue;
    }
    const m = Math.max(...row);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += row[e] = Math.exp(row[e]! - m);
    for (let e = 0; e < E; e++) s[t * E + e] = row[e]! / sum;
  }
  return s;
}

const CASES: Array<{ kind: Kind; T: number; E: number; K: number; warm?: boolean }> = [
  { kind: 'benign', T: 4096, E: 64, K: 2 },
  { kind: 'skewed', T: 4096, E: 64, K: 8 },
  { kind: 'skewed', T: 2048, E: 16, K: 2 },
  { kind: 'skewed', T: 4096, E: 16, K: 8 },
  { kind: 'sigmoid', T: 1024, E: 32, K: 4 },
  { kind: 'sigmoid', T: 4096, E: 64, K: 8 },
  { kind: 'sigmoid', T: 2048, E: 128, K: 4 },
  { kind: 'skewed', T: 4096, E: 64, K: 2, warm: true },
];

/** The first python that imports scipy.optimize, or why none does. */
function findScipyPython(): { python: string | null; detail: string } {
  const tried: string[] = [];
  for (const python of [process.env.LOADSCOPE_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c)) {
    const r = spawnSync(python, ['-c', 'import scipy, scipy.optimize; print(scipy.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, detail: `scipy ${r.stdout.trim()} (HiGHS dual simplex)` };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { python: null, detail: `no python with scipy (${tried.join('; ')}); install python3-scipy or set LOADSCOPE_PYTHON` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export function highsSection(ctx: BenchContext): BenchSection {
  const found = findScipyPython();
  const dir = mkdtempSync(join(tmpdir(), 'loadscope-highs-'));
  const rows: Array<Array<string | number>> = [];
  const data: unknown[] = [];
  const reps = ctx.quick ? 1 : 3;
  try {
    for (const c of CASES) {
      const { T, E, K } = c;
      const C = Math.ceil((K * T) / E);
      const s = routerScores(c.kind, T, E, 5000 + T + E + K);
      // warm: the previous batch of the same router was solved; its optimal prices start this one
      const startPrices = c.warm ? solveOptimal(routerScores(c.kind, T, E, 4000 + T + E + K), T, E, K, C).priceE : undefined;
      // JIT warm-up: V8 reaches optimised code only after a few solves (skewed 4096×64 k=8, the first case that runs
      // the auction: 395, 197, 66, 70, 62 ms CPU), so a single warm-up left the median bimodal (67–131 ms)
      for (let w = 0; w < 3; w++) solveOptimal(s, T, E, K, C, startPrices ? { startPrices } : {});
      const times: number[] = [];
      let objective = 0;
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        objective = solveOptimal(s, T, E, K, C, startPrices ? { startPrices } : {}).objective;
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      const label = `${c.warm ? 'warm ' : ''}${c.kind} ${T}×${E} k=${K}`;
      let highsMs: number | string = '-';
      let ratio: number | string = found.python ? '-' : 'no scipy';
      let agree: number | string = '-';
      if (found.python) {
        const file = join(dir, 'scores.f32');
        writeFileSync(file, Buffer.from(s.buffer, s.byteOffset, s.byteLength));
        const r = spawnSync(found.python, [HIGHS_SCRIPT, file, String(T), String(E), String(K), String(C)], { encoding: 'utf8', timeout: 600_000 });
        if (r.status === 0) {
          const h = JSON.parse(r.stdout.trim()) as { objective: number; ms: number };
          highsMs = h.ms;
          ratio = h.ms / ms;
          agree = Math.abs(h.objective - objective) / Math.abs(h.objective);
        } else ratio = `HiGHS failed: ${r.stderr.trim().split('\n').pop()}`;
      }
      ctx.log(`${label}: ${ms.toFixed(1)} ms vs HiGHS ${typeof highsMs === 'number' ? highsMs.toFixed(1) : highsMs} ms`);
      rows.push([label, C, ms, highsMs, ratio, agree]);
      data.push({ kind: c.kind, warm: !!c.warm, tokens: T, experts: E, k: K, capacity: C, solverMs: ms, highsMs, ratio, relativeObjectiveGap: agree });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: 'Exact solver vs HiGHS on the same batches (C = ⌈k·T/E⌉, rows ≤ k)',
    columns: ['batch', 'C', 'solver ms', 'HiGHS ms', 'HiGHS ÷ solver', '|Δobjective| rel'],
    rows,
    notes: [
      `HiGHS: ${found.python ? `${found.python}, ${found.detail}` : found.detail}; only its linprog call is timed, one shot`,
      'solver: median of the repetitions after 3 warm-up solves; warm = started from the optimal prices of the previous batch of the same router',
      'goal: HiGHS ÷ solver ≥ 20 on every batch, warm 4096×64 k=2 ≤ 20 ms',
    ],
    data,
  };
}
