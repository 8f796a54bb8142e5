// How many held-out tokens the final evaluation needs so that MaxVio_global's sampling floor stays below 0.01.
// Why: MaxVio of a perfectly balanced router measured on N tokens is not 0 but the sampling noise of the hottest of
// E expert loads, each ≈ Binomial(N, k/E): relative std √((E/k − 1)/N), and the hottest of E sits ≈ c_E std above.
// c_E = 0.75·√(2 ln E) matches simulated uniform top-k routing (E = 8: floor 0.060 at 2,048 tokens, 0.0103 at
// 65,536; E = 16: 0.105 at 2,048, 0.0129 at 131,072; docs/strategies.md, Pitfalls). We aim at 0.009 for margin.
import type { ModelShape } from './presets';

export const FLOOR_TARGET = 0.009;

/** Expected MaxVio_global of an ideally balanced top-k router measured on `tokens` tokens. */
export function samplingFloor(experts: number, topK: number, tokens: number): number {
  return 0.75 * Math.sqrt(2 * Math.log(experts)) * Math.sqrt((experts / topK - 1) / tokens);
}

/** Tokens needed for samplingFloor ≤ FLOOR_TARGET. */
export function autoValTokens(experts: number, topK: number): number {
  const c = 0.75 * Math.sqrt(2 * Math.log(experts));
  return Math.ceil(((c / FLOOR_TARGET) ** 2) * (experts / topK - 1));
}

/** Batches of the final evaluation: config.valTokens (0 = auto) in whole batches of batch·ctx tokens. */
export function finalEvalBatches(c: { valTokens?: number; model: ModelShape }): number {
  const tokens = c.valTokens && c.valTokens > 0 ? c.valTokens : autoValTokens(c.model.experts, c.model.topK);
  return Math.ceil(tokens / (c.model.batch * c.model.ctx));
}
