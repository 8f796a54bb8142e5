// Causal multi-head self-attention on the fused QKV projection: the TF.js reference ops, or one native kernel.
//
// Shape legend: B sequences, S positions, T = B·S tokens, d model width, H heads of hd = d/H.
// The native kernel (native/attention.ts) runs on the host backends when the fused kernels are on and the
// addon is loaded; device backends (webgpu, libtensorflow GPU) and LOADSCOPE_NATIVE=0 keep the reference.
// LOADSCOPE_FUSED_ATTENTION=0 turns off this kernel alone (the bench and the tests compare both).
import * as tf from '@tensorflow/tfjs-core';
import { nativeAttentionReady, nativeCausalAttention } from '../native/attention';
import { matmul, matmulT } from './linear';
import { fusedKernelsEnabled } from './rmsnorm';

/**
 * The reference: qkv [T, 3d] is reshaped to [B, S, 3H, hd] and its heads split in three (queries, keys,
 * values), then softmax(q·kᵀ/√hd + mask)·v per head, heads concatenated back to [T, d].
 * maskSS is the additive causal mask (0 on and below the diagonal, −1e9 above) for these S positions.
 */
export function causalAttentionUnfused(qkvT3d: tf.Tensor2D, B: number, S: number, H: number, maskSS: tf.Tensor2D): tf.Tensor2D {
  const d = qkvT3d.shape[1] / 3;
  const hd = d / H;
  const qkv = tf.transpose(tf.reshape(qkvT3d, [B, S, 3 * H, hd]), [0, 2, 1, 3]);
  const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  const att = tf.softmax(tf.add(tf.mul(matmulT(q, k), 1 / Math.sqrt(hd)), maskSS));
  return tf.reshape(tf.transpose(matmul(att, v), [0, 2, 1, 3]), [B * S, d]) as tf.Tensor2D;
}

/** Whether causalAttention runs the native kernel now (checked per call: the backend and env may change). */
export function fusedAttentionEnabled(): boolean {
  return process.env.LOADSCOPE_FUSED_ATTENTION !== '0' && fusedKernelsEnabled() && nativeAttentionReady();
}

/** Attention output [T, d] (heads concatenated, before the output projection) of qkv [T, 3d]. */
export function causalAttention(qkvT3d: tf.Tensor2D, B: number, S: number, H: number, maskSS: tf.Tensor2D): tf.Tensor2D {
  return fusedAttentionEnabled() ? nativeCausalAttention(qkvT3d, B, S, H) : causalAttentionUnfused(qkvT3d, B, S, H, maskSS);
}
