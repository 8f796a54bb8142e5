// AdamW (decoupled weight decay on matrices only) with global-norm clipping, run on typed arrays.
//
// Why not TF.js ops: AdamW over ~20 small variables is ~200 element-wise kernels per step, each with a
// fixed dispatch cost larger than its arithmetic at these sizes (≈ 6 ms of a 50 ms tiny step). One JS
// loop per parameter reads the gradient and writes the weight in place (views.ts: the wasm heap or the
// cpu backend's arrays, no copies), and keeps both moments as plain Float32Arrays, which is also what a
// checkpoint stores. With the native addon (native/adamw.c) the norm, clipping and every parameter's
// update are one C call over the same arrays, with the same float64 arithmetic rounded to float32 at the
// same points, so both give the same weights and moments (tests/unit/native/fused-adamw.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { nativeFusedKernels, type AdamWArrays, type AdamWKernel } from '../native/fused';
import { readView, writableView } from './views';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
}

/** One parameter's AdamW state: both moments, same length as the weight. */
export interface Moments {
  name: string;
  shape: number[];
  m: Float32Array;
  v: Float32Array;
}

/** The options with their defaults filled in (host and device AdamW share them). */
export function adamWSettings(opts: AdamWOptions): Required<AdamWOptions> {
  return { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.95, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay };
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** completed updates (bias correction uses it) */
  step = 0;
  private readonly state: Moments[];

  constructor(
    private readonly params: Array<[string, tf.Variable]>,
    opts: AdamWOptions,
  ) {
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = adamWSettings(opts));
    this.state = params.map(([name, p]) => ({ name, shape: [...p.shape], m: new Float32Array(p.size), v: new Float32Array(p.size) }));
  }

  /**
   * One update: the global norm of the gradients, clipping to `clip` (0: none), and AdamW, in one kernel
   * call over every parameter (native/adamw.c when nativeFusedKernels() allows it, else jsAdamW: the same
   * arithmetic). grads by parameter variable name (tf's own names); a parameter without a gradient (no
   * path to the loss this step) is left alone. `gradScale` multiplies the gradients first (1/k turns k
   * micro-batches' summed gradients into their mean). Returns the norm of the scaled gradients, before clipping.
   */
  update(gradsByVar: Record<string, tf.Tensor>, lr: number, clip: number, gradScale = 1): number {
    this.step++;
    const { beta1, beta2, eps } = this;
    const arrays: AdamWArrays = { weights: [], grads: [], m: [], v: [], keep: [] };
    const assign: Array<[tf.Variable, Float32Array]> = [];
    const gradTensors: tf.Tensor[] = [];
    this.params.forEach(([, p], i) => {
      const grad = gradsByVar[p.name];
      if (!grad) return;
      // in place when nothing else holds the weight's data; else into a copy that is assigned afterwards
      let w = writableView(p);
      if (!w) assign.push([p, (w = readView(p).slice())]);
      arrays.weights.push(w);
      arrays.m.push(this.state[i]!.m);
      arrays.v.push(this.state[i]!.v);
      arrays.keep.push(this.weightDecay > 0 && p.rank >= 2 ? 1 - lr * this.weightDecay : 1);
      gradTensors.push(grad);
    });
    // gradient views last, after every copy: views of the wasm heap stay valid only until an allocation
    arrays.grads = gradTensors.map((g) => readView(g));
    const constants = { step: lr / (1 - beta1 ** this.step), rc2: 1 / Math.sqrt(1 - beta2 ** this.step), beta1, beta2, eps, clip, gradScale };
    const norm = (nativeFusedKernels()?.adamW ?? jsAdamW)(arrays, constants);
    for (const [p, w] of assign) tf.tidy(() => p.assign(tf.tensor(w, p.shape, 'float32')));
    return norm;
  }

  /** Both moments of every parameter, in parameter order (checkpoints copy them). */
  moments(): readonly Moments[] {
    return this.state;
  }

  readMoments(): Promise<Moments[]> {
    return Promise.resolve(this.state);
  }

  loadMoments(i: number, m: Float32Array, v: Float32Array): void {
    this.state[i]!.m.set(m);
    this.state[i]!.v.set(v);
  }

  dispose(): void {
    // plain arrays only: nothing held by the backend
  }
}

/** Linear warm-up to `lr`, then cosine decay to lr·minLrRatio at the last step. */
export function learningRate(step: number, c: { lr: number; warmupSteps: number; steps: number; minLrRatio: number }): number {
  if (c.warmupSteps > 0 && step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  const span = Math.max(1, c.steps - c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / span);
  const min = c.lr * c.minLrRatio;
  return min + 0.5 * (c.lr - min) * (1 + Math.cos(Math.PI * progress));
}

/**
 * AdamW in JS over the same arrays as the native kernel: norm = √Σg² in float64 (eight partial sums) times gradScale (c), clip
 * scale s = c·clip/(norm + 1e-6) when clip > 0 and norm > clip, else c; then per element (float64, stored
 * float32) m = β1·m + (1−β1)·g·s, v = β2·v + (1−β2)·(g·s)², w = w·keep − step·m/(√v·rc2 + ε).
 */
export const jsAdamW: AdamWKernel = ({ weights, grads, m, v, keep }, { step, rc2, beta1: b1, beta2: b2, eps, clip, gradScale }) => {
  // eight partial sums, element j into sum j mod 8, combined pairwise: native/adamw.c's vectorised order
  const acc = new Float64Array(8);
  for (const g of grads) for (let j = 0; j < g.length; j++) acc[j & 7]! += g[j]! * g[j]!;
  const sum = (acc[0]! + acc[1]! + (acc[2]! + acc[3]!)) + (acc[4]! + acc[5]! + (acc[6]! + acc[7]!));
  const norm = Math.sqrt(sum) * gradScale;
  const scale = (clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1) * gradScale;
  const k1 = 1 - b1;
  const k2 = 1 - b2;
  weights.forEach((w, i) => {
    const g = grads[i]!;
    const mi = m[i]!;
    const vi = v[i]!;
    const kp = keep[i]!;
    if (g.length !== w.length || mi.length !== w.length || vi.length !== w.length) throw new RangeError(`AdamW: parameter ${i}'s weight, grad, m and v differ in length`);
    for (let j = 0; j < w.length; j++) {
      const gj = g[j]! * scale;
      const mj = (mi[j] = b1 * mi[j]! + k1 * gj); // the float64 value, as the native kernel uses it
      const vj = (vi[j] = b2 * vi[j]! + k2 * gj * gj);
      w[j] = w[j]! * kp - (step * mj) / (Math.sqrt(vj) * rc2 + eps);
    }
  });
  return norm;
};
