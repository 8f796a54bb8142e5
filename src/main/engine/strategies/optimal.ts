// Strategy "optimal": the exact solution of each batch's routing problem (≤ k experts per token, ≤ C tokens per
// expert, maximum total gate score), from the solver in ../solver/optimal. A reference point, not a causal router.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; idxTK/keepTK [T*K].
// State: the optimal prices of this layer's last training batch. Consecutive batches of one layer have nearly
// the same prices, so they warm-start the next solve (same optimum, a much shorter repair). They are kept as
// float32, exactly what a checkpoint stores, so a resumed run starts its next solve from the same prices.
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { capacityOf, numberOption, readState } from './common';
import { solveOptimal } from '../solver/optimal';

export function createOptimal(spec: LayerSpec, factor: number): BalancingStrategy {
  let priceE: Float32Array | null = null;
  return {
    id: 'optimal',
    select(batch) {
      const [T, E] = batch.scoresTE.shape;
      const C = batch.capacity ?? capacityOf(factor, spec.topK, T, E);
      const sol = solveOptimal(batch.scoresTE.dataSync() as Float32Array, T, E, spec.topK, C, priceE ? { startPrices: priceE } : {});
      // evaluation batches leave the state alone: the training trajectory must not depend on evaluation
      if (batch.training) priceE = Float32Array.from(sol.priceE);
      return { idxTK: sol.idxTK, keepTK: sol.keepTK };
    },
    getState: (): Record<string, Float32Array> => (priceE ? { prices: Float32Array.from(priceE) } : {}),
    setState(state) {
      priceE = readState(state, 'prices', spec.experts) ?? null;
    },
    dispose: () => {},
  };
}

export const optimalFactory: StrategyFactory = (spec, options) => createOptimal(spec, numberOption(options, 'capacityFactor', 1));
