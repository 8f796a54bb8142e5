// Compositions the papers use on top of any strategy: capacity dropping (GShard/Switch after any selection) and a
// small sequence-wise auxiliary loss (DeepSeek-V3: aux-loss-free bias + α = 1e-4 sequence-wise loss).
//
// Shape legend: T tokens, E experts, K = top-k slots per token; idxTK/keepTK [T*K]; scoresTE [T, E].
// Capacity applies to what the inner strategy kept: per expert at most ⌈CF·k·T/E⌉ assignments, the rest dropped by
// the policy (`probs`: lowest gate score first; `position`: latest token first). Loads (and so afterStep, e.g.
// loss-free's bias update) count kept assignments only, as for the `capacity` strategy.
import * as tf from '@tensorflow/tfjs-core';
import type { BalancingStrategy, Selection } from './types';
import { capacityOf } from './common';
import { dropOverCapacity, type DropPolicy } from './capacity';
import { sequenceAuxLoss } from './seq-aux-loss';

/** Forward everything but the parts a composition replaces. */
function wrap(inner: BalancingStrategy, parts: Partial<BalancingStrategy>): BalancingStrategy {
  const out: BalancingStrategy = {
    id: inner.id,
    select: (batch) => inner.select(batch),
    getState: () => inner.getState(),
    setState: (state) => inner.setState(state),
    dispose: () => inner.dispose(),
    ...parts,
  };
  if (!('auxLoss' in parts) && inner.auxLoss) out.auxLoss = (inputs) => inner.auxLoss!(inputs);
  if (inner.afterStep) out.afterStep = (loadE) => inner.afterStep!(loadE);
  if (inner.globalBatchAux) out.globalBatchAux = true;
  if (inner.diagnostics) out.diagnostics = () => inner.diagnostics!();
  return out;
}

/** The inner selection, then at most ⌈CF·k·T/E⌉ kept assignments per expert (training and validation alike). */
export function withCapacity(inner: BalancingStrategy, k: number, factor: number, policy: DropPolicy): BalancingStrategy {
  return wrap(inner, {
    select(batch): Selection {
      const sel = inner.select(batch);
      const [T, E] = batch.scoresTE.shape;
      const scores = batch.scoresTE.dataSync();
      // already-dropped slots must stay dropped: give them −∞ so `probs` ranks them last, then clear them again
      const valTK = Float32Array.from(sel.idxTK, (e, i) => (sel.keepTK[i] ? scores[Math.floor(i / k) * E + e]! : -Infinity));
      const capped = dropOverCapacity(Int32Array.from(sel.idxTK), valTK, E, capacityOf(factor, k, T, E), policy);
      for (let i = 0; i < capped.keepTK.length; i++) if (!sel.keepTK[i]) capped.keepTK[i] = 0;
      return capped;
    },
  });
}

/** The inner strategy's aux loss (if any) plus α·N·mean over sequences of Σ_i f_i·P_i. */
export function withSeqAux(inner: BalancingStrategy, k: number, alpha: number): BalancingStrategy {
  const innerAux = inner.auxLoss?.bind(inner);
  return wrap(inner, {
    auxLoss: (inputs) =>
      tf.tidy(() => {
        const seq = sequenceAuxLoss(inputs.scoresTE, inputs.selectedTE, inputs.seqLen, k, alpha);
        return innerAux ? (tf.add(innerAux(inputs), seq) as tf.Scalar) : seq;
      }),
  });
}
