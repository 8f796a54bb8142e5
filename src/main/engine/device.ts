// Whether the active TF.js backend keeps tensors on a device (webgpu, libtensorflow on a CUDA GPU).
// Host-only fast paths (fused JS kernels on views of backend memory) must not run there: they would copy
// every tensor to the host, and WebGPU in Node cannot read synchronously at all.
import * as tf from '@tensorflow/tfjs-core';

export function isDeviceBackend(): boolean {
  const name = tf.getBackend();
  if (name === 'webgpu') return true;
  if (name !== 'tensorflow') return false;
  const b = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  return b.binding?.isUsingGpuDevice?.() === true;
}
