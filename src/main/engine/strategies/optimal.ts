// Strategy "optimal": the exact solution of each batch's routing problem (≤ k experts per token, ≤ C tokens per
// expert, maximum total gate score), from the solver in ../solver/optimal. A reference point, not a causal router.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; idxTK/keepTK [T*K].
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { capacityOf, numberOption } from './common';
import { solveOptimal } from '../solver/optimal';

export function createOptimal(spec: LayerSpec, factor: number): BalancingStrategy {
  return {
    id: 'optimal',
    select(batch) {
      const [T, E] = batch.scoresTE.shape;
      const C = batch.capacity ?? capacityOf(factor, spec.topK, T, E);
      const sol = solveOptimal(batch.scoresTE.dataSync() as Float32Array, T, E, spec.topK, C);
      return { idxTK: sol.idxTK, keepTK: sol.keepTK };
    },
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const optimalFactory: StrategyFactory = (spec, options) => createOptimal(spec, numberOption(options, 'capacityFactor', 1));
