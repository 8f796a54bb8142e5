// Strategy descriptors: what the UI, the CLI and the config validator know about each balancing strategy.
// The engine has exactly one implementation per id here (src/main/engine/strategies/registry.ts).

export const STRATEGY_IDS = [
  'none',
  'aux-loss',
  'seq-aux-loss',
  'z-loss',
  'loss-free',
  'bip',
  'quantile',
  'sinkhorn',
  'capacity',
  'optimal',
] as const;
export type StrategyId = (typeof STRATEGY_IDS)[number];

export type OptionValue = number | boolean | string;

interface OptionBase {
  name: string;
  label: string;
  /** one line of help shown next to the field and in `--help` */
  help: string;
}
export interface NumberOption extends OptionBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  integer?: boolean;
  /** log-scale slider in the UI (learning-rate-like values) */
  log?: boolean;
}
export interface BooleanOption extends OptionBase {
  kind: 'boolean';
  default: boolean;
}
export interface ChoiceOption extends OptionBase {
  kind: 'choice';
  default: string;
  choices: readonly string[];
}
export type StrategyOption = NumberOption | BooleanOption | ChoiceOption;

export interface StrategyDescriptor {
  id: StrategyId;
  label: string;
  /** one sentence: what it does */
  summary: string;
  /** primary source */
  paper: { title: string; url: string };
  /** gate score function a run gets when it names none: softmax for every strategy, so comparisons share one gate */
  defaultScoreFn: 'softmax' | 'sigmoid';
  /** the gate the strategy's paper used, when it differs from defaultScoreFn (shown as a hint) */
  paperScoreFn?: 'softmax' | 'sigmoid';
  /** old option names that set several current ones (saved runs keep opening) */
  aliases?: Record<string, readonly string[]>;
  options: readonly StrategyOption[];
}

export type StrategyOptions = Record<string, OptionValue>;

const ALPHA_HELP = 'weight α of the auxiliary loss (paper baselines: 1e-3, 3e-4, 0.1)';

