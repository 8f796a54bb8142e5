// AdamW (decoupled weight decay on matrices only) with global-norm clipping, run on typed arrays.
//
// Why not TF.js ops: AdamW over ~20 small variables is ~200 element-wise kernels per step, each with a
// fixed dispatch cost larger than its arithmetic at these sizes (≈ 6 ms of a 50 ms tiny step). One JS
// loop per parameter reads the gradient and writes the weight in place (views.ts: the wasm heap or the
// cpu backend's arrays, no copies), and keeps both moments as plain Float32Arrays, which is also what a
// checkpoint stores. The arithmetic is the same update as before, rounded to float32 at the same points
// (moments and weights are stored as float32).
import * as tf from '@tensorflow/tfjs-core';
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

  /** √Σ‖g‖² over all gradients, summed in float64 from views of the gradients' data. */
  static globalNorm(grads: tf.Tensor[]): number {
    let sum = 0;
    for (const g of grads) {
      const x = readView(g);
      for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
    }
    return Math.sqrt(sum);
  }

  /**
   * One update. grads by parameter variable name (tf's own names); a parameter without a gradient
   * (no path to the loss this step) is left alone. Gradients are scaled by `scale` (clipping).
   */
  apply(gradsByVar: Record<string, tf.Tensor>, lr: number, scale: number): void {
    this.step++;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const k1 = 1 - b1;
    const k2 = 1 - b2;
    this.params.forEach(([, p], i) => {
      const grad = gradsByVar[p.name];
      if (!grad) return;
      const { m, v } = this.state[i]!;
      const decay = this.weightDecay > 0 && p.rank >= 2 ? lr * this.weightDecay : 0;
      // in place when nothing else holds the weight's data; else into a fresh array that is assigned
      const inPlace = writableView(p);
      const out = inPlace ?? new Float32Array(p.size);
      const w = inPlace ?? readView(p);
      const g = readView(grad); // read last: views of the wasm heap stay valid only until an allocation
      // w − lr·(m/c1)/(√(v/c2) + ε) − lr·wd·w, with the bias corrections folded into two constants
      const step = lr / c1;
      const rc2 = 1 / Math.sqrt(c2);
      const keep = 1 - decay;
      for (let j = 0; j < out.length; j++) {
        const gj = g[j]! * scale;
        const mj = (m[j] = b1 * m[j]! + k1 * gj);
        const vj = (v[j] = b2 * v[j]! + k2 * gj * gj);
        out[j] = w[j]! * keep - (step * mj) / (Math.sqrt(vj) * rc2 + eps);
      }
      if (!inPlace) tf.tidy(() => p.assign(tf.tensor(out, p.shape, 'float32')));
    });
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
