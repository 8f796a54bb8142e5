// The new-run form as plain strings, turned into a RunConfigInput and validated with the shared zod schema;
// every problem is keyed by its field path ("steps", "data.path", "strategyOptions.T").
import type { FieldError } from '../../../shared/run-config';
import { RunConfigInputSchema, resolveRunConfig, type RunConfigInput } from '../../../shared/run-config';
import { PRESETS, type PresetId } from '../../../shared/presets';
import { STRATEGIES, resolveStrategyOptions, type StrategyId, type StrategyOption } from '../../../shared/strategy-descriptors';

export type DataKind = 'synthetic' | 'corpus' | 'file';

/** the shape fields the form sets for preset "custom" (the CLI's --layers --experts --top-k --d-model --heads --ctx --batch --expert-hidden) */
export const SHAPE_FIELDS = [
  { key: 'layers', label: 'layers' },
  { key: 'experts', label: 'experts' },
  { key: 'topK', label: 'top-k' },
  { key: 'dModel', label: 'd_model' },
  { key: 'heads', label: 'heads' },
  { key: 'ctx', label: 'context' },
  { key: 'batch', label: 'batch' },
  { key: 'expertHidden', label: 'expert hidden' },
] as const;
export type ShapeKey = (typeof SHAPE_FIELDS)[number]['key'];

export interface RunForm {
  name: string;
  preset: PresetId | 'custom';
  /** the model shape when preset is "custom" (ignored otherwise) */
  model: Record<ShapeKey, string>;
  dataKind: DataKind;
  dataPath: string;
  strategy: StrategyId;
  /** option name → text (numbers, choices) or boolean */
  strategyOptions: Record<string, string | boolean>;
  /** '' = softmax, the same for every strategy (kept when the strategy changes) */
  scoreFn: '' | 'softmax' | 'sigmoid';
  gateNorm: 'auto' | 'on' | 'off';
  evalBatches: string;
  /** gradient accumulation: micro-batches per optimizer step */
  microBatches: string;
  valTokens: string;
  warmupSteps: string;
  seed: string;
  steps: string;
  zLoss: string;
  lr: string;
  evalEvery: string;
  checkpointEvery: string;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
}

export type FieldErrors = Record<string, string>;

export function optionText(o: StrategyOption): string | boolean {
  return o.kind === 'boolean' ? o.default : String(o.default);
}

export function optionDefaults(strategy: StrategyId): Record<string, string | boolean> {
  return Object.fromEntries(STRATEGIES[strategy].options.map((o) => [o.name, optionText(o)]));
}

export function defaultForm(): RunForm {
  return {
    name: '',
    preset: 'tiny',
    // a custom shape starts from tiny's, like the CLI's flags on top of --preset custom
    model: Object.fromEntries(SHAPE_FIELDS.map(({ key }) => [key, String(PRESETS.tiny[key])])) as Record<ShapeKey, string>,
    dataKind: 'synthetic',
    dataPath: '',
    strategy: 'none',
    strategyOptions: {},
    scoreFn: '',
    gateNorm: 'auto',
    evalBatches: '4',
    microBatches: '1',
    valTokens: '0',
    warmupSteps: '20',
    seed: '1',
    steps: '300',
    zLoss: '0',
    lr: '0.003',
    evalEvery: '50',
    checkpointEvery: '100',
    backend: 'auto',
  };
}

/** '' → undefined (use the default); a number; or NaN for text that is not one. */
function parseNum(s: string): number | undefined {
  const t = s.trim();
  return t === '' ? undefined : Number(t);
}

const NUMERIC_FIELDS = ['seed', 'steps', 'zLoss', 'lr', 'evalEvery', 'checkpointEvery', 'evalBatches', 'microBatches', 'valTokens', 'warmupSteps'] as const;

/** The request body, plus the fields that are not numbers at all (zod never sees those). */
export function toInput(f: RunForm): { input: RunConfigInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const input: Record<string, unknown> = { preset: f.preset, strategy: f.strategy, backend: f.backend };
  if (f.name.trim()) input.name = f.name.trim();
  if (f.scoreFn) input.scoreFn = f.scoreFn;
  if (f.gateNorm !== 'auto') input.gateNorm = f.gateNorm;
  input.data = f.dataKind === 'file' ? { kind: 'file', path: f.dataPath.trim() } : { kind: f.dataKind };
  for (const k of NUMERIC_FIELDS) {
    const v = parseNum(f[k]);
    if (v === undefined) continue;
    if (Number.isNaN(v)) errors[k] = `“${f[k]}” is not a number`;
    else input[k] = v;
  }
  const opts: Record<string, number | boolean | string> = {};
  for (const o of STRATEGIES[f.strategy].options) {
    const raw = f.strategyOptions[o.name];
    if (raw === undefined) continue;
    if (o.kind === 'number') {
      const v = parseNum(String(raw));
      if (v === undefined) continue;
      if (Number.isNaN(v)) errors[`strategyOptions.${o.name}`] = `“${raw}” is not a number`;
      else opts[o.name] = v;
    } else opts[o.name] = raw;
  }
  input.strategyOptions = opts;
  if (f.preset === 'custom') {
    const model: Record<string, number> = {};
    for (const { key } of SHAPE_FIELDS) {
      const v = parseNum(f.model[key]);
      if (v === undefined) continue;
      if (Number.isNaN(v)) errors[`model.${key}`] = `“${f.model[key]}” is not a number`;
      else model[key] = v;
    }
    input.model = model;
  }
  return { input: input as RunConfigInput, errors };
}

/** Field-level messages: zod issues by path, then each strategy option on its own, then cross-field checks. */
export function validateForm(f: RunForm): { input: RunConfigInput; errors: FieldErrors } {
  const { input, errors } = toInput(f);
  const parsed = RunConfigInputSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.join('.') || 'form';
      errors[path] ??= issue.message;
    }
  }
  const opts = (input.strategyOptions ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(opts)) {
    const r = resolveStrategyOptions(f.strategy, { [name]: value });
    if (!r.ok) errors[`strategyOptions.${name}`] ??= stripOptionPrefix(r.error);
  }
  if (Object.keys(errors).length === 0) {
    const resolved = resolveRunConfig(input);
    if (!resolved.ok) Object.assign(errors, fieldErrorsToMap(resolved.errors));
  }
  return { input, errors };
}

/** "bip.T: 0 is outside [1, 64]" → "0 is outside [1, 64]" */
function stripOptionPrefix(message: string): string {
  return message.replace(/^[\w-]+\.\w+: /, '');
}

/** Server-side FieldErrors (CommandError.fieldErrors) onto the same keys the form shows. */
export function fieldErrorsToMap(list: FieldError[]): FieldErrors {
  const out: FieldErrors = {};
  for (const e of list) {
    let path = e.path;
    let message = e.message;
    const m = /^[\w-]+\.(\w+): (.*)$/s.exec(message);
    if (path === 'strategyOptions' && m) {
      path = `strategyOptions.${m[1]}`;
      message = m[2]!;
    }
    out[path] ??= message;
  }
  return out;
}

/** Keys the form has a place for; anything else is shown in the form's summary line. */
export function knownField(path: string, f: RunForm): boolean {
  if (path.startsWith('model.')) return f.preset === 'custom' && SHAPE_FIELDS.some(({ key }) => `model.${key}` === path);
  if (path.startsWith('strategyOptions.')) return STRATEGIES[f.strategy].options.some((o) => `strategyOptions.${o.name}` === path);
  return ['name', 'preset', 'data', 'data.path', 'strategy', 'scoreFn', 'gateNorm', 'backend', ...NUMERIC_FIELDS].includes(path);
}
