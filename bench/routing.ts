// Benchmark section "routing": every strategy's MaxVio, objective ÷ exact optimum and time on fixed seeded batches
// (4096 tokens × 16/64 experts, k = 2/8, benign and skewed), plus the exact solver's own time.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scores row-major [T*E].
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { highsSection } from './routing-highs';
import type { BenchModule, BenchSection } from './types';
import { STRATEGY_IDS } from '../src/shared/strategy-descriptors';
import { createLayerStrategy } from '../src/main/engine/strategies/registry';
import { solveOptimal } from '../src/main/engine/solver/optimal';
import { droppedSlots, idealLoad, loadsFromSelection, maxVio, objectiveRatio, routingObjective } from '../src/shared/metrics';

const T = 4096;

/** A seeded N(0,1) generator: mulberry32 → Box-Muller. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * softmax(z + skew·b) with z ~ N(0,1) per pair (new for every seed) and b ~ N(0,1) per expert. b depends on
 * E only, so the warm-up batches and the measured batch share one skewed router, as in training; with a new
 * b per batch, the prices q carried over by quantile/loss-free would point the wrong way.
 */
function scores(E: number, skew: number, seed: number): Float32Array {
  const g = gaussian(seed);
  const gb = gaussian(7919 * E);
  const biasE = Array.from({ length: E }, () => gb() * skew);
  const s = new Float32Array(T * E);
  const row = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    let m = -Infinity;
    for (let e = 0; e < E; e++) m = Math.max(m, (row[e] = g() + biasE[e]!));
    let sum = 0;
    for (let e = 0; e < E; e++) sum += row[e] = Math.exp(row[e]! - m);
    for (let e = 0; e < E; e++) s[t * E + e] = row[e]! / sum;
  }
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const bench: BenchModule = async (ctx) => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const reps = ctx.quick ? 1 : 3;
  const warmup = ctx.quick ? 0 : 3;
  const rows: Array<Array<string | number>> = [];
  const solverRows: Array<Array<string | number>> = [];
  const data: unknown[] = [];
  for (const E of [16, 64]) {
    for (const K of [2, 8]) {
      for (const [kind, skew] of [['benign', 0], ['skewed', 1.5]] as const) {
        const batch = scores(E, skew, 1000 + E + K);
        const C = Math.ceil((K * T) / E);
        const times: number[] = [];
        let optimum = 0;
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          optimum = solveOptimal(batch, T, E, K, C).objective;
          times.push(performance.now() - t0);
        }
        const config = `${E}e k=${K} ${kind}`;
        ctx.log(`${config}: optimum ${optimum.toFixed(3)} in ${median(times).toFixed(1)} ms`);
        solverRows.push([config, C, median(times), optimum]);
        const scoresTE = tf.tensor2d(batch, [T, E]);
        const logitsTE = tf.log(scoresTE) as tf.Tensor2D;
        for (const id of STRATEGY_IDS) {
          const layer = createLayerStrategy({ strategy: id, strategyOptions: {}, zLoss: 0 }, { layer: 0, experts: E, topK: K, scoreFn: 'softmax' });
          // stateful strategies (loss-free, bip, quantile) first see a few batches of the same distribution
          for (let w = 0; w < warmup; w++) {
            const warm = tf.tensor2d(scores(E, skew, 1000 + E + K + 1 + w), [T, E]);
            const warmLogits = tf.log(warm) as tf.Tensor2D;
            const sel = layer.select({ scoresTE: warm, logitsTE: warmLogits, seqLen: 128, training: true });
            layer.afterStep?.(Float32Array.from(loadsFromSelection(sel.idxTK, sel.keepTK, E)));
            tf.dispose([warm, warmLogits]);
          }
          const stepTimes: number[] = [];
          let sel = null;
          const snapshot = layer.getState();
          for (let r = 0; r < reps; r++) {
            layer.setState(snapshot); // every repeat is the same training step from the same state
            const t0 = performance.now();
            sel = layer.select({ scoresTE, logitsTE, seqLen: 128, training: true });
            stepTimes.push(performance.now() - t0);
          }
          layer.dispose();
          const loadE = loadsFromSelection(sel!.idxTK, sel!.keepTK, E);
          const vio = maxVio(loadE, idealLoad(K, T, E));
          const ratio = objectiveRatio(routingObjective(batch, sel!.idxTK, sel!.keepTK, E, K), optimum);
          const row = [config, id, vio, ratio, droppedSlots(sel!.keepTK), median(stepTimes)];
          rows.push(row);
          data.push({ experts: E, k: K, kind, strategy: id, maxVio: vio, objectiveRatio: ratio, dropped: row[4], ms: row[5] });
        }
        tf.dispose([scoresTE, logitsTE]);
      }
    }
  }
  const sections: BenchSection[] = [
    {
      title: `Exact routing optimum (${T} tokens, C = ⌈k·T/E⌉)`,
      columns: ['batch', 'C', 'solver ms', 'optimum'],
      rows: solverRows,
      notes: ['ε-scaling auction start prices + exact successive shortest paths over the E expert nodes (src/main/engine/solver/); median of the repetitions'],
    },
    {
      title: `Routing quality and time per strategy (${T} tokens, default options)`,
      columns: ['batch', 'strategy', 'MaxVio', 'obj/opt', 'dropped', 'select ms'],
      rows,
      notes: [
        'skewed = softmax(z + 1.5·b_e), b_e ~ N(0,1) per expert; benign = softmax(z)',
        `stateful strategies warmed up on ${warmup} batches of the same distribution; obj/opt > 1 means capacity was broken`,
        'tfjs cpu backend (pure JS); select ms includes reading the selection back to typed arrays',
      ],
      data,
    },
    highsSection(ctx),
  ];
  return sections;
};
export default bench;
