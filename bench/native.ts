// Benchmark section "native": matmul GFLOP/s of TF.js's wasm and cpu kernels against the OpenBLAS kernels
// (src/main/engine/native) on the tiny and small presets' training matmuls and a 1024² product.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadNativeBlas } from '../src/main/engine/native/blas';
import {
  installNativeMatMul, setNativeMatMulThreads, uninstallNativeMatMul, type NativeBackendName,
} from '../src/main/engine/native/kernels';
import type { BenchContext, BenchModule, BenchSection } from './types';

interface Preset { name: string; ctx: number; d: number; heads: number; layers: number; experts: number; topK: number; hidden: number; batch: number; vocab: number }

// docs/performance.md's preset table
const PRESETS: Preset[] = [
  { name: 'tiny', ctx: 64, d: 64, heads: 4, layers: 2, experts: 8, topK: 2, hidden: 128, batch: 8, vocab: 256 },
  { name: 'small', ctx: 128, d: 128, heads: 4, layers: 4, experts: 16, topK: 2, hidden: 256, batch: 16, vocab: 256 },
];

/** One matmul shape of a training step and how many times a step runs it. */
interface Use { batch: number; m: number; k: number; n: number; tA: boolean; tB: boolean; count: number }

const flopsOf = (u: Use) => 2 * u.batch * u.m * u.k * u.n * u.count;

/** A forward product plus the two TF.js's gradient runs for it (shapes as in tfjs-core's BatchMatMul grad). */
function withGrads(batch: number, m: number, k: number, n: number, tB: boolean, count: number): Use[] {
  return [
    { batch, m, k, n, tA: false, tB, count },
    // dA = dC·B (tB) or dC·Bᵀ: [m,n]·[n,k]
    { batch, m, k: n, n: k, tA: false, tB: !tB, count },
    // dB = dCᵀ·A when tB ([n,m]ᵀ·[m,k]) or Aᵀ·dC ([k,m]ᵀ·[m,n]): both contract over m
    tB ? { batch, m: n, k: m, n: k, tA: true, tB: false, count } : { batch, m: k, k: m, n, tA: true, tB: false, count },
  ];
}

