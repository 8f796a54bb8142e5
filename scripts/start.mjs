// `npm start`: builds what is missing or stale (native kernels included), then opens the Electron window;
// where Electron's binary is missing it tries Electron's own installer first, and only where that fails (or
// there is no display) starts the headless server (`loadscope serve`), saying why in one line.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { electronBinary, installElectron } from './electron-binary.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args) =>
  new Promise((resolve) => spawn(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' }).on('exit', (code) => resolve(code ?? 1)));

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

// The native addon first (up to date → instant; without OpenBLAS it says why and exits 0), then the app
// bundles when out/ is missing or older than the sources.
if ((await run(npm, ['run', '--silent', 'build:native'])) !== 0) process.exit(1);
const built = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html'].every((f) => existsSync(f));
const stale = !built || process.env.LOADSCOPE_REBUILD === '1' || newestMtime('src') > statSync('out/main/index.js').mtimeMs;
if (stale) {
  const code = await run('npx', ['electron-vite', 'build']);
  if (code !== 0) process.exit(code);
}

async function whyNoWindow() {
  if (process.env.LOADSCOPE_HEADLESS === '1') return 'LOADSCOPE_HEADLESS=1';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
  if (electronBinary()) return null;
  console.log('Electron binary not installed: running Electron\'s installer (downloads it once)…');
  const res = await installElectron();
  return res.ok ? null : res.reason;
}

const reason = await whyNoWindow();
if (reason === null) {
  process.exit(await run(electronBinary(), ['.']));
}
console.log(`No window opened: ${reason}. Serving the app to a browser instead; open the URL below.`);
process.exit(await run(process.execPath, ['bin/loadscope.mjs', 'serve', ...process.argv.slice(2)]));
