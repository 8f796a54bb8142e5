import { preferSoftwareVulkan } from './src/main/engine/webgpu';
process.env.LOADSCOPE_WEBGPU_SOFTWARE = '1';
preferSoftwareVulkan();
const { selectBackend, tf } = await import('./src/main/engine/backend');
await selectBackend('webgpu');
const a = tf.randomNormal([512, 64]); const b = tf.randomNormal([64, 256]);
for (const ty of [3, 1, 2, -1]) {
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', ty);
  const ts: string[] = [];
  for (let i = 0; i < 3; i++) { const t = performance.now(); const c = tf.matMul(a, b); await c.data(); c.dispose(); ts.push((performance.now() - t).toFixed(0)); }
  console.log('type', ty, ts.join(' '));
}
process.exit(0);
