// Strategy "optimal": the exact solution of each batch's routing problem (≤ k experts per token, ≤ C tokens per
// expert, maximum total gate score), from the solver in ../solver/optimal. A reference point, not a causal router.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; idxTK/keepTK [T*K].
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { capacityOf, numberOption } from './common';
import { solveOptimal } from '../solver/optimal';
import { plainTopK } from '../../../shared/balance-metrics';

export function createOptimal(spec: LayerSpec, factor: number): BalancingStrategy {
  return {
    id: 'optimal',
    select(batch) {
      const [T, E] = batch.scoresTE.shape;
      const C = batch.capacity ?? capacityOf(factor, spec.topK, T, E);
      const scores = batch.scoresTE.dataSync() as Float32Array;
      const sol = solveOptimal(scores, T, E, spec.topK, C);
      // the demand is what each token would take unconstrained: plain top-k of its gate scores
      return { idxTK: sol.idxTK, keepTK: sol.keepTK, demandTK: plainTopK(scores, T, E, spec.topK) };
    },
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const optimalFactory: StrategyFactory = (spec, options) => createOptimal(spec, numberOption(options, 'capacityFactor', 1));
