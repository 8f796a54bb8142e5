// Strategy "loss-free" (Wang et al. 2024): select by top-k of s + b; after each step b moves towards balance.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE [T, E]; biasE per expert; loadE per expert.
//   sign rule:          b_i += u·sign(mean(load) − load_i)
//   proportional rule:  b_i += u·(mean(load) − load_i)/mean(load)   (normalised so u = 1e-3 works at any batch size)
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { choiceOption, numberOption, readState, topkWithOffset } from './common';

export type LossFreeRule = 'sign' | 'proportional';

export function createLossFree(spec: LayerSpec, u: number, rule: LossFreeRule): BalancingStrategy {
  let biasE: Float32Array = new Float32Array(spec.experts);
  return {
    id: 'loss-free',
    // the bias comes from previous steps only: this batch's routing never depends on its own load
    select: (batch) => topkWithOffset(batch.scoresTE, biasE, spec.topK),
    afterStep(loadE) {
      let mean = 0;
      for (const l of loadE) mean += l;
      mean /= loadE.length;
      if (!(mean > 0)) return;
      for (let i = 0; i < biasE.length; i++) {
        const e = mean - loadE[i]!; // positive = underloaded
        biasE[i]! += rule === 'sign' ? u * Math.sign(e) : (u * e) / mean;
      }
    },
    getState: () => ({ bias: Float32Array.from(biasE) }),
    setState(state) {
      biasE = readState(state, 'bias', spec.experts) ?? new Float32Array(spec.experts);
    },
    dispose: () => {},
  };
}

/** auto: the rule the paper used with this gate (sigmoid main runs: sign; softmax appendix C: proportional). */
export function lossFreeRule(rule: LossFreeRule | 'auto', scoreFn: LayerSpec['scoreFn']): LossFreeRule {
  if (rule !== 'auto') return rule;
  return scoreFn === 'sigmoid' ? 'sign' : 'proportional';
}

export const lossFreeFactory: StrategyFactory = (spec, options) =>
  createLossFree(spec, numberOption(options, 'u', 1e-3), lossFreeRule(choiceOption<LossFreeRule | 'auto'>(options, 'rule', 'auto'), spec.scoreFn));
