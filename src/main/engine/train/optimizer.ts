// AdamW (decoupled weight decay on matrices only) with global-norm clipping; moments are named for checkpoints.
import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** completed updates (bias correction uses it) */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Array<[string, tf.Variable]>,
    opts: AdamWOptions,
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.95;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay;
    const zeroVar = (p: tf.Variable) => {
      const z = tf.zerosLike(p);
      const v = tf.variable(z, false);
      z.dispose(); // the variable holds its own reference to the data
      return v;
    };
    for (const [name, p] of params) {
      this.m.set(name, zeroVar(p));
      this.v.set(name, zeroVar(p));
    }
  }

  /** √Σ‖g‖² over all gradients (one sync). */
  static globalNorm(grads: tf.Tensor[]): number {
    return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
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
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = gradsByVar[p.name];
        if (!g0) continue;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const decay = this.weightDecay > 0 && p.rank >= 2 ? tf.mul(p, lr * this.weightDecay) : null;
        const next = tf.sub(p, tf.mul(update, lr));
        p.assign(decay ? tf.sub(next, decay) : next);
      }
    });
  }

  moments(): Array<{ name: string; m: tf.Variable; v: tf.Variable }> {
    return this.params.map(([name]) => ({ name, m: this.m.get(name)!, v: this.v.get(name)! }));
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
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
