// Float32 views of tensor data for the optimizer: zero-copy on wasm (heap) and cpu (arrays), a copy elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { isNativeMatMulInstalled } from '../native/kernels';
import { storageOf, type TensorStorage } from '../native/storage';

/** How native kernels reach the current backend's memory (wasm heap, cpu arrays), or null on other backends. */
export function storage(): TensorStorage | null {
  return storageOf(tf.backend() as object);
}

/**
 * A view of t's float32 values. On wasm it points into the heap, so it is valid only until the next
 * tensor allocation (memory growth replaces the heap): read it right away, allocate nothing meanwhile.
 */
export function readView(t: tf.Tensor): Float32Array {
  return (t.dtype === 'float32' ? storage()?.read(t) : null) ?? Float32Array.from(t.dataSync() as ArrayLike<number>);
}

/**
 * The variable's own storage when it may be written in place: its data is held by nobody else (refCount 1;
 * reshapes and the tape's clones share data ids). Null otherwise: the caller assigns a new tensor instead.
 *
 * Never on wasm without the native matmul: TF.js's wasm MatMul caches XNNPACK operators with the weights
 * packed, keyed by the weight's data id (tensors are immutable to TF.js), so an in-place update would leave
 * the forward pass multiplying by stale packed weights. A fresh tensor per update gets a fresh data id.
 */
export function writableView(v: tf.Variable): Float32Array | null {
  if (v.dtype !== 'float32') return null;
  if (tf.getBackend() === 'wasm' && !isNativeMatMulInstalled('wasm')) return null;
  const b = tf.backend() as { refCount?: (id: object) => number };
  if (typeof b.refCount !== 'function' || b.refCount(v.dataId) !== 1) return null;
  return storage()?.read(v) ?? null;
}
