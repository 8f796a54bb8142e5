// Occasional measurements on one batch: routing objective vs the exact optimum, and each expert's top bytes.
//
// Shape legend: T tokens, E experts, K top-k slots; scoresTE row-major [T*E]; idxTK/keepTK [T*K].
import { objectiveRatio as ratioOf, routingObjective } from '../../../shared/metrics';
import { solveOptimal } from '../solver/optimal';
import type { LayerRouting } from '../model/moe';

/**
 * Σ selected gate scores ÷ the BIP optimum with capacity C = ⌈k·T/E⌉, per layer, then the mean.
 * Above 1 means the strategy took more score than any balanced assignment allows (plain top-k does).
 */
export function objectiveRatio(layers: LayerRouting[], tokens: number, experts: number, k: number): number {
  const capacity = Math.ceil((k * tokens) / experts);
  let total = 0;
  let n = 0;
  for (const r of layers) {
    if (!r.scoresTE) continue;
    const selected = routingObjective(r.scoresTE, r.idxTK, r.keepTK, experts, k);
    const ratio = ratioOf(selected, solveOptimal(r.scoresTE, tokens, experts, k, capacity).objective);
    if (Number.isFinite(ratio)) {
      total += ratio;
      n++;
    }
  }
  return n > 0 ? total / n : Number.NaN;
}

/** [layer][expert] → up to 16 (byte, count) pairs, most frequent first. */
export function topTokens(layers: LayerRouting[], inputs: Int32Array, experts: number, k: number): Array<Array<Array<[number, number]>>> {
  return layers.map((r) => {
    const counts = Array.from({ length: experts }, () => new Int32Array(256));
    for (let i = 0; i < r.idxTK.length; i++) if (r.keepTK[i]) counts[r.idxTK[i]!]![inputs[Math.floor(i / k)]!]!++;
    return counts.map((c) => {
      const pairs: Array<[number, number]> = [];
      c.forEach((n, b) => {
        if (n > 0) pairs.push([b, n]);
      });
      return pairs.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 16);
    });
  });
}
