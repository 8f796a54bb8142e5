// Strategy "none": plain top-k of the gate scores; nothing balances the load.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; idxTK/keepTK [T*K].
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { topkSelection } from './common';

export function createNone(spec: LayerSpec): BalancingStrategy {
  return {
    id: 'none',
    select: (batch) => topkSelection(batch.scoresTE, spec.topK),
    getState: () => ({}),
    setState: () => {},
    dispose: () => {},
  };
}

export const noneFactory: StrategyFactory = (spec) => createNone(spec);
