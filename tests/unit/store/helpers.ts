// Shared helpers of the run-store tests: a small resolved config, step reports with chosen loads, temp roots.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRunConfig, type RunConfig } from '../../../src/shared/run-config';
import type { StepReport } from '../../../src/shared/reports';
import { BalanceTracker } from '../../../src/main/engine/train/balance';

/** 2 layers × 4 experts, top-1, 8 tokens per step: ideal load k·T/E = 1·8/4 = 2. */
export function smallConfig(over: Record<string, unknown> = {}): RunConfig {
  const r = resolveRunConfig({ preset: 'tiny', model: { layers: 2, experts: 4, topK: 1, batch: 1, ctx: 8 }, keepCheckpoints: 2, ...over });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** A step report whose loads are loadsOf(step) (layer-major) and whose maxVio is `step / 100`. */
export function stepReport(step: number, layers: number, experts: number, loadsOf: (step: number, layer: number, expert: number) => number): StepReport {
  const loadsLE = new Float32Array(layers * experts);
  for (let l = 0; l < layers; l++) for (let e = 0; e < experts; e++) loadsLE[l * experts + e] = loadsOf(step, l, e);
  return {
    step,
    loss: 5 - step / 1000,
    auxLoss: 0,
    lr: 0.001,
    gradNorm: 1,
    tokens: 8,
    tokensPerSec: 1000 + step,
    layers,
    experts,
    loadsLE,
    // the balance figures of these loads (no drops: demand = routed, uniform gate mass)
    ...new BalanceTracker(layers, experts, 1).push(
      Array.from({ length: layers }, (_, l) => {
        const loadE = loadsLE.subarray(l * experts, (l + 1) * experts);
        return { loadE, demandLoadE: loadE, gateMassE: new Float32Array(experts).fill(1 / experts), dropped: 0 };
      }),
      8,
    ),
    maxVioL: new Float32Array(layers).fill(step / 100),
    maxVio: step / 100,
    avgMaxVio: step / 200,
    supMaxVio: step / 100,
    supMaxVioLayer: step / 100,
    dropped: 0,
    timing: { forwardBackwardMs: 1, optimizerMs: 1, routingMs: 1, totalMs: 3 },
    elapsedMs: step * 10,
  };
}

export function tempRoot(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'loadscope-store-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
