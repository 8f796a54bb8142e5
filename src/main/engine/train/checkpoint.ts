// CheckpointData ⇄ trainer state: weights, AdamW moments and step, strategy state, data PRNG, running metrics.
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointData, NamedArray } from '../../../shared/worker-protocol';
import type { RngState } from '../rng';
import type { Trainer } from './trainer';
import type { VioState } from './vio';
import type { BalanceState } from './balance';

const FORMAT = 1;

/** A copy: data() may hand out the backend's own buffer, which must never be transferred away. */
async function arrayOf(name: string, t: tf.Tensor): Promise<NamedArray> {
  return { name, shape: [...t.shape], dtype: 'float32', data: Float32Array.from((await t.data()) as Float32Array) };
}

/** Asynchronous reads throughout: device backends (WebGPU in Node) have no synchronous read. */
export async function exportCheckpoint(tr: Trainer): Promise<CheckpointData> {
  const arrays: NamedArray[] = await Promise.all(tr.model.params.entries().map(([name, v]) => arrayOf(name, v)));
  for (const { name, shape, m, v } of await tr.optimizer.readMoments()) {
    arrays.push({ name: `optimizer/m/${name}`, shape: [...shape], dtype: 'float32', data: Float32Array.from(m) });
    arrays.push({ name: `optimizer/v/${name}`, shape: [...shape], dtype: 'float32', data: Float32Array.from(v) });
  }
  tr.strategies.forEach((s, l) => {
    for (const [key, data] of Object.entries(s.getState())) {
      arrays.push({ name: `strategy/layer${l}/${key}`, shape: [data.length], dtype: 'float32', data: Float32Array.from(data) });
    }
  });
  return {
    step: tr.step,
    arrays,
    meta: {
      format: FORMAT,
      optimizerStep: tr.optimizer.step,
      dataRng: tr.batcher.getState(),
      vio: tr.vio.getState(),
      ...(tr.microBatches > 1 ? { vioMicro: tr.vioMicro.getState() } : {}),
      balance: tr.balance.getState(),
      elapsedMs: tr.elapsedMs,
      strategy: tr.config.strategy,
      model: tr.config.model,
    },
  };
}

/** Restore a checkpoint written by exportCheckpoint for the same model shape; mismatches throw a clear error. */
export function importCheckpoint(tr: Trainer, cp: CheckpointData): void {
  const byName = new Map(cp.arrays.map((a) => [a.name, a]));
  const find = (name: string, shape: readonly number[]) => {
    const a = byName.get(name);
    if (!a) throw new Error(`checkpoint has no array "${name}" (it was written for another model shape or strategy)`);
    if (a.shape.join('x') !== shape.join('x')) {
      throw new Error(`checkpoint array "${name}" has shape [${a.shape}], this model needs [${shape}]`);
    }
    return a;
  };
  const load = (name: string, target: tf.Variable) => {
    const a = find(name, target.shape);
    tf.tidy(() => target.assign(tf.tensor(a.data, a.shape, 'float32')));
  };
  for (const [name, v] of tr.model.params.entries()) load(name, v);
  tr.model.params.entries().forEach(([name, p], i) => {
    tr.optimizer.loadMoments(i, Float32Array.from(find(`optimizer/m/${name}`, p.shape).data), Float32Array.from(find(`optimizer/v/${name}`, p.shape).data));
  });
  tr.strategies.forEach((s, l) => {
    const prefix = `strategy/layer${l}/`;
    const state: Record<string, Float32Array> = {};
    for (const a of cp.arrays) if (a.name.startsWith(prefix)) state[a.name.slice(prefix.length)] = Float32Array.from(a.data);
    s.setState(state);
  });
  const meta = cp.meta as { optimizerStep?: number; dataRng?: RngState; vio?: VioState; vioMicro?: VioState; balance?: BalanceState; elapsedMs?: number };
  if (!Array.isArray(meta.dataRng) || meta.dataRng.length !== 4) throw new Error('checkpoint meta has no data PRNG state (dataRng)');
  tr.step = cp.step;
  tr.optimizer.step = meta.optimizerStep ?? cp.step;
  tr.batcher.setState(meta.dataRng);
  if (meta.vio) tr.vio.setState(meta.vio);
  if (meta.vioMicro) tr.vioMicro.setState(meta.vioMicro);
  // checkpoints written before the balance tracker existed: its running figures start at this step
  if (meta.balance) tr.balance.setState(meta.balance);
  tr.elapsedMs = meta.elapsedMs ?? 0;
}
