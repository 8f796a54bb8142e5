import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/main/engine/backend';
import { lmLoss } from '../src/main/engine/model/loss';
await selectBackend('wasm');
const T = 512, d = 64, V = 256;
const h = tf.variable(tf.randomNormal([T, d])) as tf.Variable<tf.Rank.R2>;
const wte = tf.variable(tf.randomNormal([V, d], 0, 0.02)) as tf.Variable<tf.Rank.R2>;
const targets = Int32Array.from({ length: T }, (_, i) => (i * 37) % V);
const cases: Array<[string, () => void]> = [
  ['fwd only', () => tf.tidy(() => { lmLoss(h, wte, targets); })],
  ['fwd+bwd', () => tf.dispose(Object.values(tf.variableGrads(() => lmLoss(h, wte, targets), [h, wte]).grads))],
];
for (let round = 0; round < 3; round++) for (const side of ['js', 'native']) {
  if (side === 'js') process.env.LOADSCOPE_NATIVE_FUSED = '0'; else delete process.env.LOADSCOPE_NATIVE_FUSED;
  for (const [name, f] of cases) {
    for (let i = 0; i < 20; i++) f();
    const c0 = process.cpuUsage(); const n = 200;
    for (let i = 0; i < n; i++) f();
    const c = process.cpuUsage(c0);
    console.log(side, name, ((c.user + c.system) / n / 1000).toFixed(3), 'cpu ms');
  }
}
