// Strategy "quantile" (Su's Quantile Balancing; Megatron quantile_balancing): route with the previous step's q,
// then one free (unclipped) dual alternation on this batch, EMA-blended and re-centred to zero mean.
//
// Shape legend: T tokens, E experts, K = top-k slots per token, C = ⌈k·T/E⌉; scoresTE [T, E]; qE expert prices.
//   route: top-k of s − q_old;  p_t = (k+1)-th largest of s_t· − q_old;  q_new_e = (C+1)-th largest of s_·e − p
//   q ← recentre(ema·q_old + (1 − ema)·q_new)
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { capacityOf, choiceOption, numberOption, readState, topkWithOffset } from './common';
import { dualRounds, negate, recentre } from './dual';

/** scores: price the gate probabilities (Su's articles); logits: the raw router logits (Megatron). */
export type PriceOn = 'scores' | 'logits';

export function createQuantile(spec: LayerSpec, ema: number, priceOn: PriceOn = 'scores'): BalancingStrategy {
  let qE: Float32Array = new Float32Array(spec.experts);
  return {
    id: 'quantile',
    select(batch) {
      // q lives in the units of what it prices, and selection ranks that same quantity
      const ranked = priceOn === 'logits' ? batch.logitsTE : batch.scoresTE;
      const sel = topkWithOffset(ranked, negate(qE), spec.topK);
      if (batch.training) {
        const [T, E] = ranked.shape;
        const C = batch.capacity ?? capacityOf(1, spec.topK, T, E);
        const fresh = dualRounds(ranked, qE, spec.topK, C, 1, { p: false, q: false });
        qE = recentre(qE.map((old, i) => ema * old + (1 - ema) * fresh[i]!));
      }
      return sel;
    },
    getState: () => ({ q: Float32Array.from(qE) }),
    setState(state) {
      qE = readState(state, 'q', spec.experts) ?? new Float32Array(spec.experts);
    },
    dispose: () => {},
  };
}

export const quantileFactory: StrategyFactory = (spec, options) => createQuantile(spec, numberOption(options, 'ema', 0), choiceOption<PriceOn>(options, 'priceOn', 'scores'));
