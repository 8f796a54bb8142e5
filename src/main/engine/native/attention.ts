// Fused causal self-attention on the wasm and cpu backends: one native call forward, one backward (native/attention.c).
//
// Shape legend: B sequences, S positions, T = B·S tokens, H heads of hd, d = H·hd.
// Unfused, a layer's attention is ≈ 12 TF.js kernels forward and ≈ 30 backward, each with a dispatch cost
// larger than its arithmetic at the tiny preset. Here the op reads the fused projection qkv [T, 3d] in place
// (a view of the backend's memory), writes y [T, d] into a freshly allocated output, and keeps the softmax
// probabilities [B, H, S, S] in a JS Float32Array for the gradient: not a tensor, so nothing to dispose and
// nothing for the tape to zero-fill; it is garbage once the tape drops the gradient closure.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { loadNativeBlas } from './blas';
import { giveScratch, takeScratch } from './scratch';
import { storage } from '../train/views';
import type { TensorStorage } from './storage';

/** The addon's attention functions (native/attention.c); every length is checked there (RangeError). */
export interface NativeAttention {
  /** y [T, d] and probs [B, H, S, S] from qkv [T, 3d] */
  attentionForward(B: number, S: number, H: number, hd: number, qkv: Float32Array, y: Float32Array, probs: Float32Array): void;
  /** dqkv [T, 3d] from dy [T, d], the forward's qkv and probs */
  attentionBackward(
    B: number, S: number, H: number, hd: number,
    qkv: Float32Array, probs: Float32Array, dy: Float32Array, dqkv: Float32Array,
  ): void;
}

/** The loaded addon's attention functions, or null (not built, LOADSCOPE_NATIVE=0, or an older addon). */
export function nativeAttention(): NativeAttention | null {
  const a = loadNativeBlas().blas as Partial<NativeAttention> | null;
  return a && typeof a.attentionForward === 'function' && typeof a.attentionBackward === 'function' ? (a as NativeAttention) : null;
}

/** The active backend's zero-copy storage (train/views.ts), only on wasm and cpu (never tfjs-node's). */
function hostStorage(): TensorStorage | null {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu' ? storage() : null;
}

/** Whether the native attention can run on the active backend (addon loaded, host tensor memory). */
export function nativeAttentionReady(): boolean {
  return nativeAttention() !== null && hostStorage() !== null;
}

/** A float32 view of t (in place), or a copy when its data is not where the storage looks. */
function values(st: TensorStorage, t: TensorInfo): Float32Array {
  return st.read(t) ?? Float32Array.from(tf.engine().readSync(t.dataId) as ArrayLike<number>);
}

/**
 * softmax(q·kᵀ/√hd + causal mask)·v per head for qkv [B·S, 3d] laid out as model.ts's projection
 * (queries, keys, values as three d-wide column blocks, head h at columns h·hd ..); returns [B·S, d].
 * Differentiable w.r.t. qkv. Call only when nativeAttentionReady().
 */
export function nativeCausalAttention(qkvT3d: tf.Tensor2D, B: number, S: number, H: number): tf.Tensor2D {
  const native = nativeAttention();
  const st = hostStorage();
  if (!native || !st) throw new Error('native attention: the addon or a wasm/cpu backend is not available');
  const [T, d3] = qkvT3d.shape;
  const d = d3 / 3;
  const hd = d / H;
  if (T !== B * S || !Number.isInteger(hd) || qkvT3d.dtype !== 'float32') {
    throw new Error(`native attention: qkv ${qkvT3d.dtype} [${qkvT3d.shape.join(', ')}] does not fit B=${B}, S=${S}, H=${H} (want float32 [B·S, 3·H·hd])`);
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const qkv = args[0] as tf.Tensor2D;
    (args[1] as tf.GradSaveFunc)([qkv]);
    let probs: Float32Array | null = takeScratch(B * H * S * S); // every float written by the forward kernel
    // allocate first: on wasm the allocation may grow the heap and detach every earlier view
    const y = st.output([T, d]);
    native.attentionForward(B, S, H, hd, values(st, qkv), y.values, probs);
    const value = tf.engine().makeTensorFromTensorInfo(y.info) as tf.Tensor2D;
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      if (!probs) throw new Error('native attention: the backward pass ran twice for one forward pass');
      const dqkv = st.output([T, d3]);
      native.attentionBackward(B, S, H, hd, values(st, saved[0]!), probs, values(st, dy), dqkv.values);
      giveScratch(probs);
      probs = null;
      return [tf.engine().makeTensorFromTensorInfo(dqkv.info)];
    };
    return { value, gradFunc };
  });
  return op(qkvT3d) as tf.Tensor2D;
}
