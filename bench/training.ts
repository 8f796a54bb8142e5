// Benchmark section "training": tokens/s and achieved GFLOP/s per backend beside its large-matmul peak, the
// ratio to the PyTorch reference (torch-pairs.ts), a webgpu row (timed on hardware adapters only), the
// step-time split with routing overhead per strategy, and tensor count + RSS over a longer tiny run.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/main/engine/backend';
import { preferSoftwareVulkan } from '../src/main/engine/webgpu';
import { chooseDispatch } from '../src/main/engine/model/moe';
import { trainFlopsPerToken } from '../src/shared/presets';
import { STRATEGY_IDS } from '../src/shared/strategy-descriptors';
import { Trainer } from '../src/main/engine/train/trainer';
import { torchPairs } from './torch-pairs';
import { benchConfig as cfg, benchData as data, measureTraining as measure, median } from './train-measure';
import type { BenchContext, BenchModule, BenchSection } from './types';

/** Median GFLOP/s of an n×n×n matmul: the backend's practical peak in this run. */
function matmulPeak(n: number, reps: number): number {
  const a = tf.randomNormal([n, n]) as tf.Tensor2D;
  const b = tf.randomNormal([n, n]) as tf.Tensor2D;
  tf.tidy(() => void tf.matMul(a, b).dataSync());
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    // return nothing from tidy: returning a typed array makes tidy walk every element
    tf.tidy(() => void tf.matMul(a, b).dataSync());
    times.push(performance.now() - t);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (median(times) / 1000) / 1e9;
}

/** matmulPeak for device backends: reads asynchronously (webgpu has no synchronous read in Node). */
async function matmulPeakAsync(n: number, reps: number): Promise<number> {
  const a = tf.randomNormal([n, n]) as tf.Tensor2D;
  const b = tf.randomNormal([n, n]) as tf.Tensor2D;
  const once = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (median(times) / 1000) / 1e9;
}

/**
 * The webgpu row(s): timed on a hardware adapter for each preset; on a software adapter (SwiftShader) or
 * none, one row that says so and times nothing (CPU emulation figures would mislead).
 */
async function webgpuRows(ctx: BenchContext, rows: Array<Array<string | number>>, notes: string[]): Promise<void> {
  preferSoftwareVulkan();
  let info;
  try {
    info = await selectBackend('webgpu');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const software = /software adapter/.test(why);
    rows.push(['webgpu', '-', software ? 'correctness only (software adapter)' : 'no adapter', '-', '-', '-', '-', '-']);
    notes.push(`webgpu: ${why}`);
    return;
  }
  if (info.adapter?.software) {
    rows.push(['webgpu', '-', 'correctness only (software adapter)', '-', '-', '-', '-', '-']);
    notes.push(`webgpu: ${info.device}: not timed (CPU emulation)`);
    return;
  }
  const peak = await matmulPeakAsync(ctx.quick ? 1024 : 2048, ctx.quick ? 3 : 7);
  for (const preset of ['tiny', 'small', 'paper-16e'] as const) {
    ctx.log(`webgpu ${preset}`);
    const c = cfg({ preset, backend: 'webgpu' });
    const r = await measure(c, 2, ctx.quick ? 2 : 8);
    const gflops = (r.tokensPerSec * trainFlopsPerToken(c.model)) / 1e9;
    rows.push(['webgpu', preset, `auto (${chooseDispatch('auto', c.model)})`, Math.round(r.tokensPerSec), gflops, peak, gflops / peak, r.stepMs]);
  }
  notes.push(`webgpu: ${info.device}`);
}

