// The strategy registry: one factory per descriptor id, and the per-layer constructor the engine calls.
import * as tf from '@tensorflow/tfjs-core';
import { resolveStrategyOptions, type StrategyId, type StrategyOptions } from '../../../shared/strategy-descriptors';
import type { BalancingStrategy, LayerSpec, StrategyFactory } from './types';
import { noneFactory } from './none';
import { auxLossFactory } from './aux-loss';
import { seqAuxLossFactory } from './seq-aux-loss';
import { zLossFactory, zLossTerm } from './z-loss';
import { lossFreeFactory } from './loss-free';
import { bipFactory } from './bip';
import { quantileFactory } from './quantile';
import { sinkhornFactory } from './sinkhorn';
import { capacityFactory } from './capacity';
import { optimalFactory } from './optimal';
import { withCapacity, withSeqAux } from './compose';

export const STRATEGY_FACTORIES: Record<StrategyId, StrategyFactory> = {
  none: noneFactory,
  'aux-loss': auxLossFactory,
  'seq-aux-loss': seqAuxLossFactory,
  'z-loss': zLossFactory,
  'loss-free': lossFreeFactory,
  bip: bipFactory,
  quantile: quantileFactory,
  sinkhorn: sinkhornFactory,
  capacity: capacityFactory,
  optimal: optimalFactory,
};

export interface LayerStrategyConfig {
  strategy: StrategyId;
  strategyOptions: StrategyOptions;
  /** router z-loss coefficient added on top of the strategy (0 = off) */
  zLoss: number;
  /** capacity factor of token dropping applied after the strategy's selection (0 = off) */
  composeCapacity?: number;
  /** α of a sequence-wise aux loss added on top of the strategy (0 = off; DeepSeek-V3 uses 1e-4 with loss-free) */
  composeSeqAux?: number;
}

/**
 * One strategy instance for one MoE layer. Options are resolved against the descriptor (defaults filled,
 * ranges checked; a bad option throws). zLoss > 0 adds the router z-loss to any strategy's auxLoss.
 */
export function createLayerStrategy(config: LayerStrategyConfig, spec: LayerSpec): BalancingStrategy {
  const resolved = resolveStrategyOptions(config.strategy, config.strategyOptions);
  if (!resolved.ok) throw new Error(resolved.error);
  let s = STRATEGY_FACTORIES[config.strategy](spec, resolved.options);
  if ((config.composeCapacity ?? 0) > 0) s = withCapacity(s, spec.topK, config.composeCapacity!, 'probs');
  if ((config.composeSeqAux ?? 0) > 0) s = withSeqAux(s, spec.topK, config.composeSeqAux!);
  if (!(config.zLoss > 0)) return s;
  return withZLoss(s, config.zLoss);
}

/** The strategy with c_z·mean(logsumexp²) added to its auxiliary loss (or as its only one). */
export function withZLoss(inner: BalancingStrategy, cz: number): BalancingStrategy {
  const innerAux = inner.auxLoss?.bind(inner);
  const composed: BalancingStrategy = {
    id: inner.id,
    select: (batch) => inner.select(batch),
    auxLoss: (inputs) =>
      tf.tidy(() => {
        const z = zLossTerm(inputs.logitsTE, cz);
        return innerAux ? (tf.add(innerAux(inputs), z) as tf.Scalar) : z;
      }),
    getState: () => inner.getState(),
    setState: (state) => inner.setState(state),
    dispose: () => inner.dispose(),
  };
  if (inner.afterStep) composed.afterStep = (loadE) => inner.afterStep!(loadE);
  if (inner.globalBatchAux) composed.globalBatchAux = true;
  if (inner.diagnostics) composed.diagnostics = () => inner.diagnostics!();
  return composed;
}
