// `npm run bench -- --only experts`: training tokens/s and TF.js kernels per step with the fused sparse expert
// kernel (native/experts.c) on vs off, in one process, rounds interleaved so machine load hits both alike.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/main/engine/backend';
import { fusedExpertsStats, nativeExperts, setFusedExpertsEnabled } from '../src/main/engine/native/experts';
import { Trainer } from '../src/main/engine/train/trainer';
import { PRESETS } from '../src/shared/presets';
import { benchConfig, benchData, measureTraining, median } from './train-measure';
import type { BenchModule } from './types';

/** TF.js kernels (and customGrad ops) one warm training step runs, counted by tf.profile. */
async function kernelsPerStep(preset: 'tiny' | 'small'): Promise<number> {
  const tr = new Trainer(benchConfig({ preset, backend: 'wasm', dispatch: 'sparse' }), benchData);
  try {
    await tr.trainStep();
    const info = await tf.profile(async () => {
      await tr.trainStep();
    });
    return info.kernels.length;
  } finally {
    tr.dispose();
  }
}

/** The addon's forward and backward alone at a preset's shapes (evenly loaded experts), ms per layer. */
function kernelRows(reps: number): Array<Array<string | number>> {
  const k = nativeExperts()!;
  const rows: Array<Array<string | number>> = [];
  for (const preset of ['tiny', 'small'] as const) {
    const { batch, ctx: seq, dModel: d, experts: E, expertHidden: h, topK: K } = PRESETS[preset];
    const T = batch * seq;
    const N = T * K;
    const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.1);
    const [x, w1, w3, w2, g, dy] = [rnd(T * d), rnd(d * E * h), rnd(d * E * h), rnd(E * h * d), rnd(T * E), rnd(T * d)];
    // every expert gets N/E rows, each token k rows (in different experts, as K ≤ E)
    const tokN = Int32Array.from({ length: N }, (_, r) => r % T);
    const countE = new Int32Array(E).fill(N / E);
    const saved = new Float32Array(N * (2 * h + d));
    const [y, dx, dw1, dw3, dw2, dg] = [T * d, T * d, d * E * h, d * E * h, E * h * d, T * E].map((n) => new Float32Array(n)) as Float32Array[];
    const time = (f: () => void) => {
      f();
      const ts: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        f();
        ts.push(performance.now() - t0);
      }
      return median(ts);
    };
    const fwd = time(() => k.expertsForward(T, d, E, h, x, w1, w3, w2, g, tokN, countE, saved, y!));
    const bwd = time(() => k.expertsBackward(T, d, E, h, x, w1, w3, w2, g, tokN, countE, saved, dy, dx!, dw1!, dw3!, dw2!, dg!));
    const gflop = (2 * N * d * h * 3) / 1e9;
    rows.push([preset, N, fwd, bwd, (gflop / fwd) * 1e3, ((gflop * 5) / 3 / bwd) * 1e3, (saved.length * 4) / 2 ** 20]);
  }
  return rows;
}

const bench: BenchModule = async (ctx) => {
  await selectBackend('wasm');
  if (!nativeExperts()) throw new Error('the native addon has no expert kernels (run npm run build:native)');
  const rounds = ctx.quick ? 1 : 3;
  const rows: Array<Array<string | number>> = [];
  const data: Record<string, unknown> = {};
  for (const preset of ['tiny', 'small'] as const) {
    const steps = preset === 'tiny' ? (ctx.quick ? 3 : 8) : ctx.quick ? 2 : 4;
    const rate = { on: [] as number[], off: [] as number[] };
    const fb = { on: [] as number[], off: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['off', 'on'] as const) {
        setFusedExpertsEnabled(mode === 'on');
        ctx.log(`${preset} round ${r + 1}/${rounds}, fused experts ${mode}`);
        const m = await measureTraining(benchConfig({ preset, backend: 'wasm', dispatch: 'sparse' }), 2, steps);
        rate[mode].push(m.tokensPerSec);
        fb[mode].push(m.fbMs);
      }
    }
    setFusedExpertsEnabled(false);
    const kOff = await kernelsPerStep(preset);
    setFusedExpertsEnabled(true);
    const before = fusedExpertsStats().forward;
    const kOn = await kernelsPerStep(preset);
    if (fusedExpertsStats().forward === before) throw new Error('the fused expert kernel did not run');
    const [on, off] = [median(rate.on), median(rate.off)];
    rows.push([preset, off, on, on / off, median(fb.off), median(fb.on), kOff, kOn]);
    data[preset] = { rate, fb, kernels: { off: kOff, on: kOn } };
  }
  setFusedExpertsEnabled(true);
  const kernel = {
    title: 'The fused expert kernel alone, one layer (evenly loaded experts)',
    columns: ['preset', 'rows N', 'forward ms', 'backward ms', 'forward GFLOP/s', 'backward GFLOP/s', 'saved MiB'],
    rows: kernelRows(ctx.quick ? 3 : 15),
    notes: ['recomputing the saved activations in backward instead would add about the forward time (its A, B and Ye gemms) to every backward'],
  };
  return [kernel, {
    title: 'Sparse MoE experts: TF.js ops vs the fused native kernel (wasm + OpenBLAS, training)',
    columns: ['preset', 'tokens/s unfused', 'tokens/s fused', 'ratio', 'fwd+bwd ms unfused', 'fwd+bwd ms fused', 'kernels/step unfused', 'kernels/step fused'],
    rows,
    notes: [
      `median over ${rounds} interleaved rounds of per-step medians (2 warm-up steps each); one process, wasm backend, 1 OpenBLAS thread`,
      'kernels/step: entries tf.profile records for one warm training step (forward, backward, optimizer)',
      'both columns keep every other fast path (OpenBLAS matmul, fused SwiGLU/RMSNorm): only the expert group differs',
    ],
    data,
  }];
};
export default bench;
