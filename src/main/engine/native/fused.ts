// TF.js ops on the addon's fused CPU kernels (native/fused.c, adamw.c): tied-embedding cross-entropy, RMSNorm, AdamW.
//
// Shape legend: T tokens, V vocabulary, d model width. Each op reads its inputs through zero-copy views of
// the backend's memory (storage.ts) and writes its outputs straight into tensors it allocates first (on wasm
// an allocation may grow the heap and detach older views, so views are taken after every allocation).
// nativeFusedKernels() is the one place that decides whether they run: on the wasm or cpu backend with the
// native matmul installed (so the addon is loaded and OpenBLAS's thread count is set), unless
// LOADSCOPE_NATIVE=0 or LOADSCOPE_NATIVE_FUSED=0; otherwise callers keep their JS/TF.js paths.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { loadNativeBlas } from './blas';
import { isNativeMatMulInstalled } from './kernels';
import { storageOf, type TensorStorage } from './storage';
import { saveInputs } from '../model/saved';

/** The addon's fused functions (native/fused.c, adamw.c); lengths are checked there (RangeError). */
export interface NativeFusedAddon {
  lmLossForward(T: number, V: number, d: number, x: Float32Array, wte: Float32Array, targets: Int32Array, probs: Float32Array): number;
  lmLossBackward(T: number, V: number, d: number, scale: number, probs: Float32Array, targets: Int32Array, x: Float32Array, wte: Float32Array, dx: Float32Array, dwte: Float32Array): void;
  rmsNormForward(T: number, d: number, eps: number, x: Float32Array, g: Float32Array, y: Float32Array): void;
  rmsNormBackward(T: number, d: number, eps: number, x: Float32Array, g: Float32Array, dy: Float32Array, dx: Float32Array, dg: Float32Array): void;
  adamW(weights: Float32Array[], grads: Float32Array[], m: Float32Array[], v: Float32Array[], keep: number[], step: number, rc2: number, beta1: number, beta2: number, eps: number, clip: number, gradScale: number): number;
}

/** One AdamW update over every parameter's arrays, updated in place (train/optimizer.ts has the JS one). */
export interface AdamWArrays {
  weights: Float32Array[];
  grads: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  /** per parameter: 1 − lr·weightDecay when it decays, else 1 */
  keep: number[];
}
export interface AdamWConstants {
  /** lr / (1 − β1^t) */
  step: number;
  /** 1 / √(1 − β2^t) */
  rc2: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** clip the global norm to this (0: no clipping) */
  clip: number;
  /** multiplies every gradient before the norm (1/k: the mean of k micro-batches' summed gradients) */
  gradScale: number;
}
/** Returns the global gradient norm before clipping. */
export type AdamWKernel = (p: AdamWArrays, c: AdamWConstants) => number;

/** The fused ops as the model and the optimizer call them. */
export interface FusedKernels {
  /** mean cross-entropy of the logits hTD·wteᵀ against targets, without materialising the logits as a tensor */
  lmLoss(hTD: tf.Tensor2D, wte: tf.Tensor2D, targets: Int32Array): tf.Scalar;
  rmsNorm(xTD: tf.Tensor2D, g: tf.Tensor1D, eps: number): tf.Tensor2D;
  adamW: AdamWKernel;
}

const built = new WeakMap<object, FusedKernels | null>();

/** The native fused kernels for the active backend, or null where they must not (or cannot) run. */
export function nativeFusedKernels(): FusedKernels | null {
  if (process.env.LOADSCOPE_NATIVE === '0' || process.env.LOADSCOPE_NATIVE_FUSED === '0') return null;
  const name = tf.getBackend();
  if ((name !== 'wasm' && name !== 'cpu') || !isNativeMatMulInstalled(name)) return null;
  const backend = tf.backend() as object;
  if (!built.has(backend)) built.set(backend, build(backend));
  return built.get(backend)!;
}

function build(backend: object): FusedKernels | null {
  const addon = loadNativeBlas().blas as unknown as Partial<NativeFusedAddon> | null;
  const storage = storageOf(backend);
  // an addon built before these kernels existed keeps the JS paths
  if (!addon || !storage || typeof addon.lmLossForward !== 'function' || typeof addon.adamW !== 'function') return null;
  return fusedKernels(addon as NativeFusedAddon, storage);
}

