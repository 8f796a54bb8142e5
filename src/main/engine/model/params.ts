// Named, seeded trainable variables: the one place model weights are created, listed and disposed.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng';

export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();

  constructor(private readonly rng: Rng) {}

  /** normal(0, std) init from the run's PRNG (same seed → same weights on every backend) */
  normal(name: string, shape: number[], std: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = this.rng.normal() * std;
    return this.add(name, tf.tensor(data, shape));
  }

  ones(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.ones(shape));
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(init, true, `${name}_${Math.random().toString(36).slice(2, 8)}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** in creation order, which is also the checkpoint order */
  entries(): Array<[string, tf.Variable]> {
    return [...this.vars.entries()];
  }

  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
