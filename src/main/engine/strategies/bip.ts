// Strategy "bip" (Sun 2025, BIP-Based Balancing): T dual quantile rounds set expert prices q; select top-k of s − q.
//
// Shape legend: T tokens, E experts, K = top-k slots per token, C = capacity (default ⌈k·T/E⌉).
//   scoresTE [T, E]; qE per-layer expert prices, carried across steps (never a parameter, no gradient)
//   each round: p_t ← [ (k+1)-th largest of s_t· − q ]₊ ,  q_e ← [ (C+1)-th largest of s_·e − p ]₊   ([·]₊ only when clip)
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { booleanOption, capacityOf, choiceOption, numberOption, readState, topkWithOffset } from './common';
import { dualRounds, negate, recentre } from './dual';

export interface BipOptions {
  rounds: number;
  clip: boolean;
  /** current: route with the q computed on this batch (paper); previous: with last step's q (causal) */
  route: 'current' | 'previous';
}

export function createBip(spec: LayerSpec, opts: BipOptions): BalancingStrategy {
  let qE: Float32Array = new Float32Array(spec.experts);
  const update = (batch: Parameters<BalancingStrategy['select']>[0]): void => {
    const [T, E] = batch.scoresTE.shape;
    const C = batch.capacity ?? capacityOf(1, spec.topK, T, E);
    const next = dualRounds(batch.scoresTE, qE, spec.topK, C, opts.rounds, opts.clip);
    // free prices are only defined up to a common shift: re-centre so they stay bounded over a long run
    qE = opts.clip ? next : recentre(next);
  };
  return {
    id: 'bip',
    select(batch) {
      // validation routes with the frozen q and leaves it alone
      if (!batch.training) return topkWithOffset(batch.scoresTE, negate(qE), spec.topK);
      if (opts.route === 'previous') {
        const sel = topkWithOffset(batch.scoresTE, negate(qE), spec.topK);
        update(batch);
        return sel;
      }
      update(batch);
      return topkWithOffset(batch.scoresTE, negate(qE), spec.topK);
    },
    getState: () => ({ q: Float32Array.from(qE) }),
    setState(state) {
      qE = readState(state, 'q', spec.experts) ?? new Float32Array(spec.experts);
    },
    dispose: () => {},
  };
}

export const bipFactory: StrategyFactory = (spec, options) =>
  createBip(spec, {
    rounds: numberOption(options, 'T', 4),
    clip: booleanOption(options, 'clip', true),
    route: choiceOption(options, 'route', 'current'),
  });