/** The matmuls of one training step (forward + backward), experts evenly loaded (tokens·k/E each). */
function stepUses(p: Preset): Use[] {
  const t = p.batch * p.ctx;
  const hd = p.d / p.heads;
  const perExpert = Math.round((t * p.topK) / p.experts);
  const L = p.layers;
  return [
    ...withGrads(1, t, p.d, 3 * p.d, false, L), // q, k, v projections
    ...withGrads(p.batch * p.heads, p.ctx, hd, p.ctx, true, L), // scores q·kᵀ
    ...withGrads(p.batch * p.heads, p.ctx, p.ctx, hd, false, L), // attention · v
    ...withGrads(1, t, p.d, p.d, false, L), // output projection
    ...withGrads(1, t, p.d, p.experts, false, L), // router gate scores
    ...withGrads(1, perExpert, p.d, 2 * p.hidden, false, L * p.experts), // SwiGLU gate + up
    ...withGrads(1, perExpert, p.hidden, p.d, false, L * p.experts), // SwiGLU down
    ...withGrads(1, t, p.d, p.vocab, true, 1), // tied output embedding x·Wᵀ
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Median ms of one call of `use` with tf.matMul on the current backend (calls batched to ≥ budgetMs). */
function timeUse(use: Use, reps: number, budgetMs: number): number {
  const a = tf.randomNormal(use.tA ? [use.batch, use.k, use.m] : [use.batch, use.m, use.k]);
  const b = tf.randomNormal(use.tB ? [use.batch, use.n, use.k] : [use.batch, use.k, use.n]);
  const call = () => tf.matMul(a, b, use.tA, use.tB).dispose(); // cpu and wasm compute eagerly
  call();
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    let calls = 0;
    const start = performance.now();
    do {
      call();
      calls++;
    } while (performance.now() - start < budgetMs);
    samples.push((performance.now() - start) / calls);
  }
  tf.dispose([a, b]);
  return median(samples);
}

/** ms of a whole step's matmuls: each distinct shape timed, times how often the step runs it. */
function timeStep(uses: Use[], reps: number, budgetMs: number): number {
  return uses.reduce((ms, u) => ms + timeUse(u, reps, budgetMs) * u.count, 0);
}

interface Workload { label: string; uses: Use[] }

const WORKLOADS: Workload[] = [
  ...PRESETS.map((p) => ({ label: `${p.name} step (fwd+bwd)`, uses: stepUses(p) })),
  { label: '1024² matmul', uses: [{ batch: 1, m: 1024, k: 1024, n: 1024, tA: false, tB: false, count: 1 }] },
];

async function backendRows(backend: NativeBackendName, ctx: BenchContext, nativeOk: boolean) {
  await tf.setBackend(backend);
  const reps = ctx.quick ? 1 : 3;
  const rows: Array<Array<string | number>> = [];
  const raw: Record<string, unknown> = {};
  for (const w of WORKLOADS) {
    const gflop = w.uses.reduce((s, u) => s + flopsOf(u), 0) / 1e9;
    uninstallNativeMatMul(backend);
    ctx.log(`${backend}: ${w.label} with TF.js kernels`);
    // TF.js's cpu kernels run < 1 GFLOP/s: one sample per shape, and none of the big workloads when --quick.
    const slow = backend === 'cpu';
    const own = slow && ctx.quick && gflop > 1 ? NaN : timeStep(w.uses, slow ? 1 : reps, slow ? 0 : 20);
    let native1 = NaN;
    let native2 = NaN;
    if (nativeOk) {
      installNativeMatMul(backend, { threads: 1 });
      native1 = timeStep(w.uses, reps, 20);
      setNativeMatMulThreads(2);
      native2 = timeStep(w.uses, reps, 20);
      setNativeMatMulThreads(1);
      uninstallNativeMatMul(backend);
    }
    const rate = (ms: number) => gflop / (ms / 1e3);
    rows.push([backend, w.label, gflop, own, rate(own), native1, rate(native1), rate(native2), own / native1]);
    raw[`${backend}/${w.label}`] = { gflop, tfjsMs: own, native1Ms: native1, native2Ms: native2 };
  }
  return { rows, raw };
}

/** Raw addon calls, no TF.js: OpenBLAS's own rate and what a second thread buys per shape. */
function threadRows(reps: number): Array<Array<string | number>> {
  const load = loadNativeBlas();
  if (!load.blas) return [];
  const blas = load.blas;
  const shapes: Array<[string, number, number, number, number]> = [
    ['attention scores 32×[64×16·16×64]', 32, 64, 16, 64],
    ['expert up 128×64·64×256', 1, 128, 64, 256],
    ['qkv 512×64·64×192', 1, 512, 64, 192],
    ['small qkv 2048×128·128×384', 1, 2048, 128, 384],
    ['1024² matmul', 1, 1024, 1024, 1024],
  ];
  const rows: Array<Array<string | number>> = [];
  const before = blas.getThreads();
  for (const [label, batch, m, k, n] of shapes) {
    const a = Float32Array.from({ length: batch * m * k }, () => Math.random());
    const b = Float32Array.from({ length: batch * k * n }, () => Math.random());
    const c = new Float32Array(batch * m * n);
    const rate = (threads: number) => {
      blas.setThreads(threads);
      const samples: number[] = [];
      for (let r = 0; r < reps; r++) {
        let calls = 0;
        const start = performance.now();
        do {
          blas.gemm(batch, m, n, k, false, false, a, m * k, b, k * n, c);
          calls++;
        } while (performance.now() - start < 20);
        samples.push((performance.now() - start) / calls);
      }
      return (2 * batch * m * k * n) / (median(samples) * 1e6);
    };
    const one = rate(1);
    const two = rate(2);
    rows.push([label, one, two, two / one]);
  }
  blas.setThreads(before);
  return rows;
}

const bench: BenchModule = async (ctx) => {
  const probe = loadNativeBlas();
  const nativeOk = probe.blas !== null;
  const notes = [
    nativeOk ? `addon: ${probe.blas.config()} (${probe.path})` : `native kernels unavailable: ${probe.reason}`,
    'step = every distinct matmul shape of a training step timed alone, times its count per step (experts evenly loaded)',
    'GFLOP/s = 2·m·k·n·batch / time; speedup = TF.js ms / native (1 thread) ms',
  ];
  const rows: Array<Array<string | number>> = [];
  const data: Record<string, unknown> = {};
  for (const backend of ['wasm', 'cpu'] as const) {
    const r = await backendRows(backend, ctx, nativeOk);
    rows.push(...r.rows);
    Object.assign(data, r.raw);
  }
  const sections: BenchSection[] = [{
    title: 'Matmul: TF.js kernels vs native OpenBLAS kernels (per backend)',
    columns: ['backend', 'workload', 'GFLOP', 'TF.js ms', 'TF.js GFLOP/s', 'native ms', 'native GFLOP/s', 'native 2 thr GFLOP/s', 'speedup'],
    rows,
    notes,
    data,
  }];
  if (nativeOk) {
    sections.push({
      title: 'OpenBLAS sgemm alone: 1 vs 2 threads',
      columns: ['shape', '1 thread GFLOP/s', '2 threads GFLOP/s', 'ratio'],
      rows: threadRows(ctx.quick ? 1 : 3),
      notes: ['the machine is shared: a second thread only helps when a core is idle'],
    });
  }
  return sections;
};
export default bench;
