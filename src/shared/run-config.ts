// Run configuration: one zod schema shared by main (validation of every payload) and the renderer's forms.
import { z } from 'zod';
import { PRESETS, PRESET_IDS, type ModelShape } from './presets';
import { STRATEGIES, STRATEGY_IDS, resolveStrategyOptions, type StrategyId, type StrategyOptions } from './strategy-descriptors';
import { placementError, type ExpertParallelSpec } from './cost-model';

export const BACKEND_IDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_IDS)[number];

// one message naming the allowed range, for the form and the CLI alike
const int = (min: number, max: number) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return z.number(range).int(range).min(min, range).max(max, range);
};

export const ModelShapeSchema = z.object({
  ctx: int(4, 4096),
  dModel: int(8, 4096),
  heads: int(1, 64),
  layers: int(1, 48),
  experts: int(2, 256),
  topK: int(1, 16),
  expertHidden: int(4, 16384),
  batch: int(1, 1024),
  vocab: z.literal(256),
});

export const DataSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('synthetic') }),
  z.object({ kind: z.literal('corpus') }),
  z.object({ kind: z.literal('file'), path: z.string().min(1, 'choose a text file') }),
]);
export type DataSource = z.infer<typeof DataSourceSchema>;

/** What a user (form, CLI flags, API client) gives; everything but the basics has a default. */
export const RunConfigInputSchema = z.object({
  name: z.string().trim().min(1).max(120).optional(),
  preset: z.enum([...PRESET_IDS, 'custom']).default('tiny'),
  /** shape overrides (required fields for 'custom' come from tiny when absent) */
  model: ModelShapeSchema.partial().optional(),
  strategy: z.enum(STRATEGY_IDS).default('none'),
  strategyOptions: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).default({}),
  /** router z-loss coefficient added on top of any strategy (0 = off) */
  zLoss: z.number().min(0).max(1).default(0),
  /** capacity factor of token dropping on top of any strategy (0 = off; the capacity strategy has its own) */
  composeCapacity: z.number().min(0).max(16).default(0),
  /** α of a sequence-wise aux loss on top of any strategy (0 = off; DeepSeek-V3: 1e-4 with loss-free) */
  composeSeqAux: z.number().min(0).max(1).default(0),
  /** gate score function; default softmax for every strategy (one gate per comparison; see docs/strategies.md) */
  scoreFn: z.enum(['softmax', 'sigmoid']).optional(),
  /** renormalise the k chosen gate values to sum 1: auto = softmax yes, sigmoid no; on = also sigmoid (DeepSeek-V3) */
  gateNorm: z.enum(['auto', 'on', 'off']).default('auto'),
  data: DataSourceSchema.default({ kind: 'synthetic' }),
  steps: int(1, 10_000_000).default(300),
  seed: int(0, 2 ** 31 - 1).default(1),
  lr: z.number().gt(0).max(1).default(3e-3),
  warmupSteps: int(0, 1_000_000).default(20),
  minLrRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().min(0).max(1).default(0.01),
  gradClip: z.number().min(0).max(1000).default(1),
  backend: z.enum(BACKEND_IDS).default('auto'),
  dispatch: z.enum(['auto', 'dense', 'sparse']).default('auto'),
  /** validation every N steps (0 = off) */
  evalEvery: int(0, 1_000_000).default(50),
  evalBatches: int(1, 1000).default(4),
  /**
   * gradient accumulation: micro-batches (each the preset's batch) per optimizer step; 1 = one batch per step.
   * A step's global batch is microBatches × batch sequences (docs/strategies.md, "Micro-batch vs global batch").
   */
  microBatches: int(1, 1024).default(1),
  /** held-out tokens of the final evaluation (0 = auto: enough that MaxVio_global's sampling floor is < 0.01) */
  valTokens: int(0, 100_000_000).default(0),
  /** checkpoint every N steps (0 = only on demand and at the end) */
  checkpointEvery: int(0, 1_000_000).default(100),
  keepCheckpoints: int(1, 1000).default(3),
  /** routing objective vs the exact optimum every N steps (0 = off) */
  oracleEvery: int(0, 1_000_000).default(25),
  /** the tokens each expert receives most, every N steps (0 = off) */
  topTokensEvery: int(0, 1_000_000).default(50),
  validationFraction: z.number().min(0.01).max(0.5).default(0.1),
  /** the simulated expert-parallel layout the cost model charges imbalance on (src/shared/cost-model.ts) */
  expertParallel: z
    .object({
      /** default: min(4, experts) */
      devices: int(1, 256).optional(),
      /** device of each expert; default round-robin */
      placement: z.array(z.number().int().min(0).max(255)).optional(),
      deviceCapacityFactor: z.number().min(0.1).max(16).default(1),
      bytesPerValue: int(1, 8).default(2),
    })
    .default({ deviceCapacityFactor: 1, bytesPerValue: 2 }),
});
export type RunConfigInput = z.input<typeof RunConfigInputSchema>;

/** Everything filled in: what a run folder records and the engine trains with. */
export interface RunConfig extends Omit<z.output<typeof RunConfigInputSchema>, 'model' | 'scoreFn' | 'strategyOptions' | 'expertParallel'> {
  model: ModelShape;
  expertParallel: ExpertParallelSpec;
  scoreFn: 'softmax' | 'sigmoid';
  strategy: StrategyId;
  strategyOptions: StrategyOptions;
}

export interface FieldError {
  /** dotted path of the field, e.g. "model.topK" or "strategyOptions.T" */
  path: string;
  message: string;
}
export type ConfigResult = { ok: true; config: RunConfig } | { ok: false; errors: FieldError[] };

/** Validate and resolve a run config; errors name the field and the allowed range. */
export function resolveRunConfig(input: unknown): ConfigResult {
  const parsed = RunConfigInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(config)', message: i.message })) };
  }
  const c = parsed.data;
  const base: ModelShape = c.preset === 'custom' ? stripPreset('tiny') : stripPreset(c.preset);
  const model: ModelShape = { ...base, ...(c.model ?? {}) };
  const errors: FieldError[] = [];
  if (model.dModel % model.heads !== 0) errors.push({ path: 'model.heads', message: `dModel ${model.dModel} must be divisible by heads ${model.heads}` });
  if (model.topK >= model.experts) errors.push({ path: 'model.topK', message: `top-k ${model.topK} must be below the number of experts ${model.experts}` });
  const expertParallel: ExpertParallelSpec = { ...c.expertParallel, devices: c.expertParallel.devices ?? Math.min(4, model.experts) };
  const epError = placementError(expertParallel, model.experts);
  if (epError) errors.push({ path: 'expertParallel', message: epError });
  const opts = resolveStrategyOptions(c.strategy, c.strategyOptions);
  if (!opts.ok) errors.push({ path: 'strategyOptions', message: opts.error });
  if (errors.length > 0 || !opts.ok) return { ok: false, errors };
  const scoreFn = c.scoreFn ?? STRATEGIES[c.strategy].defaultScoreFn;
  return { ok: true, config: { ...c, model, scoreFn, strategyOptions: opts.options, expertParallel } };
}

function stripPreset(id: (typeof PRESET_IDS)[number]): ModelShape {
  const { label: _label, gpuOnly: _gpu, ...shape } = PRESETS[id];
  return shape;
}

/** Tokens of one optimizer step: the global batch, microBatches × batch × ctx (configs before the option: 1). */
export function tokensPerStep(c: Pick<RunConfig, 'model'> & { microBatches?: number }): number {
  return (c.microBatches ?? 1) * c.model.batch * c.model.ctx;
}

/** One line per error, for the CLI and logs. */
export function formatFieldErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}
