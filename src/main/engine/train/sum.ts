// Sum of several tensors by pairwise adds: AddN with more than 8 inputs exceeds SwiftShader's storage-buffer limit.
import * as tf from '@tensorflow/tfjs-core';

/** t0 + t1 + … as a balanced tree of two-input adds (same result as addN up to float32 rounding order). */
export function sumPairwise<T extends tf.Tensor>(ts: T[]): T {
  if (ts.length === 0) throw new Error('sumPairwise: no tensors');
  let level: tf.Tensor[] = ts;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? tf.add(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0] as T;
}
