// A memory estimate of a model before it is built: a shape that cannot fit is refused with its size,
// instead of failing deep inside a backend ("Invalid typed array length", "GatherV2 index …").
import type { ModelShape } from './presets';

export interface MemoryEstimate {
  /** trainable parameters */
  params: number;
  /** weights + gradients + AdamW's two moments, float32 */
  stateBytes: number;
  /** activations kept for the backward pass of one step (rough upper figure) */
  activationBytes: number;
  /** elements of the largest single tensor of a step */
  largestTensor: number;
}

const F32 = 4;

/** Parameters and per-step memory of a shape; `dense` dispatch materialises tokens × experts × hidden. */
export function estimateMemory(m: ModelShape, dense: boolean): MemoryEstimate {
  const d = m.dModel;
  const perLayer = 4 * d * d + 4 * d + d * m.experts + m.experts * (2 * d * m.expertHidden + m.expertHidden + d);
  const params = m.vocab * d + m.ctx * d + m.layers * perLayer + d * m.vocab;
  const tokens = m.batch * m.ctx;
  const scores = m.batch * m.heads * m.ctx * m.ctx;
  const hidden = tokens * (dense ? m.experts : m.topK) * m.expertHidden;
  // per layer: attention probabilities and their softmax input, the expert hidden units before and after
  // the activation, and about a dozen token × dModel tensors; all kept for the backward pass
  const perLayerAct = 2 * scores + 2 * hidden + 12 * tokens * d + tokens * m.experts * 2;
  return {
    params,
    stateBytes: params * F32 * 4,
    activationBytes: (m.layers * perLayerAct + tokens * m.vocab * 2) * F32,
    largestTensor: Math.max(scores, hidden, tokens * m.vocab, tokens * d),
  };
}

/** What the backend can address: wasm32 memory tops out at 4 GiB; the others share the machine's memory. */
export function memoryLimitBytes(backend: 'tensorflow' | 'wasm' | 'cpu', machineBytes: number): { bytes: number; why: string } {
  const ram = Math.floor(machineBytes * 0.8);
  if (backend === 'wasm') return { bytes: Math.min(4 * 2 ** 30, ram), why: 'the wasm backend can address at most 4 GiB' };
  return { bytes: ram, why: `this machine has ${gib(machineBytes)} of memory` };
}

export const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * null when the shape fits, else one line naming the size: tensors are indexed with int32, so no single
 * tensor may reach 2^31 elements, and state + activations must fit what the backend can address.
 */
export function memoryProblem(m: ModelShape, opts: { dense: boolean; backend: 'tensorflow' | 'wasm' | 'cpu'; machineBytes: number }): string | null {
  const e = estimateMemory(m, opts.dense);
  const total = e.stateBytes + e.activationBytes;
  const limit = memoryLimitBytes(opts.backend, opts.machineBytes);
  const what = `${(e.params / 1e6).toFixed(1)} M parameters, about ${gib(total)} to train (${gib(e.stateBytes)} weights, gradients and optimizer state + ${gib(e.activationBytes)} activations per step)`;
  if (e.largestTensor >= 2 ** 31 - 1) return `this model is too large: one of its tensors would hold ${e.largestTensor.toExponential(2)} values (the limit is 2^31); ${what}`;
  if (total > limit.bytes) return `this model does not fit: ${what}, but ${limit.why}; choose a smaller preset, batch or context`;
  return null;
}
