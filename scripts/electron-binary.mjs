// Electron's binary on disk: whether it is installed, and installing it with Electron's own installer
// (node_modules/electron/install.js, which downloads the zip or takes it from the cache). Used by `npm start`
// and scripts/setup.sh; run directly (`node scripts/electron-binary.mjs --install`) it installs and exits
// 0 either way, printing one line when the binary could not be installed (offline set-up must succeed).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'node_modules', 'electron');

/** The executable, or null. Read from disk rather than require('electron'): from Electron 42 on, the
 *  require itself tries to download the binary and throws where there is no network. */
export function electronBinary() {
  try {
    const rel = readFileSync(join(pkgDir, 'path.txt'), 'utf8').trim();
    const exe = join(pkgDir, 'dist', rel);
    return existsSync(exe) ? exe : null;
  } catch {
    return null;
  }
}

/** Runs Electron's installer with a time limit; resolves { ok: true } or { ok: false, reason } (one line). */
export function installElectron(timeoutMs = Number(process.env.LOADSCOPE_ELECTRON_INSTALL_TIMEOUT_MS ?? 180_000)) {
  const installer = join(pkgDir, 'install.js');
  if (!existsSync(installer)) return Promise.resolve({ ok: false, reason: 'the electron package is not installed (run scripts/setup.sh)' });
  return new Promise((resolve) => {
    // the installer honours ELECTRON_SKIP_BINARY_DOWNLOAD; here we mean to install, so it is dropped
    const env = { ...process.env };
    delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
    const child = spawn(process.execPath, [installer], { cwd: pkgDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-8000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `the installer did not run (${err.message})` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && electronBinary()) return resolve({ ok: true });
      if (signal === 'SIGKILL') return resolve({ ok: false, reason: `downloading Electron's binary took over ${Math.round(timeoutMs / 1000)} s` });
      // the error line of the installer's stack (e.g. "RequestError: getaddrinfo ENOTFOUND github.com")
      const line = stderr.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('at ')) ?? `exit code ${code}`;
      resolve({ ok: false, reason: `Electron's binary could not be downloaded (${line})` });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--install')) {
  if (electronBinary()) process.exit(0);
  const res = await installElectron();
  if (res.ok) console.log('setup: Electron binary installed');
  else console.log(`setup: ${res.reason}; \`npm start\` will serve the app to a browser instead (offline: point electron_config_cache at a copy of ~/.cache/electron, docs/packaging.md)`);
}
