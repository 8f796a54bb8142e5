// Benchmark section "attention": the fused native causal attention against the TF.js ops it replaces, on wasm and cpu:
// TF.js kernels per training step, one layer's attention forward + backward, and tokens/s (tiny; small on wasm).
// Both variants run in this one process, alternated call by call and step by step (LOADSCOPE_FUSED_ATTENTION
// toggles the kernel per call), so the shared machine's load hits both alike; ratios are medians of pairs.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/main/engine/backend';
import { causalAttention, fusedAttentionEnabled } from '../src/main/engine/model/attention';
import { PRESETS } from '../src/shared/presets';
import { Trainer } from '../src/main/engine/train/trainer';
import { benchConfig, benchData, median } from './train-measure';
import type { BenchContext, BenchModule, BenchSection } from './types';

type Variant = 'fused' | 'TF.js ops';
type Backend = 'wasm' | 'cpu';
type Preset = 'tiny' | 'small';
const VARIANTS: Variant[] = ['fused', 'TF.js ops'];

function use(v: Variant): void {
  if (v === 'fused') delete process.env.LOADSCOPE_FUSED_ATTENTION;
  else process.env.LOADSCOPE_FUSED_ATTENTION = '0';
}

/** Kernels TF.js dispatches in one training step (forward, backward, optimizer), from tf.profile. */
async function kernelsPerStep(backend: Backend, preset: Preset): Promise<{ total: number; byName: Record<string, number> }> {
  const tr = new Trainer(benchConfig({ preset, backend }), benchData);
  try {
    await tr.trainStep();
    const prof = await tf.profile(async () => void (await tr.trainStep()));
    const byName: Record<string, number> = {};
    for (const k of prof.kernels) byName[k.name] = (byName[k.name] ?? 0) + 1;
    return { total: prof.kernels.length, byName };
  } finally {
    tr.dispose();
  }
}

/** ms of one layer's attention forward + backward w.r.t. qkv at the preset's shape (tiny: B=8, S=64, H=4, hd=16), per variant,
 *  the variants alternating rep by rep. */
function attentionMs(preset: Preset, reps: number): Record<Variant, number[]> {
  const { batch: B, ctx: S, heads: H, dModel: d } = PRESETS[preset];
  const qkv = tf.variable(tf.randomNormal([B * S, 3 * d], 0, 1, 'float32', 1)) as tf.Variable<tf.Rank.R2>;
  const m = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = -1e9;
  const mask = tf.tensor2d(m, [S, S]);
  const once = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(causalAttention(qkv, B, S, H, mask)) as tf.Scalar, [qkv]);
    grads[qkv.name]!.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const out: Record<Variant, number[]> = { fused: [], 'TF.js ops': [] };
  for (let i = -2; i < reps; i++) {
    for (const v of VARIANTS) {
      use(v);
      const t = performance.now();
      once();
      if (i >= 0) out[v].push(performance.now() - t);
    }
  }
  tf.dispose([qkv, mask]);
  return out;
}

/** tokens/s of one Trainer whose steps alternate the variants (A B B A …): each pair of neighbouring
 *  steps shares the machine's load of the moment, and the training state barely differs between them.
 *  Also per CPU second of this process (process.cpuUsage), which other processes' load barely moves. */
async function alternatingTokensPerSec(backend: Backend, preset: Preset, steps: number): Promise<{ wall: Record<Variant, number[]>; cpu: Record<Variant, number[]> }> {
  const tr = new Trainer(benchConfig({ preset, backend }), benchData);
  const tokens = PRESETS[preset].batch * PRESETS[preset].ctx;
  const wall: Record<Variant, number[]> = { fused: [], 'TF.js ops': [] };
  const cpu: Record<Variant, number[]> = { fused: [], 'TF.js ops': [] };
  try {
    for (let i = -2; i < steps; i++) {
      for (const v of i % 2 ? [...VARIANTS].reverse() : VARIANTS) {
        use(v);
        const c0 = process.cpuUsage();
        const r = (await tr.trainStep()).report;
        const c = process.cpuUsage(c0);
        if (i < 0) continue;
        wall[v].push(r.tokensPerSec);
        cpu[v].push(tokens / ((c.user + c.system) / 1e6));
      }
    }
    return { wall, cpu };
  } finally {
    tr.dispose();
  }
}

/** One backend's table: kernels per step, attention fwd+bwd ms and tokens/s for both variants. */
async function measureBackend(ctx: BenchContext, backend: Backend, preset: Preset): Promise<BenchSection> {
  await selectBackend(backend);
  use('fused');
  const title = `Fused attention vs TF.js ops (${backend}, ${preset} preset, native matmul on)`;
  if (!fusedAttentionEnabled()) return { title, columns: ['note'], rows: [['native attention unavailable: build the addon (npm run build:native)']] };
  const kernels = {} as Record<Variant, Awaited<ReturnType<typeof kernelsPerStep>>>;
  for (const v of VARIANTS) {
    use(v);
    kernels[v] = await kernelsPerStep(backend, preset);
  }
  // cpu steps are ~10× longer than wasm's, small's ~10× longer than tiny's: fewer samples there
  const scale = (ctx.quick ? 0.05 : 1) * (backend === 'cpu' || preset === 'small' ? 0.2 : 1);
  ctx.log(`${backend} ${preset}: attention forward + backward, alternating`);
  const attMs = attentionMs(preset, Math.max(3, Math.round(100 * scale)));
  ctx.log(`${backend} ${preset}: training steps, alternating`);
  const tps = await alternatingTokensPerSec(backend, preset, Math.max(3, Math.round(120 * scale)));
  const pairRatio = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!));
  const rows: Array<Array<string | number>> = VARIANTS.map((v) => [v, kernels[v].total, median(attMs[v]), median(tps.wall[v]), median(tps.cpu[v])]);
  rows.push(['ratio (TF.js ops / fused; tokens/s fused / TF.js ops)', kernels['TF.js ops'].total / kernels.fused.total,
    pairRatio(attMs['TF.js ops'], attMs.fused), pairRatio(tps.wall.fused, tps.wall['TF.js ops']), pairRatio(tps.cpu.fused, tps.cpu['TF.js ops'])]);
  return {
    title,
    columns: ['attention', 'kernels / step', 'attn fwd+bwd ms (1 layer)', 'tokens/s', 'tokens/CPU-s'],
    rows,
    notes: [`one process; variants alternate rep by rep (attention) and step by step within one Trainer (tokens/s); medians, ratios are medians of paired ratios (${tps.wall.fused.length} step pairs); tokens/CPU-s divides by this process's CPU time (process.cpuUsage)`],
    data: { kernels, attMs, tps },
  };
}

const run: BenchModule = async (ctx: BenchContext) => {
  const before = process.env.LOADSCOPE_FUSED_ATTENTION;
  try {
    return [await measureBackend(ctx, 'wasm', 'tiny'), await measureBackend(ctx, 'cpu', 'tiny'), await measureBackend(ctx, 'wasm', 'small')];
  } finally {
    if (before === undefined) delete process.env.LOADSCOPE_FUSED_ATTENTION;
    else process.env.LOADSCOPE_FUSED_ATTENTION = before;
  }
};

export default run;
