// One Loadscope training measurement for the bench: median tokens/s and step split over a few steps of a preset.
import { syntheticText } from '../src/main/engine/data/synthetic';
import { Trainer } from '../src/main/engine/train/trainer';
import type { StepReport } from '../src/shared/reports';
import { resolveRunConfig, type RunConfig, type RunConfigInput } from '../src/shared/run-config';

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const benchData = { label: 'synthetic', bytes: syntheticText({ bytes: 200_000 }) };

/** A bench run config: no evaluation, oracle or top-token probes, so steps time training only. */
export function benchConfig(input: RunConfigInput): RunConfig {
  const r = resolveRunConfig({ evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, ...input });
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return r.config;
}

export interface TrainMeasurement {
  tokensPerSec: number;
  stepMs: number;
  fbMs: number;
  optMs: number;
  routingMs: number;
}

/** Trains `warmup` then `steps` steps on a fresh Trainer (the backend must already be selected). */
export async function measureTraining(config: RunConfig, warmup: number, steps: number): Promise<TrainMeasurement> {
  const tr = new Trainer(config, benchData);
  try {
    for (let i = 0; i < warmup; i++) await tr.trainStep();
    const rs: StepReport[] = [];
    for (let i = 0; i < steps; i++) rs.push((await tr.trainStep()).report);
    return {
      tokensPerSec: median(rs.map((r) => r.tokensPerSec)),
      stepMs: median(rs.map((r) => r.timing.totalMs)),
      fbMs: median(rs.map((r) => r.timing.forwardBackwardMs)),
      optMs: median(rs.map((r) => r.timing.optimizerMs)),
      routingMs: median(rs.map((r) => r.timing.routingMs)),
    };
  } finally {
    tr.dispose();
  }
}
