// Sweeps: the spec a user gives (strategies × option values × seeds on one base config), its zod schema
// (validated in main) and the expansion into a grid of run configs, shared by the CLI, main and the form.
import { z } from 'zod';
import { RunConfigInputSchema, resolveRunConfig, type FieldError, type RunConfigInput } from './run-config';
import { STRATEGIES, STRATEGY_IDS, type StrategyId } from './strategy-descriptors';

const optionValue = z.union([z.number(), z.boolean(), z.string().trim().min(1)]);

export const SweepSpecSchema = z.object({
  name: z.string().trim().min(1).max(120).optional(),
  /** everything every run shares (strategy, options and seed come from the axes below) */
  base: RunConfigInputSchema.omit({ strategy: true, strategyOptions: true, seed: true, name: true }).default({} as never),
  strategies: z.array(z.enum(STRATEGY_IDS)).min(1, 'give at least one strategy').max(12),
  /** strategy option → the values to sweep; an option only multiplies the strategies that have it */
  options: z.record(z.string().trim().min(1), z.array(optionValue).min(1).max(32)).default({}),
  seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1, 'give at least one seed').max(64),
});
export type SweepSpec = z.input<typeof SweepSpecSchema>;

/** One run of the grid: its key (stable across restarts), the swept values and the run config input. */
export interface SweepCell {
  key: string;
  strategy: StrategyId;
  options: Record<string, number | boolean | string>;
  seed: number;
  config: RunConfigInput;
}

export const MAX_SWEEP_RUNS = 512;

export type GridResult = { ok: true; cells: SweepCell[] } | { ok: false; errors: FieldError[] };

/** Expand a spec into its runs; every config is resolved first so a bad value fails before anything starts. */
export function expandSweep(input: unknown): GridResult {
  const parsed = SweepSpecSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(sweep)', message: i.message })) };
  const spec = parsed.data;
  const strategies = [...new Set(spec.strategies)];
  const errors: FieldError[] = [];
  for (const name of Object.keys(spec.options)) {
    if (!strategies.some((s) => STRATEGIES[s].options.some((o) => o.name === name))) {
      errors.push({ path: `options.${name}`, message: `no chosen strategy (${strategies.join(', ')}) has an option "${name}"` });
    }
  }
  if (errors.length) return { ok: false, errors };
  const cells: SweepCell[] = [];
  for (const strategy of strategies) {
    // only the swept options this strategy has multiply its runs
    const axes = Object.entries(spec.options).filter(([name]) => STRATEGIES[strategy].options.some((o) => o.name === name));
    for (const combo of cartesian(axes)) {
      for (const seed of [...new Set(spec.seeds)]) {
        const key = [`strategy=${strategy}`, ...Object.entries(combo).map(([k, v]) => `${k}=${String(v)}`), `seed=${seed}`].join(',');
        const config = { ...spec.base, strategy, strategyOptions: combo, seed, name: `${spec.name ?? 'sweep'} · ${key.replace(/^strategy=/, '')}` } as RunConfigInput;
        const res = resolveRunConfig(config);
        if (!res.ok) {
          for (const e of res.errors) errors.push({ path: `${key}: ${e.path}`, message: e.message });
          continue;
        }
        cells.push({ key, strategy, options: combo, seed, config });
      }
    }
  }
  if (errors.length) return { ok: false, errors };
  if (cells.length > MAX_SWEEP_RUNS) return { ok: false, errors: [{ path: '(sweep)', message: `${cells.length} runs is more than ${MAX_SWEEP_RUNS}; sweep fewer values` }] };
  return { ok: true, cells };
}

function cartesian(axes: Array<[string, Array<number | boolean | string>]>): Array<Record<string, number | boolean | string>> {
  let out: Array<Record<string, number | boolean | string>> = [{}];
  for (const [name, values] of axes) out = out.flatMap((c) => [...new Set(values)].map((v) => ({ ...c, [name]: v })));
  return out;
}

/** What a sweep view shows per run: the swept values and the headline metrics (null while unknown). */
export interface SweepRow {
  key: string;
  runId: string | null;
  status: string;
  strategy: string;
  seed: number;
  options: Record<string, number | boolean | string>;
  steps: number;
  totalSteps: number;
  valPerplexity: number | null;
  avgMaxVio: number | null;
  supMaxVio: number | null;
  dropRate: number | null;
  tokensPerSec: number | null;
}

export type SweepStatus = 'running' | 'cancelled' | 'done';

export interface SweepInfo {
  sweepId: string;
  name: string;
  createdAt: string;
  status: SweepStatus;
  runs: number;
  completed: number;
}

export interface SweepDetail extends SweepInfo {
  spec: SweepSpec;
  rows: SweepRow[];
}
