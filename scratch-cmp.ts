import { preferSoftwareVulkan } from './src/main/engine/webgpu';
process.env.LOADSCOPE_WEBGPU_SOFTWARE = '1';
preferSoftwareVulkan();
const { selectBackend, tf } = await import('./src/main/engine/backend');
const { Trainer } = await import('./src/main/engine/train/trainer');
const { resolveRunConfig } = await import('./src/shared/run-config');
const r = resolveRunConfig({ preset: 'tiny', steps: 5, seed: 1, data: { kind: 'synthetic' }, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, dispatch: (process.env.DISPATCH ?? 'auto') as 'auto' });
if (!r.ok) throw new Error(JSON.stringify(r.errors));
const out: Record<string, number[]> = {};
for (const b of ['wasm', 'webgpu'] as const) {
  const info = await selectBackend(b);
  console.log(b, info.device);
  const n0 = tf.memory().numTensors;
  const tr = new Trainer({ ...r.config, backend: b });
  const ls: number[] = []; const t = performance.now();
  for (let i = 0; i < 5; i++) { ls.push((await tr.trainStep()).report.loss); console.log(b, i, tf.memory().numTensors, (performance.now()-t).toFixed(0)); }
  tr.dispose();
  console.log(b, 'tensors', n0, '->', tf.memory().numTensors);
  out[b] = ls;
}
console.log(JSON.stringify(out));
console.log(out.wasm!.map((x, i) => Math.abs(x - out.webgpu![i]!)));
process.exit(0);
