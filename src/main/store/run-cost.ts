// The expert-parallel cost model over a whole run, from the `ep` figures each step line of steps.jsonl carries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCost, type RunCost, type StepCost } from '../../shared/cost-model';
import type { RunConfig } from '../../shared/run-config';
import { FILES } from './format';

export type RunCostReport = (RunCost & { placement: number[] | 'round-robin'; deviceCapacityFactor: number; bytesPerValue: number }) | { unavailable: string };

/** Run-level cost figures; runs recorded before the cost model (or by external trainers) say why there are none. */
export function readRunCost(dir: string, config: RunConfig): RunCostReport {
  let text: string;
  try {
    text = readFileSync(join(dir, FILES.steps), 'utf8');
  } catch {
    return { unavailable: 'no steps.jsonl' };
  }
  const steps: StepCost[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"ep"')) continue;
    try {
      const ep = (JSON.parse(line) as { ep?: StepCost }).ep;
      if (ep && typeof ep.stepTimeRatio === 'number') steps.push(ep);
    } catch {
      // a torn or garbled line: the reader reports it; the cost model just skips it
    }
  }
  if (steps.length === 0) return { unavailable: 'the steps carry no cost-model figures (recorded before the cost model existed)' };
  const ep = config.expertParallel;
  return { ...runCost(steps, ep.devices), placement: ep.placement ? [...ep.placement] : 'round-robin', deviceCapacityFactor: ep.deviceCapacityFactor, bytesPerValue: ep.bytesPerValue };
}
