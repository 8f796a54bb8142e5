// Benchmark section "torch" (also part of "training"): Loadscope vs the PyTorch reference (torch_reference.py)
// on the same presets, run alternately in this bench so both see the same machine load; median ratio per preset.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/main/engine/backend';
import { benchConfig, measureTraining, median } from './train-measure';
import type { BenchContext, BenchModule, BenchSection } from './types';

export const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');

export interface TorchPython {
  python: string | null;
  /** torch version, or why no python with torch was found */
  detail: string;
}

/** The first of LOADSCOPE_PYTHON, /usr/bin/python3, python3 that imports torch. */
export function findTorchPython(): TorchPython {
  const candidates = [process.env.LOADSCOPE_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, detail: `torch ${r.stdout.trim()}` };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { python: null, detail: `no python with torch (${tried.join('; ')}); install python3-torch or set LOADSCOPE_PYTHON` };
}

export interface TorchResult {
  preset: string;
  tokensPerSec: number;
  stepMs: number;
  steps: number;
  losses: number[];
  params: number;
  threads: number;
  torch: string;
}

/** Runs the reference trainer once and parses its one JSON line. */
export function runTorchReference(python: string, preset: 'tiny' | 'small', steps: number, warmup: number): TorchResult {
  const out = execFileSync(python, [TORCH_SCRIPT, '--preset', preset, '--steps', String(steps), '--warmup', String(warmup)], {
    encoding: 'utf8',
    timeout: 600_000,
    // one thread for every BLAS/OpenMP pool torch might touch, like the script's set_num_threads(1)
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchResult;
}

/**
 * Warm-up and measured steps per side of a pair, the same for Loadscope and PyTorch. Loadscope's first tens of
 * steps run while V8 still compiles the step's JS and the heap grows (tiny: 1 warm-up + 8 steps measured about
 * 0.7× the median of a 400-step CLI run); a median over 60 steps after 20 warm-up ones is near the steady state,
 * and tiny's steps are short enough for that. Small's steps are ~10× longer, so fewer of them warm it up as well.
 */
export const PAIR_STEPS = { tiny: { warmup: 20, steps: 60 }, small: { warmup: 3, steps: 12 }, quick: { warmup: 1, steps: 2 } } as const;

export async function torchPairs(ctx: BenchContext): Promise<BenchSection> {
  const found = findTorchPython();
  const backend = await selectBackend('wasm');
  const title = 'Loadscope ÷ PyTorch eager (1 thread), same presets, alternating pairs';
  const columns = ['preset', 'pairs', 'Loadscope tokens/s', 'PyTorch tokens/s', 'each pair (L/P)', 'median ratio'];
  const notes = [`Loadscope: ${backend.device}`, `PyTorch: ${found.python ? `${found.python}, ${found.detail}` : found.detail}`];
  if (!found.python) {
    return { title, columns, rows: [['tiny', 0, '-', '-', '-', 'no torch'], ['small', 0, '-', '-', '-', 'no torch']], notes };
  }
  const pairs = ctx.quick ? 1 : 3;
  const rows: Array<Array<string | number>> = [];
  const data: unknown[] = [];
  for (const preset of ['tiny', 'small'] as const) {
    const { warmup, steps } = ctx.quick ? PAIR_STEPS.quick : PAIR_STEPS[preset];
    const ls: number[] = [];
    const pt: number[] = [];
    for (let i = 0; i < pairs; i++) {
      ctx.log(`torch pair ${i + 1}/${pairs} ${preset}`);
      ls.push((await measureTraining(benchConfig({ preset, backend: 'wasm' }), warmup, steps)).tokensPerSec);
      pt.push(runTorchReference(found.python, preset, steps, warmup).tokensPerSec);
    }
    const ratios = ls.map((l, i) => l / pt[i]!);
    rows.push([preset, pairs, Math.round(median(ls)), Math.round(median(pt)), ratios.map((r) => r.toFixed(2)).join(' '), median(ratios)]);
    data.push({ preset, loadscope: ls, pytorch: pt, ratios, medianRatio: median(ratios) });
  }
  const counts = ctx.quick ? `${PAIR_STEPS.quick.warmup} + ${PAIR_STEPS.quick.steps}` : `tiny ${PAIR_STEPS.tiny.warmup} + ${PAIR_STEPS.tiny.steps}, small ${PAIR_STEPS.small.warmup} + ${PAIR_STEPS.small.steps}`;
  notes.push(`each pair: one Loadscope run (in this process) then one PyTorch run (subprocess), the same warm-up + measured steps for both (${counts}), median tokens/s over the measured steps`);
  return { title, columns, rows, notes, data };
}

const bench: BenchModule = async (ctx) => [await torchPairs(ctx)];
export default bench;
