// `npm run bench -- --only kernels`: each native kernel alone at the tiny and small shapes, ms per call; with
// LOADSCOPE_KERNELS_BASELINE=<another blas.node> both addons run in this process, alternated call by call.
import { loadNativeBlas } from '../src/main/engine/native/blas';
import { PRESETS } from '../src/shared/presets';
import { median } from './train-measure';
import type { BenchModule } from './types';

/** The addon functions timed here (native/experts.c, attention.c, fused.c, adamw.c). */
interface Kernels {
  setThreads(n: number): void;
  expertsForward(...a: unknown[]): void;
  expertsBackward(...a: unknown[]): void;
  attentionForward(...a: unknown[]): void;
  attentionBackward(...a: unknown[]): void;
  lmLossForward(...a: unknown[]): number;
  rmsNormForward(...a: unknown[]): void;
  rmsNormBackward(...a: unknown[]): void;
  adamW(...a: unknown[]): number;
}

type Case = (k: Kernels) => () => void;
const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
const f32 = (n: number) => new Float32Array(n);

/** One closure per kernel at a preset's shape; each addon gets its own output buffers. */
function cases(preset: 'tiny' | 'small'): Array<[string, Case]> {
  const { batch: B, ctx: S, dModel: d, heads: H, experts: E, expertHidden: h, topK: K, vocab: V } = PRESETS[preset];
  const T = B * S, N = T * K, hd = d / H;
  const [x, w1, w3, w2, g, dy] = [rnd(T * d, 1), rnd(d * E * h, 2), rnd(d * E * h, 3), rnd(E * h * d, 4), rnd(T * E, 5), rnd(T * d, 6)];
  const tokN = Int32Array.from({ length: N }, (_, r) => r % T); // every expert N/E rows, each token K of them
  const countE = new Int32Array(E).fill(N / E);
  const qkv = rnd(T * 3 * d, 7), wte = rnd(V * d, 8), targets = Int32Array.from({ length: T }, (_, i) => (i * 7) % V), gain = rnd(d, 9);
  // AdamW over as many values as the preset's parameters, in matrices of d·h (plus the remainder)
  const total = PRESETS[preset].layers * (4 * d * d + 3 * E * d * h) + V * d;
  const sizes = [...new Array<number>(Math.floor(total / (d * h))).fill(d * h), total % (d * h)].filter((n) => n > 0);
  const experts = (k: Kernels) => {
    const saved = f32(N * (2 * h + d)), y = f32(T * d);
    k.expertsForward(T, d, E, h, x, w1, w3, w2, g, tokN, countE, saved, y);
    return { saved, y };
  };
  return [
    ['experts forward', (k) => { const { saved, y } = experts(k); return () => k.expertsForward(T, d, E, h, x, w1, w3, w2, g, tokN, countE, saved, y); }],
    ['experts backward', (k) => {
      const { saved } = experts(k);
      const outs = [T * d, d * E * h, d * E * h, E * h * d, T * E].map(f32);
      return () => k.expertsBackward(T, d, E, h, x, w1, w3, w2, g, tokN, countE, saved, dy, ...outs);
    }],
    ['attention forward', (k) => { const y = f32(T * d), p = f32(B * H * S * S); return () => k.attentionForward(B, S, H, hd, qkv, y, p); }],
    ['attention backward', (k) => {
      const y = f32(T * d), p = f32(B * H * S * S), dq = f32(T * 3 * d);
      k.attentionForward(B, S, H, hd, qkv, y, p);
      return () => k.attentionBackward(B, S, H, hd, qkv, p, dy, dq);
    }],
    ['lmLossForward', (k) => { const p = f32(T * V); return () => void k.lmLossForward(T, V, d, x, wte, targets, p); }],
    ['RMSNorm forward + backward', (k) => {
      const y = f32(T * d), dx = f32(T * d), dg = f32(d);
      return () => { k.rmsNormForward(T, d, 1e-5, x, gain, y); k.rmsNormBackward(T, d, 1e-5, x, gain, dy, dx, dg); };
    }],
    [`AdamW, ${total} values`, (k) => {
      const w = sizes.map((n, i) => rnd(n, i)), gr = sizes.map((n, i) => rnd(n, 50 + i)), m = sizes.map(f32), v = sizes.map(f32);
      const keep = sizes.map((_, i) => (i % 2 ? 1 : 0.999));
      return () => void k.adamW(w, gr, m, v, keep, 1e-3, 1.2, 0.9, 0.95, 1e-8, 1, 1);
    }],
  ];
}

const bench: BenchModule = async (ctx) => {
  const load = (path?: string) => {
    const r = loadNativeBlas(path);
    if (!r.blas) throw new Error(`no native addon: ${r.reason}`);
    const k = r.blas as unknown as Kernels;
    k.setThreads(1);
    return k;
  };
  const baselinePath = process.env.LOADSCOPE_KERNELS_BASELINE;
  const addons: Array<[string, Kernels]> = [['this build', load()]];
  if (baselinePath) addons.unshift(['baseline', load(baselinePath)]);
  const reps = ctx.quick ? 3 : 31;
  const rows: Array<Array<string | number>> = [];
  for (const preset of ['tiny', 'small'] as const) {
    for (const [name, make] of cases(preset)) {
      ctx.log(`${preset} ${name}`);
      const runs = addons.map(([, k]) => make(k));
      const ms = runs.map(() => [] as number[]);
      for (let i = -1; i < reps; i++) {
        runs.forEach((run, a) => {
          const t = performance.now();
          run();
          if (i >= 0) ms[a]!.push(performance.now() - t);
        });
      }
      const med = ms.map(median);
      rows.push([preset, name, ...med, ...(med.length === 2 ? [med[0]! / med[1]!] : [])]);
    }
  }
  return [{
    title: 'Native kernels alone, ms per call (1 OpenBLAS thread)',
    columns: ['preset', 'kernel', ...addons.map(([n]) => `${n} ms`), ...(addons.length === 2 ? ['speed-up'] : [])],
    rows,
    notes: [
      `median of ${reps} calls after one warm-up${addons.length === 2 ? `; baseline ${baselinePath} and this build alternate call by call in one process` : '; set LOADSCOPE_KERNELS_BASELINE=<blas.node> to compare another build side by side'}`,
      'experts: one layer, experts evenly loaded; attention: one layer; AdamW: as many values as the preset has parameters',
    ],
  }];
};
export default bench;
