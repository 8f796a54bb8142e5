// `npm run bench -- --only fused`: tiny-preset training with the native fused loss, RMSNorm and AdamW
// (native/fused.c) against the JS paths they replace, toggled by LOADSCOPE_NATIVE_FUSED in one process.
//
// Rounds alternate off/on (a fresh Trainer each, same seed and batches) so slow drift of a shared, noisy
// machine hits both sides alike; the table gives each side's median over the rounds and the ratio.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/main/engine/backend';
import { lmLoss } from '../src/main/engine/model/loss';
import { rmsNorm } from '../src/main/engine/model/rmsnorm';
import { nativeFusedKernels } from '../src/main/engine/native/fused';
import { AdamW } from '../src/main/engine/train/optimizer';
import type { RunConfig } from '../src/shared/run-config';
import { Trainer } from '../src/main/engine/train/trainer';
import { benchConfig, benchData, median } from './train-measure';
import type { BenchModule, BenchSection } from './types';

const bench: BenchModule = async (ctx) => {
  const info = await selectBackend('wasm');
  if (!nativeFusedKernels()) {
    return [{ title: 'Fused loss, RMSNorm and AdamW', columns: ['note'], rows: [['native fused kernels unavailable (addon not built or LOADSCOPE_NATIVE=0)']] }];
  }
  const rounds = ctx.quick ? 2 : 5;
  const steps = ctx.quick ? 4 : 10;
  const config = benchConfig({ preset: 'tiny', backend: 'wasm', strategy: 'loss-free', seed: 1 });
  const runs: Record<'js' | 'native', Round[]> = { js: [], native: [] };
  const previous = process.env.LOADSCOPE_NATIVE_FUSED;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const side of ['js', 'native'] as const) {
        if (side === 'js') process.env.LOADSCOPE_NATIVE_FUSED = '0';
        else delete process.env.LOADSCOPE_NATIVE_FUSED;
        runs[side].push(await round(config, 3, steps));
        ctx.log(`round ${r + 1}/${rounds} ${side}: ${runs[side].at(-1)!.tokensPerSec.toFixed(0)} tokens/s, ${runs[side].at(-1)!.cpuMs.toFixed(1)} CPU ms/step`);
      }
    }
  } finally {
    if (previous === undefined) delete process.env.LOADSCOPE_NATIVE_FUSED;
    else process.env.LOADSCOPE_NATIVE_FUSED = previous;
  }
  const med = (side: 'js' | 'native', k: keyof Round) => median(runs[side].map((m) => m[k]));
  const keys: Array<[string, keyof Round]> = [['tokens/s (wall)', 'tokensPerSec'], ['process CPU ms / step', 'cpuMs'], ['step ms (wall)', 'stepMs'], ['forward+backward ms', 'fbMs'], ['optimizer ms', 'optMs']];
  const section: BenchSection = {
    title: 'Fused loss, RMSNorm and AdamW: JS paths vs native (tiny, wasm + native matmul)',
    columns: ['measure', 'JS paths', 'native fused', 'native / JS'],
    rows: keys.map(([label, k]) => [label, med('js', k), med('native', k), med('native', k) / med('js', k)]),
    notes: [
      `${info.device}; ${rounds} alternating rounds × (3 warm-up + ${steps} timed steps), medians over rounds`,
      'process CPU = user + system time of the whole process (GC threads included): less sensitive than wall time to other load on a shared machine',
      'JS paths = LOADSCOPE_NATIVE_FUSED=0: matmulT logits + loss.ts cross-entropy, rmsnorm.ts loops, optimizer.ts jsAdamW',
    ],
    data: runs,
  };
  return [section, opSection(ctx.quick ? 3 : 7)];
};

interface Round {
  tokensPerSec: number;
  cpuMs: number;
  stepMs: number;
  fbMs: number;
  optMs: number;
}

/** A fresh Trainer: `warmup` steps, then `steps` timed by wall clock and by the process's CPU time. */
async function round(config: RunConfig, warmup: number, steps: number): Promise<Round> {
  const tr = new Trainer(config, benchData);
  try {
    for (let i = 0; i < warmup; i++) await tr.trainStep();
    const fb: number[] = [];
    const opt: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const { timing } = (await tr.trainStep()).report;
      fb.push(timing.forwardBackwardMs);
      opt.push(timing.optimizerMs);
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const tokens = config.model.batch * config.model.ctx * steps;
    return { tokensPerSec: tokens / (wall / 1e3), cpuMs: (cpu.user + cpu.system) / 1e3 / steps, stepMs: wall / steps, fbMs: median(fb), optMs: median(opt) };
  } finally {
    tr.dispose();
  }
}

/** Each op alone at the tiny preset's shapes (T 512, d 64, V 256; AdamW over 450k values in 20 arrays). */
function opSection(reps: number): BenchSection {
  const T = 512;
  const d = 64;
  const V = 256;
  const h = tf.variable(tf.randomNormal([T, d])) as tf.Variable<tf.Rank.R2>;
  const wte = tf.variable(tf.randomNormal([V, d], 0, 0.02)) as tf.Variable<tf.Rank.R2>;
  const g = tf.variable(tf.ones([d])) as tf.Variable<tf.Rank.R1>;
  const targets = Int32Array.from({ length: T }, (_, i) => (i * 37) % V);
  const params = Array.from({ length: 20 }, (_, i) => [`p${i}`, tf.variable(tf.randomNormal(i % 2 ? [22_500] : [150, 150]), true, `bench/p${i}`)] as [string, tf.Variable]);
  const grads = Object.fromEntries(params.map(([, v]) => [v.name, tf.randomNormal(v.shape)]));
  const opt = new AdamW(params, { weightDecay: 0.1 });
  const ops: Array<[string, () => void]> = [
    ['lmLoss forward + backward', () => tf.dispose(Object.values(tf.variableGrads(() => lmLoss(h, wte, targets), [h, wte]).grads))],
    ['rmsNorm forward + backward', () => tf.dispose(Object.values(tf.variableGrads(() => tf.sum(rmsNorm(h, g)) as tf.Scalar, [h, g]).grads))],
    ['AdamW update (norm, clip, step)', () => opt.update(grads, 1e-3, 1)],
  ];
  const time = (f: () => void) => {
    const samples: number[] = [];
    for (let r = 0; r < reps; r++) {
      let calls = 0;
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      do {
        f();
        calls++;
      } while (performance.now() - start < 50);
      const cpu = process.cpuUsage(cpu0);
      samples.push((cpu.user + cpu.system) / 1e3 / calls);
    }
    return median(samples);
  };
  const rows = ops.map(([label, f]) => {
    process.env.LOADSCOPE_NATIVE_FUSED = '0';
    const js = time(f);
    delete process.env.LOADSCOPE_NATIVE_FUSED;
    const native = time(f);
    return [label, js, native, js / native];
  });
  tf.dispose([h, wte, g, ...params.map(([, v]) => v), ...Object.values(grads)]);
  return { title: 'Fused ops alone (process CPU ms per call, tiny shapes)', columns: ['op', 'JS paths ms', 'native ms', 'speedup'], rows, notes: [`median of ${reps} × 50 ms (wall) batches, JS then native`] };
}
export default bench;
