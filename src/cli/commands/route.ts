// `loadscope route`: route one batch (or a sequence of batches) of gate scores with a strategy and print JSON:
// loads, MaxVio, objective, the exact optimum, objective ratio, time, dropped slots (and the assignment).
//
// Shape legend: S steps, T tokens, E experts, K = top-k slots per token; scoresTE row-major [T*E].
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { CliError, parseSetFlags, type Command } from '../cli-util';
import { parseNpy } from '../npy';
import { STRATEGIES, STRATEGY_IDS, resolveStrategyOptions, type StrategyId } from '../../shared/strategy-descriptors';
import { deadExperts, droppedSlots, idealLoad, loadsFromSelection, maxVio, MaxVioAccumulator, objectiveRatio, routingObjective, coefficientOfVariation } from '../../shared/metrics';
import { createLayerStrategy } from '../../main/engine/strategies/registry';
import { solveOptimal } from '../../main/engine/solver/optimal';

const USAGE = `usage: loadscope route --scores FILE --k K [--capacity C] --strategy ID [--set name=value …]
                      [--assignment] [--score-fn none|softmax|sigmoid]

FILE is .npy (little-endian float32/float64, C order) or .json (nested arrays): 2-D tokens×experts is one
batch; 3-D steps×tokens×experts is a sequence of batches routed in order, the strategy's state (loss-free
bias, bip/quantile prices) carried from step to step.
--score-fn none (default): the file holds gate scores, used as they are (for sinkhorn the logits are their log).
--score-fn softmax|sigmoid: the file holds router logits; gate scores = softmax/sigmoid of each row.
--capacity C: per-expert capacity for the exact optimum, bip, quantile and optimal (default ⌈k·tokens/experts⌉).
strategies: ${STRATEGY_IDS.join(', ')}; their options: loadscope route --help-strategies`;

interface Batches {
  steps: number;
  tokens: number;
  experts: number;
  data: Float32Array | Float64Array;
}