/** The ops over one addon and one backend's storage. */
function fusedKernels(addon: NativeFusedAddon, storage: TensorStorage): FusedKernels {
  const view = (t: TensorInfo, what: string): Float32Array => {
    const v = t.dtype === 'float32' ? storage.read(t) : null;
    if (!v) throw new Error(`native fused ${what}: tensor data is not float32 on this backend`);
    return v;
  };
  // every output allocated before any view is taken (heap growth detaches views on wasm)
  const allocate = (shapes: number[][]): tf.Tensor[] => shapes.map((s) => tf.engine().makeTensorFromTensorInfo(storage.output(s).info));

  const lmLoss = (hTD: tf.Tensor2D, wte: tf.Tensor2D, targets: Int32Array): tf.Scalar => {
    const [T, d] = hTD.shape;
    const [V, dw] = wte.shape;
    if (dw !== d) throw new Error(`lmLoss: hidden width ${d} but the embedding is [${V}, ${dw}]`);
    if (targets.length !== T) throw new Error(`lmLoss: ${targets.length} targets for ${T} rows`);
    const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [h, w] = args as [tf.Tensor2D, tf.Tensor2D];
      // softmax rows for the backward pass, in backend memory and saved like any tensor the gradient needs
      // (a fresh 512 KB JS array per step would add to V8's external-memory GC pressure)
      const [probs] = allocate([[T, V]]);
      const restore = saveInputs(args[2] as tf.GradSaveFunc, [h, w, probs!]);
      const value = tf.scalar(addon.lmLossForward(T, V, d, view(h, 'lmLoss x'), view(w, 'lmLoss wte'), targets, view(probs!, 'lmLoss probs')));
      const gradFunc = (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const saved = restore(kept);
        const [dx, dwte] = allocate([[T, d], [V, d]]) as [tf.Tensor2D, tf.Tensor2D];
        const scale = view(dy, 'lmLoss dy')[0]! / T;
        addon.lmLossBackward(T, V, d, scale, view(saved[2]!, 'lmLoss probs'), targets, view(saved[0]!, 'lmLoss x'), view(saved[1]!, 'lmLoss wte'), view(dx, 'lmLoss dx'), view(dwte, 'lmLoss dwte'));
        return [dx, dwte];
      };
      return { value, gradFunc };
    });
    return f(hTD, wte) as tf.Scalar;
  };

  const rmsNorm = (xTD: tf.Tensor2D, g: tf.Tensor1D, eps: number): tf.Tensor2D => {
    const [T, d] = xTD.shape;
    if (g.size !== d) throw new Error(`rmsNorm: gain of ${g.size} for rows of ${d}`);
    const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [x, gain] = args as [tf.Tensor2D, tf.Tensor1D];
      const restore = saveInputs(args[2] as tf.GradSaveFunc, [x, gain]);
      const [y] = allocate([[T, d]]) as [tf.Tensor2D];
      addon.rmsNormForward(T, d, eps, view(x, 'rmsNorm x'), view(gain, 'rmsNorm g'), view(y, 'rmsNorm y'));
      const gradFunc = (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const saved = restore(kept);
        const [dx, dg] = allocate([[T, d], [d]]);
        addon.rmsNormBackward(T, d, eps, view(saved[0]!, 'rmsNorm x'), view(saved[1]!, 'rmsNorm g'), view(dy, 'rmsNorm dy'), view(dx!, 'rmsNorm dx'), view(dg!, 'rmsNorm dg'));
        return [dx!, dg!];
      };
      return { value: y, gradFunc };
    });
    return f(xTD, g) as tf.Tensor2D;
  };

  const adamW: AdamWKernel = (p, c) => addon.adamW(p.weights, p.grads, p.m, p.v, p.keep, c.step, c.rc2, c.beta1, c.beta2, c.eps, c.clip, c.gradScale);

  return { lmLoss, rmsNorm, adamW };
}