export const STRATEGIES: Record<StrategyId, StrategyDescriptor> = {
  none: {
    id: 'none',
    label: 'None (plain top-k)',
    summary: 'Each token takes the k experts with the highest gate score; nothing balances the load.',
    paper: { title: 'Shazeer et al. 2017, Outrageously Large Neural Networks', url: 'https://arxiv.org/abs/1701.06538' },
    defaultScoreFn: 'softmax',
    options: [],
  },
  'aux-loss': {
    id: 'aux-loss',
    label: 'Loss-Controlled: auxiliary loss (Switch/GShard)',
    summary: 'Adds α·N·Σ f_i·P_i to the loss so the router learns to spread tokens.',
    paper: { title: 'Fedus et al. 2021, Switch Transformers', url: 'https://arxiv.org/abs/2101.03961' },
    defaultScoreFn: 'softmax',
    options: [
      { name: 'alpha', label: 'α', kind: 'number', default: 1e-2, min: 0, max: 1, log: true, help: ALPHA_HELP },
      {
        name: 'scope',
        label: 'f_i over',
        kind: 'choice',
        default: 'micro',
        choices: ['micro', 'global'],
        help: 'micro: f_i of each micro-batch (Switch); global: f_i of the whole optimizer step\'s batch, all micro-batches (Qwen, Qiu et al. 2025); same with microBatches 1',
      },
    ],
  },
  'seq-aux-loss': {
    id: 'seq-aux-loss',
    label: 'Loss-Controlled: sequence-wise auxiliary loss (DeepSeek)',
    summary: 'The auxiliary loss computed per sequence and averaged over sequences (DeepSeek-V2/V3, Minimind).',
    paper: { title: 'DeepSeek-AI 2024, DeepSeek-V3 Technical Report', url: 'https://arxiv.org/abs/2412.19437' },
    defaultScoreFn: 'softmax',
    options: [{ name: 'alpha', label: 'α', kind: 'number', default: 1e-3, min: 0, max: 1, log: true, help: ALPHA_HELP }],
  },
  'z-loss': {
    id: 'z-loss',
    label: 'Router z-loss',
    summary: 'Penalises large router logits: c_z·mean(logsumexp(logits)²). Also combinable with any strategy via the run option zLoss.',
    paper: { title: 'Zoph et al. 2022, ST-MoE', url: 'https://arxiv.org/abs/2202.08906' },
    defaultScoreFn: 'softmax',
    options: [{ name: 'cz', label: 'c_z', kind: 'number', default: 1e-3, min: 0, max: 1, log: true, help: 'weight of the router z-loss (ST-MoE: 1e-3)' }],
  },
  'loss-free': {
    id: 'loss-free',
    label: 'Loss-Free: per-expert bias (DeepSeek)',
    summary: 'Adds a bias b_i to the scores used for selection only; after each step b_i moves towards balance.',
    paper: { title: 'Wang et al. 2024, Auxiliary-Loss-Free Load Balancing', url: 'https://arxiv.org/abs/2408.15664' },
    // the paper's main runs use sigmoid, its softmax appendix the proportional rule; runs default to one gate for
    // every strategy (softmax, as the BIP paper compares) so a comparison never differs in the gate by accident
    defaultScoreFn: 'softmax',
    paperScoreFn: 'sigmoid',
    options: [
      { name: 'u', label: 'update rate u', kind: 'number', default: 1e-3, min: 0, max: 1, log: true, help: 'bias step per update (paper: 1e-3; with sign the bias moves at most u per step)' },
      { name: 'rule', label: 'update rule', kind: 'choice', default: 'auto', choices: ['auto', 'sign', 'proportional'], help: 'auto: the paper\'s rule for the gate (sigmoid → sign, softmax → proportional); sign: b += u·sign(e); proportional: b += u·e/mean load' },
    ],
  },
  bip: {
    id: 'bip',
    label: 'BIP-Based Balancing (Sun 2025)',
    summary: 'T quantile iterations on the dual of the per-batch binary integer program set expert prices q; top-k of s − q.',
    paper: { title: 'Sun 2025, Binary-Integer-Programming Based Algorithm for Expert Load Balancing', url: 'https://arxiv.org/abs/2502.15451' },
    defaultScoreFn: 'softmax',
    // runs saved before clipP/clipQ existed say clip: true|false, which meant both
    aliases: { clip: ['clipP', 'clipQ'] },
    options: [
      { name: 'T', label: 'dual iterations T', kind: 'number', default: 4, min: 1, max: 64, integer: true, help: 'quantile rounds per step, warm-started from the carried q' },
      { name: 'clipP', label: 'clip token prices p at 0', kind: 'boolean', default: true, help: 'paper (inequality dual, p ≥ 0). Clipping p is what stalls on skewed routers: tokens with p = 0 are priced as if they used < k experts, yet top-k gives them k' },
      { name: 'clipQ', label: 'clip expert prices q at 0', kind: 'boolean', default: true, help: 'paper (q ≥ 0): prices can only push busy experts down, never lift idle ones; off = free q, re-centred to zero mean (balances like no clip)' },
      { name: 'route', label: 'route with', kind: 'choice', default: 'current', choices: ['current', 'previous'], help: "current: this batch's q (paper); previous: last step's q (causal, no in-batch leakage)" },
      { name: 'capacityRounding', label: 'capacity rounding', kind: 'choice', default: 'ceil', choices: ['ceil', 'floor'], help: 'C = ⌈k·T/E⌉ (ceil, never infeasible) or ⌊k·T/E⌋ (floor, the paper\'s ≤ kn/m); equal when E divides k·T' },
    ],
  },
  quantile: {
    id: 'quantile',
    label: 'Quantile Balancing (Su; Megatron)',
    summary: 'Equality-constrained dual: route with the previous step\'s q, then set q to the column quantile, re-centred, with EMA.',
    paper: { title: 'Su 2025, MoE World Tour #6: optimal allocation for balance', url: 'https://kexue.fm/archives/10815' },
    defaultScoreFn: 'softmax',
    options: [
      { name: 'ema', label: 'EMA', kind: 'number', default: 0, min: 0, max: 0.999, help: 'q ← ema·q + (1 − ema)·new (Megatron default 0 = replace)' },
      { name: 'priceOn', label: 'price', kind: 'choice', default: 'scores', choices: ['scores', 'logits'], help: 'scores: quantiles of the gate probabilities (Su); logits: of the raw router logits (Megatron)' },
    ],
  },
  sinkhorn: {
    id: 'sinkhorn',
    label: 'Sinkhorn (S-BASE)',
    summary: 'Top-k of a nearly doubly-stochastic rescaling of exp(logits); gate values from the original scores.',
    paper: { title: 'Clark et al. 2022, Unified Scaling Laws for Routed Language Models', url: 'https://arxiv.org/abs/2202.01169' },
    defaultScoreFn: 'softmax',
    options: [
      { name: 'tol', label: 'tolerance', kind: 'number', default: 1e-4, min: 1e-8, max: 1e-1, log: true, help: 'stop when mean |Δd1| falls below this' },
      { name: 'maxIter', label: 'max iterations', kind: 'number', default: 50, min: 1, max: 1000, integer: true, help: 'upper bound on Sinkhorn iterations' },
    ],
  },
  capacity: {
    id: 'capacity',
    label: 'Top-k with capacity (token dropping)',
    summary: 'Plain top-k, then each expert keeps at most ⌈CF·k·T/N⌉ tokens; overflow is dropped and counted.',
    paper: { title: 'Lepikhin et al. 2020, GShard', url: 'https://arxiv.org/abs/2006.16668' },
    defaultScoreFn: 'softmax',
    options: [
      { name: 'capacityFactor', label: 'capacity factor', kind: 'number', default: 1.25, min: 0.1, max: 16, help: 'capacity per expert = ⌈CF·k·T/N⌉' },
      { name: 'dropPolicy', label: 'drop policy', kind: 'choice', default: 'probs', choices: ['probs', 'position'], help: 'probs: keep the highest gate scores; position: keep the earliest tokens' },
    ],
  },
  optimal: {
    id: 'optimal',
    label: 'Optimal (exact per-batch assignment)',
    summary: 'Solves the batch exactly: at most k experts per token, at most C tokens per expert, maximum total score.',
    paper: { title: 'Sun 2025 (the BIP it solves exactly; LP is totally unimodular)', url: 'https://arxiv.org/abs/2502.15451' },
    defaultScoreFn: 'softmax',
    options: [{ name: 'capacityFactor', label: 'capacity factor', kind: 'number', default: 1, min: 1, max: 16, help: 'C = ⌈CF·k·T/N⌉ (1 = the ideal load)' }],
  },
};

