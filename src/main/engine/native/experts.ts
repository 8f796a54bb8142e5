// The sparse MoE expert FFN as one differentiable TF.js op on wasm and cpu: native/experts.c, forward and backward.
//
// Shape legend: T tokens, d model width, E experts, h expert hidden width, N routed rows.
// Unfused, every expert costs about seven TF.js ops forward (three weight slices, three matmuls, SwiGLU) and
// three times that backward, plus the row gathers, the concat and the one-hot gate mixing: at the tiny preset
// TF.js's per-op bookkeeping, not arithmetic, dominated the step. Here the whole expert group is one tape
// node: forward one native call writes yTD, backward one call writes dx, dw1, dw3, dw2 and dgatesTE.
// gatesTE [T, E] goes in whole (the kernel reads gate[tokN[r], e] for row r of expert e), so the router's
// gradient keeps flowing through it; the forward's per-row activations ([A | B | Ye], N·(2h+d) floats) stay
// in a plain Float32Array for the backward pass (saving them costs no arithmetic, recomputing two gemms).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { DispatchPlan } from '../model/dispatch';
import { saveInputs } from '../model/saved';
import { storage } from '../train/views';
import { loadNativeBlas } from './blas';
import { giveScratch, takeScratch } from './scratch';

/** The addon's expert functions (native/experts.c); every length is checked there against the shapes. */
export interface NativeExperts {
  expertsForward(
    T: number, d: number, E: number, h: number, x: Float32Array, w1: Float32Array, w3: Float32Array, w2: Float32Array,
    gatesTE: Float32Array, tokN: Int32Array, countE: Int32Array, saved: Float32Array, y: Float32Array,
  ): void;
  expertsBackward(
    T: number, d: number, E: number, h: number, x: Float32Array, w1: Float32Array, w3: Float32Array, w2: Float32Array,
    gatesTE: Float32Array, tokN: Int32Array, countE: Int32Array, saved: Float32Array, dy: Float32Array,
    dx: Float32Array, dw1: Float32Array, dw3: Float32Array, dw2: Float32Array, dgatesTE: Float32Array,
  ): void;
}

let enabled = true;

/** Turns the fused expert kernel off and on for this process (the bench compares both in one process). */
export function setFusedExpertsEnabled(on: boolean): void {
  enabled = on;
}

/** The addon's expert kernels, or null when turned off, absent, or an older build without them. */
export function nativeExperts(): NativeExperts | null {
  if (!enabled) return null;
  const { blas } = loadNativeBlas();
  const fns = blas as Partial<NativeExperts> | null;
  return typeof fns?.expertsForward === 'function' && typeof fns.expertsBackward === 'function' ? (fns as NativeExperts) : null;
}

const counters = { forward: 0, backward: 0 };

/** How often the fused kernel ran, forward and backward (tests and the bench check the path taken). */
export function fusedExpertsStats(): { forward: number; backward: number } {
  return { ...counters };
}

/** The expert weights side by side: w1, w3 [d, E·h], w2 [E·h, d]. */
export interface ExpertWeights {
  w1: tf.Tensor2D;
  w3: tf.Tensor2D;
  w2: tf.Tensor2D;
  experts: number;
  hidden: number;
}

/** New float32 tensors on the current backend, allocated before any view is taken (wasm heap growth). */
function outputs(shapes: number[][]): { tensors: tf.Tensor[]; views: () => Float32Array[] } {
  const st = storage();
  if (!st) throw new Error(`fused experts: the ${tf.getBackend()} backend's memory cannot be read natively`);
  const infos: TensorInfo[] = shapes.map((s) => st.output(s).info);
  const tensors = infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
  // every allocation may have replaced the wasm heap: take the views only now, all at once
  return { tensors, views: () => infos.map((info) => st.read(info)!) };
}

/** A float32 view of t (zero-copy on wasm and cpu); valid until the next allocation. */
function view(t: tf.Tensor): Float32Array {
  return storage()?.read(t) ?? Float32Array.from(t.dataSync() as Float32Array);
}

/**
 * yTD = Σ over t's routed rows of gatesTE[t, e]·SwiGLU expert e (x[t]); differentiable in x, the three weights
 * and gatesTE. The plan (rows grouped by expert, dropped slots absent) is fixed outside the tape.
 */
export function fusedSparseExperts(kernels: NativeExperts, xTD: tf.Tensor2D, gatesTE: tf.Tensor2D, w: ExpertWeights, plan: DispatchPlan): tf.Tensor2D {
  const [T, d] = xTD.shape;
  const { experts: E, hidden: h } = w;
  const { tokN, countE, rows: N } = plan;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, 5) as tf.Tensor[];
    const restore = saveInputs(args[5] as tf.GradSaveFunc, inputs); // the three weights are variables: not cloned
    let saved: Float32Array | null = takeScratch(N * (2 * h + d)); // every float written by the forward kernel
    const out = outputs([[T, d]]);
    const [x, w1, w3, w2, g] = inputs.map(view) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    kernels.expertsForward(T, d, E, h, x, w1, w3, w2, g, tokN, countE, saved, out.views()[0]!);
    counters.forward++;
    const gradFunc = (dy: tf.Tensor, kept: tf.Tensor[]) => {
      if (!saved) throw new Error('fused experts: the backward pass ran twice for one forward pass');
      const grads = outputs([[T, d], [d, E * h], [d, E * h], [E * h, d], [T, E]]);
      const [dx, dw1, dw3, dw2, dg] = grads.views() as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
      const [xs, w1s, w3s, w2s, gs] = restore(kept).map(view) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
      kernels.expertsBackward(T, d, E, h, xs, w1s, w3s, w2s, gs, tokN, countE, saved, view(dy), dx, dw1, dw3, dw2, dg);
      counters.backward++;
      giveScratch(saved);
      saved = null;
      return grads.tensors;
    };
    return { value: out.tensors[0]!, gradFunc };
  });
  return op(xTD, w.w1, w.w3, w.w2, gatesTE) as tf.Tensor2D;
}