/** Read a 2-D or 3-D score array from .npy or JSON; every failure is a CliError naming the problem. */
export function readScores(file: string): Batches {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `scores file not found: ${file}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  let shape: number[];
  let data: Float32Array | Float64Array;
  if (file.toLowerCase().endsWith('.json')) ({ shape, data } = parseJsonScores(buf.toString('utf8'), file));
  else {
    try {
      ({ shape, data } = parseNpy(buf));
    } catch (err) {
      throw new CliError(`${file}: ${(err as Error).message}`);
    }
  }
  if (shape.length !== 2 && shape.length !== 3) throw new CliError(`${file}: expected a 2-D (tokens×experts) or 3-D (steps×tokens×experts) array, got shape (${shape.join(', ')})`);
  const [steps, tokens, experts] = shape.length === 2 ? [1, shape[0]!, shape[1]!] : (shape as [number, number, number]);
  if (steps < 1 || tokens < 1 || experts < 2) throw new CliError(`${file}: shape (${shape.join(', ')}) needs at least 1 step, 1 token and 2 experts`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      const e = i % experts;
      const t = Math.floor(i / experts) % tokens;
      const s = Math.floor(i / (experts * tokens));
      throw new CliError(`${file}: score ${data[i]} at ${shape.length === 3 ? `step ${s}, ` : ''}token ${t}, expert ${e} is not a finite number`);
    }
  }
  return { steps, tokens, experts, data };
}

function parseJsonScores(text: string, file: string): { shape: number[]; data: Float64Array } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    // checked here, before any recursion: a deeply nested file must not blow the stack
    if (shape.length > 3) throw new CliError(`${file}: expected a 2-D (tokens×experts) or 3-D (steps×tokens×experts) array, found more than 3 levels of nesting`);
  }
  const flat: number[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new CliError(`${file}: ${path} is ${String(JSON.stringify(v)).slice(0, 60)}, expected a number`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new CliError(`${file}: ragged array at ${path || 'top level'} (expected ${shape[depth]} entries)`);
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return { shape, data: Float64Array.from(flat) };
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new CliError(`--${name} must be a positive integer, got "${raw}"`);
  return v;
}

const command: Command = async (argv) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scores: { type: 'string' },
        k: { type: 'string' },
        capacity: { type: 'string' },
        strategy: { type: 'string', default: 'none' },
        set: { type: 'string', multiple: true },
        assignment: { type: 'boolean', default: false },
        'score-fn': { type: 'string', default: 'none' },
        'help-strategies': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return console.log(USAGE), 0;
  if (values['help-strategies']) return console.log(strategyHelp()), 0;
  if (!values.scores) throw new CliError(`--scores FILE is required\n${USAGE}`);
  const k = positiveInt('k', values.k);
  if (k === undefined) throw new CliError('--k K is required');
  const scoreFn = values['score-fn'];
  if (scoreFn !== 'none' && scoreFn !== 'softmax' && scoreFn !== 'sigmoid') throw new CliError(`--score-fn must be none, softmax or sigmoid, got "${scoreFn}"`);
  const resolved = resolveStrategyOptions(values.strategy, parseSetFlags(values.set));
  if (!resolved.ok) throw new CliError(resolved.error);
  const strategy = values.strategy as StrategyId;

  const input = readScores(values.scores);
  const { steps, tokens: T, experts: E } = input;
  if (k >= E) throw new CliError(`--k ${k} must be smaller than the number of experts (${E})`);
  const capacity = positiveInt('capacity', values.capacity) ?? Math.ceil((k * T) / E);
  if (capacity * E < k * T) throw new CliError(`--capacity ${capacity} is too small: ${E} experts × ${capacity} < ${k} slots × ${T} tokens`);

  tf.enableProdMode(); // also silences the tfjs-node advertisement on stderr
  await tf.setBackend('cpu');
  const layer = createLayerStrategy(
    { strategy, strategyOptions: resolved.options, zLoss: 0 },
    { layer: 0, experts: E, topK: k, scoreFn: scoreFn === 'sigmoid' ? 'sigmoid' : 'softmax' },
  );
  const acc = new MaxVioAccumulator();
  const results = [];
  try {
    for (let s = 0; s < steps; s++) {
      const raw = input.data.subarray(s * T * E, (s + 1) * T * E);
      const { scoresTE, logitsTE } = tf.tidy(() => {
        const x = tf.tensor2d(Float32Array.from(raw), [T, E], 'float32');
        if (scoreFn === 'softmax') return { scoresTE: tf.softmax(x), logitsTE: x };
        if (scoreFn === 'sigmoid') return { scoresTE: tf.sigmoid(x), logitsTE: x };
        // scores given: logits = log s (a softmax of those gives s back); non-positive scores have no log
        return { scoresTE: x, logitsTE: tf.log(tf.maximum(x, 1e-30)) };
      });
      const scores = Float64Array.from(scoresTE.dataSync());
      const t0 = performance.now();
      const sel = layer.select({ scoresTE: scoresTE as tf.Tensor2D, logitsTE: logitsTE as tf.Tensor2D, seqLen: T, training: true, capacity });
      const loadE = loadsFromSelection(sel.idxTK, sel.keepTK, E);
      layer.afterStep?.(Float32Array.from(loadE));
      const timeMs = performance.now() - t0;
      tf.dispose([scoresTE, logitsTE]);

      const t1 = performance.now();
      const opt = solveOptimal(scores, T, E, k, capacity);
      const optimumMs = performance.now() - t1;
      const objective = routingObjective(scores, sel.idxTK, sel.keepTK, E, k);
      const vio = maxVio(loadE, idealLoad(k, T, E));
      acc.push([vio]);
      results.push({
        step: s,
        loads: Array.from(loadE),
        maxVio: vio,
        cv: coefficientOfVariation(loadE),
        deadExperts: deadExperts(loadE),
        overCapacity: loadE.reduce((n, l) => n + Math.max(0, l - capacity), 0),
        objective,
        optimum: opt.objective,
        objectiveRatio: objectiveRatio(objective, opt.objective),
        timeMs: round(timeMs),
        optimumMs: round(optimumMs),
        dropped: droppedSlots(sel.keepTK),
        ...(values.assignment ? { assignment: assignmentOf(sel.idxTK, sel.keepTK, T, k) } : {}),
      });
    }
  } finally {
    layer.dispose();
  }
  const summary = { avgMaxVio: acc.avg, supMaxVio: acc.sup };
  console.log(JSON.stringify({ strategy, options: resolved.options, scoreFn, k, capacity, steps, tokens: T, experts: E, summary, results }, null, 1));
  return 0;
};
export default command;

function assignmentOf(idxTK: Int32Array, keepTK: Uint8Array, T: number, k: number): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const row: number[] = [];
    for (let r = 0; r < k; r++) if (keepTK[t * k + r]) row.push(idxTK[t * k + r]!);
    out.push(row);
  }
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function strategyHelp(): string {
  const lines: string[] = [];
  for (const d of Object.values(STRATEGIES)) {
    lines.push(`${d.id}: ${d.summary}`);
    for (const o of d.options) {
      const range = o.kind === 'number' ? ` [${o.min}, ${o.max}]` : o.kind === 'choice' ? ` (${o.choices.join('|')})` : '';
      lines.push(`  --set ${o.name}=…  default ${String(o.default)}${range}: ${o.help}`);
    }
  }
  return lines.join('\n');
}
