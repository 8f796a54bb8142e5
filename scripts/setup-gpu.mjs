// `npm run setup:gpu [-- --cpu]`: installs the opt-in native TensorFlow backend, tfjs-node-gpu (CUDA) or with
// --cpu tfjs-node, without saving it to package.json: its install script downloads libtensorflow (hundreds of
// MB, needs internet), which a plain `npm ci` must not attempt. backend.ts picks it up when it loads.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--cpu');
if (unknown.length > 0) {
  console.error(`setup:gpu: unknown option ${unknown[0]} (usage: npm run setup:gpu [-- --cpu])`);
  process.exit(2);
}
// the same version as tfjs-core, so both share one engine
const { dependencies } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const version = dependencies['@tensorflow/tfjs-core'];
const pkg = `@tensorflow/${args.includes('--cpu') ? 'tfjs-node' : 'tfjs-node-gpu'}@${version}`;
console.log(`setup:gpu: npm install --no-save ${pkg} (downloads libtensorflow; see docs/gpu.md)`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const res = spawnSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', pkg], { stdio: 'inherit', shell: process.platform === 'win32' });
if (res.status !== 0) {
  console.error(`setup:gpu: installing ${pkg} failed (exit ${res.status ?? res.signal}); training keeps using the wasm/native-BLAS path`);
  process.exit(1);
}
console.log(`setup:gpu: ${pkg} installed; new runs with backend "auto" or "tensorflow" use it (the run's backend line says so)`);
