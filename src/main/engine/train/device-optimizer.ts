// AdamW and global-norm clipping as tf ops, for device backends (webgpu, tfjs-node-gpu): no weight leaves the device.
//
// The same update as optimizer.ts (host), in the same order of operations, so both agree to float32
// rounding: g' = g·scale, m = β1·m + (1−β1)·g', v = β2·v + (1−β2)·g'², w = w·(1 − lr·wd) − (lr/c1)·m / (√v·(1/√c2) + ε),
// scale = clip / (‖g‖ + 1e-6) when ‖g‖ > clip, else 1. The moments live in tf variables; checkpoints read
// them with data() (asynchronous: WebGPU in Node cannot read synchronously).
import * as tf from '@tensorflow/tfjs-core';
import { adamWSettings, type AdamWOptions, type Moments } from './optimizer';
import { sumPairwise } from './sum';

/** a variable keeps its own reference to the data: the initial tensor must be freed, or it leaks */
function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

export class DeviceAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly params: Array<[string, tf.Variable]>,
    opts: AdamWOptions,
  ) {
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = adamWSettings(opts));
    this.m = params.map(([, p]) => zeroVariable(p));
    this.v = params.map(([, p]) => zeroVariable(p));
  }

  /** √Σ‖g‖² as a scalar tensor (pairwise sums: SwiftShader's AddN cannot bind more than 8 inputs). */
  static globalNorm(grads: tf.Tensor[]): tf.Scalar {
    return tf.tidy(() => tf.sqrt(sumPairwise(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
  }

  /** One update with the clipping decided on the device from the gradient norm; clip ≤ 0 disables it. */
  apply(gradsByVar: Record<string, tf.Tensor>, lr: number, gradNorm: tf.Scalar, clip: number): void {
    this.step++;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    tf.tidy(() => {
      const scale = clip > 0 ? tf.where(tf.greater(gradNorm, clip), tf.div(clip, tf.add(gradNorm, 1e-6)), tf.scalar(1)) : tf.scalar(1);
      this.params.forEach(([, p], i) => {
        const grad = gradsByVar[p.name];
        if (!grad) return;
        const decay = this.weightDecay > 0 && p.rank >= 2 ? lr * this.weightDecay : 0;
        const g = tf.mul(grad, scale);
        const m = tf.add(tf.mul(this.m[i]!, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.v[i]!, b2), tf.mul(tf.mul(g, g), 1 - b2));
        const denom = tf.add(tf.mul(tf.sqrt(v), 1 / Math.sqrt(c2)), eps);
        p.assign(tf.sub(tf.mul(p, 1 - decay), tf.div(tf.mul(m, lr / c1), denom)));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
      });
    });
  }

  async readMoments(): Promise<Moments[]> {
    return Promise.all(
      this.params.map(async ([name, p], i) => ({
        name,
        shape: [...p.shape],
        m: Float32Array.from((await this.m[i]!.data()) as Float32Array),
        v: Float32Array.from((await this.v[i]!.data()) as Float32Array),
      })),
    );
  }

  loadMoments(i: number, m: Float32Array, v: Float32Array): void {
    const shape = this.params[i]![1].shape;
    tf.tidy(() => {
      this.m[i]!.assign(tf.tensor(m, shape, 'float32'));
      this.v[i]!.assign(tf.tensor(v, shape, 'float32'));
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