async function throughput(ctx: BenchContext): Promise<BenchSection> {
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    const info = await selectBackend(backend);
    const peak = matmulPeak(ctx.quick ? 256 : 512, ctx.quick ? 3 : 7);
    // pure-JS cpu is ~10× slower than wasm: small only on wasm, and fewer steps on cpu
    const cases: Array<['tiny' | 'small', 'dense' | 'sparse' | 'auto']> = backend === 'wasm' ? [['tiny', 'dense'], ['tiny', 'sparse'], ['tiny', 'auto'], ['small', 'auto']] : [['tiny', 'auto']];
    for (const [preset, dispatch] of cases) {
      const steps = ctx.quick ? 2 : preset === 'small' || backend === 'cpu' ? 3 : 8;
      ctx.log(`${backend} ${preset} ${dispatch}: ${steps} steps`);
      const c = cfg({ preset, dispatch, backend });
      const r = await measure(c, 1, steps);
      const gflops = (r.tokensPerSec * trainFlopsPerToken(c.model)) / 1e9;
      rows.push([backend, preset, dispatch === 'auto' ? `auto (${chooseDispatch('auto', c.model)})` : dispatch, Math.round(r.tokensPerSec), gflops, peak, gflops / peak, r.stepMs]);
    }
    notes.push(`${backend}: ${info.device}${info.notes.length ? ` (${info.notes.join('; ')})` : ''}`);
  }
  await webgpuRows(ctx, rows, notes);
  notes.push('GFLOP/s from trainFlopsPerToken (performance.md); dense dispatch does E/k× the expert FLOPs the formula counts');
  return {
    title: 'Training throughput (synthetic data, strategy none)',
    columns: ['backend', 'preset', 'dispatch', 'tokens/s', 'GFLOP/s', 'matmul peak GFLOP/s', 'of peak', 'step ms'],
    rows,
    notes,
  };
}

async function split(ctx: BenchContext): Promise<BenchSection> {
  await selectBackend('wasm');
  const rows: Array<Array<string | number>> = [];
  for (const strategy of STRATEGY_IDS) {
    ctx.log(`split: ${strategy}`);
    const r = await measure(cfg({ preset: 'tiny', strategy, backend: 'wasm' }), 1, ctx.quick ? 1 : 3);
    rows.push([strategy, r.stepMs, r.fbMs, r.optMs, r.routingMs, (100 * r.routingMs) / r.stepMs]);
  }
  return {
    title: 'Step-time split, tiny on wasm (median ms per step)',
    columns: ['strategy', 'step', 'forward+backward', 'optimizer', 'routing+strategy', 'routing %'],
    rows,
    notes: ['routing+strategy: gate scores read back, selection, strategy after-step (inside forward+backward except the after-step)'],
  };
}

async function memory(ctx: BenchContext): Promise<BenchSection> {
  await selectBackend('wasm');
  const steps = ctx.quick ? 6 : 60;
  const tr = new Trainer(cfg({ preset: 'tiny', strategy: 'bip', backend: 'wasm', evalEvery: 20, evalBatches: 2 }), data);
  const rows: Array<Array<string | number>> = [['start', tf.memory().numTensors, +(process.memoryUsage().rss / 2 ** 20).toFixed(1)]];
  try {
    for (let s = 1; s <= steps; s++) {
      await tr.trainStep({ oracle: s % 10 === 0, topTokens: s % 10 === 0 });
      if (s % 20 === 0) await tr.evaluate();
      if (s === 1 || s % Math.max(1, Math.floor(steps / 4)) === 0) {
        rows.push([s, tf.memory().numTensors, +(process.memoryUsage().rss / 2 ** 20).toFixed(1)]);
      }
    }
  } finally {
    tr.dispose();
  }
  return { title: `Memory over a ${steps}-step tiny run (wasm, bip)`, columns: ['step', 'tf tensors', 'RSS MiB'], rows };
}

// memory first: the wasm heap never shrinks, so RSS after the small preset would hide the tiny run's figure
const bench: BenchModule = async (ctx) => {
  const mem = await memory(ctx);
  return [await throughput(ctx), await torchPairs(ctx), await split(ctx), mem];
};
export default bench;