export type OptionsResult = { ok: true; options: StrategyOptions } | { ok: false; error: string };

/** Fill defaults and check every given option against the descriptor; errors name the option and its range. */
export function resolveStrategyOptions(id: string, given: Record<string, unknown> = {}): OptionsResult {
  const d = (STRATEGIES as Record<string, StrategyDescriptor | undefined>)[id];
  if (!d) return { ok: false, error: `unknown strategy "${id}" (one of: ${STRATEGY_IDS.join(', ')})` };
  const out: StrategyOptions = {};
  given = expandAliases(d, given);
  for (const key of Object.keys(given)) {
    if (!d.options.some((o) => o.name === key)) {
      const names = d.options.map((o) => o.name).join(', ') || 'none';
      return { ok: false, error: `strategy "${id}" has no option "${key}" (options: ${names})` };
    }
  }
  for (const o of d.options) {
    const raw = given[o.name];
    if (raw === undefined) {
      out[o.name] = o.default;
      continue;
    }
    const checked = checkOption(o, raw);
    if (typeof checked === 'string') return { ok: false, error: `${id}.${o.name}: ${checked}` };
    out[o.name] = checked.value;
  }
  return { ok: true, options: out };
}

/** An alias sets each of its targets that the input does not name itself; the alias itself goes away. */
function expandAliases(d: StrategyDescriptor, given: Record<string, unknown>): Record<string, unknown> {
  if (!d.aliases) return given;
  const out = { ...given };
  for (const [alias, targets] of Object.entries(d.aliases)) {
    if (!(alias in out)) continue;
    for (const t of targets) if (!(t in given)) out[t] = given[alias];
    delete out[alias];
  }
  return out;
}

function checkOption(o: StrategyOption, raw: unknown): { value: OptionValue } | string {
  if (o.kind === 'number') {
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `expected a number in [${o.min}, ${o.max}], got ${JSON.stringify(raw)}`;
    if (o.integer && !Number.isInteger(v)) return `expected an integer in [${o.min}, ${o.max}], got ${v}`;
    if (v < o.min || v > o.max) return `${v} is outside [${o.min}, ${o.max}]`;
    return { value: v };
  }
  if (o.kind === 'boolean') {
    if (typeof raw === 'boolean') return { value: raw };
    if (raw === 'true' || raw === '1') return { value: true };
    if (raw === 'false' || raw === '0') return { value: false };
    return `expected true or false, got ${JSON.stringify(raw)}`;
  }
  if (typeof raw !== 'string' || !o.choices.includes(raw)) return `expected one of ${o.choices.join(', ')}, got ${JSON.stringify(raw)}`;
  return { value: raw };
}
