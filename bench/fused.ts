// `npm run bench -- --only fused`: tiny-preset training with the native fused loss, RMSNorm and AdamW
// (native/fused.c) against the JS paths they replace, toggled by LOADSCOPE_NATIVE_FUSED in one process.
//
// Rounds alternate off/on (a fresh Trainer each, same seed and batches) so slow drift of a shared, noisy
// machine hits both sides alike; the table gives each side's median over the rounds and the ratio.
import { selectBackend } from '../src/main/engine/backend';
import { nativeFusedKernels } from '../src/main/engine/native/fused';
import { benchConfig, measureTraining, median, type TrainMeasurement } from './train-measure';
import type { BenchModule, BenchSection } from './types';

const bench: BenchModule = async (ctx) => {
  const info = await selectBackend('wasm');
  if (!nativeFusedKernels()) {
    return [{ title: 'Fused loss, RMSNorm and AdamW', columns: ['note'], rows: [['native fused kernels unavailable (addon not built or LOADSCOPE_NATIVE=0)']] }];
  }
  const rounds = ctx.quick ? 2 : 5;
  const steps = ctx.quick ? 4 : 10;
  const config = benchConfig({ preset: 'tiny', backend: 'wasm', strategy: 'loss-free', seed: 1 });
  const runs: Record<'js' | 'native', TrainMeasurement[]> = { js: [], native: [] };
  const previous = process.env.LOADSCOPE_NATIVE_FUSED;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const side of ['js', 'native'] as const) {
        if (side === 'js') process.env.LOADSCOPE_NATIVE_FUSED = '0';
        else delete process.env.LOADSCOPE_NATIVE_FUSED;
        runs[side].push(await measureTraining(config, 3, steps));
        ctx.log(`round ${r + 1}/${rounds} ${side}: ${runs[side].at(-1)!.tokensPerSec.toFixed(0)} tokens/s`);
      }
    }
  } finally {
    if (previous === undefined) delete process.env.LOADSCOPE_NATIVE_FUSED;
    else process.env.LOADSCOPE_NATIVE_FUSED = previous;
  }
  const med = (side: 'js' | 'native', k: keyof TrainMeasurement) => median(runs[side].map((m) => m[k]));
  const keys: Array<[string, keyof TrainMeasurement]> = [['tokens/s', 'tokensPerSec'], ['step ms', 'stepMs'], ['forward+backward ms', 'fbMs'], ['optimizer ms', 'optMs']];
  const section: BenchSection = {
    title: 'Fused loss, RMSNorm and AdamW: JS paths vs native (tiny, wasm + native matmul)',
    columns: ['measure', 'JS paths', 'native fused', 'native / JS'],
    rows: keys.map(([label, k]) => [label, med('js', k), med('native', k), med('native', k) / med('js', k)]),
    notes: [
      `${info.device}; ${rounds} alternating rounds × (3 warm-up + ${steps} timed steps), medians of per-round medians`,
      'JS paths = LOADSCOPE_NATIVE_FUSED=0: matmulT logits + loss.ts cross-entropy, rmsnorm.ts loops, optimizer.ts jsAdamW',
    ],
    data: runs,
  };
  return [section];
};
export default bench;
