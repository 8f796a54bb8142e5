// `npm run build:native`: builds the optional OpenBLAS matmul addon with node-gyp; never fails the build.
// Without OpenBLAS, a compiler or node-gyp it prints why and exits 0: training then uses TF.js's own kernels.
// LOADSCOPE_NATIVE=0 skips it; --force rebuilds even when native/build/Release/blas.node is up to date.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, 'build', 'Release', 'blas.node');
// every C source and header counts: a kernel file newer than the addon means a rebuild
const sources = [...readdirSync(here).filter((f) => /\.(c|h)$/.test(f)), 'binding.gyp', 'build.mjs'].map((f) => join(here, f));
const say = (msg) => console.log(`build:native: ${msg}`);
const fallback = 'training will use TF.js\'s own matmul kernels (slower on CPU); see docs/native.md';

function findCblasHeader() {
  if (process.platform !== 'linux') return 'unchecked'; // macOS/Windows: let the compiler tell
  const dirs = ['/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu', '/usr/include/openblas', '/usr/include'];
  return dirs.map((d) => join(d, 'cblas.h')).find((p) => existsSync(p)) ?? null;
}

function findNodeGyp() {
  // npm sets npm_config_node_gyp to its bundled copy inside scripts; otherwise the project's (a transitive dep).
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return createRequire(join(here, '..', 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

// Headers shipped with this Node (Debian's /usr/include/node, official tarballs' include/node) spare
// node-gyp a download, which fails offline. N-API is ABI-stable, so Node's headers also serve Electron.
function localNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function upToDate() {
  if (!existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return sources.every((s) => statSync(s).mtimeMs <= built);
}

// Loads the fresh addon in a child process: a missing libopenblas.so.0 at run time shows up here, not in training.
function smokeTest() {
  const probe = `const b = require(${JSON.stringify(output)}); const a = new Float32Array([1, 2, 3, 4]), c = new Float32Array(4);
b.gemm(1, 2, 2, 2, false, false, a, 0, a, 0, c); if (c.join() !== '7,10,15,22') throw new Error('wrong product ' + c.join());
console.log(b.config());`;
  return spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
}

function main() {
  if (process.env.LOADSCOPE_NATIVE === '0') return say(`skipped (LOADSCOPE_NATIVE=0); ${fallback}`);
  if (!process.argv.includes('--force') && upToDate()) return say(`up to date: ${output}`);
  const header = findCblasHeader();
  if (!header) return say(`OpenBLAS headers (cblas.h) not found; install libopenblas-dev (scripts/setup.sh does); ${fallback}`);
  const gyp = findNodeGyp();
  if (!gyp) return say(`node-gyp not found; ${fallback}`);
  const nodeDir = localNodeDir();
  const args = [gyp, 'rebuild', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
  const run = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    rmSync(output, { force: true });
    const log = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').filter((l) => !/^gyp info/.test(l));
    say(`node-gyp failed (${run.error?.message ?? `exit ${run.status}`}); ${fallback}`);
    for (const line of log.slice(-15)) console.log(`  ${line}`);
    return;
  }
  const probe = smokeTest();
  if (probe.status !== 0) {
    rmSync(output, { force: true });
    say(`built but could not load or run it (${(probe.stderr || '').trim().split('\n')[0]}); ${fallback}`);
    return;
  }
  say(`built ${output} (${probe.stdout.trim()})`);
}

try {
  main();
} catch (err) {
  say(`unexpected error (${err instanceof Error ? err.message : String(err)}); ${fallback}`);
}
