// Strategy "optimal": the exact solution of each training batch's routing problem (≤ k experts per token, ≤ C tokens
// per expert, maximum total gate score), from the solver in ../solver/optimal. A reference point, not a causal router.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; idxTK/keepTK [T*K]; qE expert prices.
// State: (1) the solver's prices of this layer's last training batch: consecutive batches of one layer have nearly
// the same prices, so they warm-start the next solve (same optimum, a much shorter repair); kept as float32, exactly
// what a checkpoint stores, so a resumed run starts its next solve from the same prices. (2) q, the exact dual
// prices of that optimum (../solver/duals), for validation.
// Validation is causal: it never solves its own batch (that would let routing see the whole batch, future tokens
// included). It routes by top-k of s − q with q frozen from the last training step, like bip's and quantile's q,
// so validation numbers compare with the causal methods; it leaves the state alone.
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { capacityOf, numberOption, readState, topkWithOffset } from './common';
import { solveOptimal } from '../solver/optimal';
import { optimalPrices } from '../solver/duals';
import { negate } from './dual';

export function createOptimal(spec: LayerSpec, factor: number): BalancingStrategy {
  let priceE: Float32Array | null = null;
  let qE: Float32Array = new Float32Array(spec.experts);
  return {
    id: 'optimal',
    select(batch) {
      if (!batch.training) return topkWithOffset(batch.scoresTE, negate(qE), spec.topK);
      const [T, E] = batch.scoresTE.shape;
      const C = batch.capacity ?? capacityOf(factor, spec.topK, T, E);
      const scores = batch.scoresTE.dataSync() as Float32Array;
      const sol = solveOptimal(scores, T, E, spec.topK, C, priceE ? { startPrices: priceE } : {});
      priceE = Float32Array.from(sol.priceE);
      qE = Float32Array.from(optimalPrices(scores, T, E, spec.topK, C, sol.idxTK, sol.keepTK));
      return { idxTK: sol.idxTK, keepTK: sol.keepTK };
    },
    getState: (): Record<string, Float32Array> => ({ q: Float32Array.from(qE), ...(priceE ? { prices: Float32Array.from(priceE) } : {}) }),
    setState(state) {
      priceE = readState(state, 'prices', spec.experts) ?? null;
      // checkpoints written before validation became causal carry no q: validation starts from plain top-k
      qE = readState(state, 'q', spec.experts) ?? new Float32Array(spec.experts);
    },
    dispose: () => {},
  };
}

export const optimalFactory: StrategyFactory = (spec, options) => createOptimal(spec, numberOption(options, 'capacityFactor', 1));
