// Shared setup for engine tests: a resolved tiny config on a chosen backend, and a small in-memory text.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { selectBackend } from '../../../src/main/engine/backend';
import { resolveRunConfig, type RunConfig, type RunConfigInput } from '../../../src/shared/run-config';

/** A resolved config (throws with the field errors if the input is bad). */
export function config(input: RunConfigInput): RunConfig {
  const r = resolveRunConfig(input);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  return r.config;
}

/** Micro shape: 2 layers, 4 experts, top-2, 16 tokens × 4 sequences: a step takes milliseconds. */
export const MICRO = { ctx: 16, dModel: 16, heads: 2, layers: 2, experts: 4, topK: 2, expertHidden: 16, batch: 4 } as const;

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await selectBackend(name);
}

/** Central finite difference of f with respect to coordinate i of v (v is restored afterwards). */
export function finiteDifference(v: tf.Variable, i: number, f: () => tf.Scalar, eps = 1e-2): number {
  const base = Float32Array.from(v.dataSync() as Float32Array);
  const at = (delta: number) => {
    const p = Float32Array.from(base);
    p[i] = p[i]! + delta;
    v.assign(tf.tensor(p, v.shape));
    return tf.tidy(() => f().dataSync()[0]!);
  };
  const g = (at(eps) - at(-eps)) / (2 * eps);
  v.assign(tf.tensor(base, v.shape));
  return g;
}

/** A fused op against its unfused ops: the same probe-weighted sum and the same gradients for every input. */
export function expectSameAsUnfused<const A extends readonly tf.Variable[]>(fused: (...a: A) => tf.Tensor, unfused: (...a: A) => tf.Tensor, vars: A, probe: tf.Tensor): void {
  const run = (f: (...a: A) => tf.Tensor) => tf.variableGrads(() => tf.sum(tf.mul(f(...vars), probe)) as tf.Scalar, [...vars]);
  const a = run(fused);
  const b = run(unfused);
  expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0]!, 4);
  for (const v of vars) {
    const ga = a.grads[v.name]!.dataSync();
    const gb = b.grads[v.name]!.dataSync();
    for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(gb[i]!)));
  }
}

/** Every coordinate's analytic gradient of sum(op(vars)·probe) equals its central finite difference. */
export function expectFiniteDifferences<const A extends readonly tf.Variable[]>(op: (...a: A) => tf.Tensor, vars: A, probe: tf.Tensor): void {
  const f = () => tf.sum(tf.mul(op(...vars), probe)) as tf.Scalar;
  const { grads } = tf.variableGrads(f, [...vars]);
  for (const v of vars) {
    const analytic = grads[v.name]!.dataSync();
    for (let i = 0; i < v.size; i++) {
      const fd = finiteDifference(v, i, f);
      expect(Math.abs(analytic[i]! - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
    }
  }
}
