// Strategy "bip" (Sun 2025, BIP-Based Balancing): T dual quantile rounds set expert prices q; select top-k of s − q.
//
// Shape legend: T tokens, E experts, K = top-k slots per token, C = capacity (default ⌈k·T/E⌉, or ⌊·⌋ = the paper's).
//   scoresTE [T, E]; qE per-layer expert prices, carried across steps (never a parameter, no gradient)
//   each round: p_t ← (k+1)-th largest of s_t· − q ,  q_e ← (C+1)-th largest of s_·e − p
//   clipP: p_t ← max(0, p_t);  clipQ: q_e ← max(0, q_e)   (the inequality-form dual clips both)
// Why the two switches: clipping p is what stalls (docs/strategies.md, Pitfalls). A token with p_t = 0 is priced as if
// it used fewer than k experts (its (k+1)-th priced score is below 0), but top-k routing always gives it k, so the
// expert block under-counts the demand it must price away; clipping q only stops prices from lifting idle experts.
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import type { StrategyOptions } from '../../../shared/strategy-descriptors';
import { booleanOption, choiceOption, numberOption, readState, topkWithOffset } from './common';
import { dualRounds, negate, recentre } from './dual';

export interface BipOptions {
  rounds: number;
  clipP: boolean;
  clipQ: boolean;
  /** current: route with the q computed on this batch (paper); previous: with last step's q (causal) */
  route: 'current' | 'previous';
  /** ceil: C = ⌈k·T/E⌉ (never infeasible); floor: ⌊k·T/E⌋ (the paper's "≤ kn/m" with integer C) */
  capacityRounding: 'ceil' | 'floor';
}

/** C from k·T/E with the chosen rounding (the slack keeps exact quotients from moving by float noise). */
export function bipCapacity(k: number, T: number, E: number, rounding: 'ceil' | 'floor'): number {
  const exact = (k * T) / E;
  return rounding === 'floor' ? Math.max(1, Math.floor(exact + 1e-9)) : Math.ceil(exact - 1e-9);
}

export function createBip(spec: LayerSpec, opts: BipOptions): BalancingStrategy {
  let qE: Float32Array = new Float32Array(spec.experts);
  const clip = { p: opts.clipP, q: opts.clipQ };
  const update = (batch: Parameters<BalancingStrategy['select']>[0]): void => {
    const [T, E] = batch.scoresTE.shape;
    const C = batch.capacity ?? bipCapacity(spec.topK, T, E, opts.capacityRounding);
    const next = dualRounds(batch.scoresTE, qE, spec.topK, C, opts.rounds, clip);
    // free expert prices are only defined up to a common shift: re-centre so they stay bounded over a long run
    qE = opts.clipQ ? next : recentre(next);
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

/** clipP / clipQ, falling back to the old single `clip` (configs saved before the split still mean the same). */
function clipOption(options: StrategyOptions, name: 'clipP' | 'clipQ'): boolean {
  return booleanOption(options, name, booleanOption(options, 'clip', true));
}

export const bipFactory: StrategyFactory = (spec, options) =>
  createBip(spec, {
    rounds: numberOption(options, 'T', 4),
    clipP: clipOption(options, 'clipP'),
    clipQ: clipOption(options, 'clipQ'),
    route: choiceOption(options, 'route', 'current'),
    capacityRounding: choiceOption(options, 'capacityRounding', 'ceil'),
  });
