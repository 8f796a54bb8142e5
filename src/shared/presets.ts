// Model presets: the exact shapes of ../shared/spec/performance.md, so other trainers can match the work.

export interface ModelShape {
  /** context length in tokens (sequence length) */
  ctx: number;
  dModel: number;
  heads: number;
  layers: number;
  experts: number;
  topK: number;
  /** SwiGLU hidden width of one expert */
  expertHidden: number;
  /** sequences per batch */
  batch: number;
  /** byte-level vocabulary */
  vocab: number;
}

export const PRESET_IDS = ['tiny', 'small', 'paper-16e', 'paper-64e'] as const;
export type PresetId = (typeof PRESET_IDS)[number];

export const PRESETS: Record<PresetId, ModelShape & { label: string; gpuOnly: boolean }> = {
  tiny: { label: 'tiny (2 layers, 8 experts)', gpuOnly: false, ctx: 64, dModel: 64, heads: 4, layers: 2, experts: 8, topK: 2, expertHidden: 128, batch: 8, vocab: 256 },
  small: { label: 'small (4 layers, 16 experts)', gpuOnly: false, ctx: 128, dModel: 128, heads: 4, layers: 4, experts: 16, topK: 2, expertHidden: 256, batch: 16, vocab: 256 },
  'paper-16e': { label: 'paper-16e (GPU)', gpuOnly: true, ctx: 512, dModel: 512, heads: 8, layers: 8, experts: 16, topK: 2, expertHidden: 1408, batch: 32, vocab: 256 },
  'paper-64e': { label: 'paper-64e (GPU)', gpuOnly: true, ctx: 512, dModel: 512, heads: 8, layers: 8, experts: 64, topK: 2, expertHidden: 1408, batch: 32, vocab: 256 },
};

/**
 * Training FLOPs per token as the performance note defines them:
 * 3 × 2 × (layers · (4d² + 2·ctx·d + d·E + k·3·d·h) + d·V).
 */
export function trainFlopsPerToken(s: ModelShape): number {
  const perLayer = 4 * s.dModel ** 2 + 2 * s.ctx * s.dModel + s.dModel * s.experts + s.topK * 3 * s.dModel * s.expertHidden;
  return 6 * (s.layers * perLayer + s.dModel * s.vocab);
}
