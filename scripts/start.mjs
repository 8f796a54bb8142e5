// `npm start`: builds when needed, then opens the Electron window if its binary is installed,
// otherwise starts the headless server (`loadscope serve`) and prints the URL to open in a browser.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';

const run = (cmd, args) =>
  new Promise((resolve) => spawn(cmd, args, { stdio: 'inherit', shell: false }).on('exit', (code) => resolve(code ?? 1)));

if (!existsSync('out/main/cli.js') || process.env.LOADSCOPE_REBUILD === '1') {
  const code = await run('npx', ['electron-vite', 'build']);
  if (code !== 0) process.exit(code);
}
// Checking for the binary on disk rather than require('electron'): from Electron 42 on, the require
// itself tries to download the binary and throws where there is no network.
const hasElectronBinary = existsSync('node_modules/electron/dist/electron') || existsSync('node_modules/electron/dist/electron.exe') || existsSync('node_modules/electron/dist/Electron.app');
if (hasElectronBinary && process.env.LOADSCOPE_HEADLESS !== '1') {
  process.exit(await run('npx', ['electron-vite', 'preview']));
} else {
  if (!hasElectronBinary) console.log('Electron binary not installed: starting the headless server instead (open the URL below in a browser).');
  process.exit(await run(process.execPath, ['bin/loadscope.mjs', 'serve', ...process.argv.slice(2)]));
}
