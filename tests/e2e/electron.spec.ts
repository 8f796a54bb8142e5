// The Electron app itself (Playwright's _electron): the window opens sandboxed with the preload's
// `window.loadscope` and answers a command. Runs only where the Electron binary is installed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';

// Look on disk: require('electron') would try to download the binary and throw without a network.
const dist = join(process.cwd(), 'node_modules', 'electron', 'dist');
const hasBinary = ['electron', 'electron.exe', 'Electron.app'].some((f) => existsSync(join(dist, f)));
const built = existsSync(join(process.cwd(), 'out', 'main', 'index.js')) && existsSync(join(process.cwd(), 'out', 'preload', 'index.cjs'));

test('the Electron window exposes the contract and nothing else', async () => {
  test.skip(!hasBinary, `Electron binary not installed (${dist} is missing: offline set-up, \`node node_modules/electron/install.js\` installs it) — the adapter is tested against a stand-in in tests/unit/electron/adapter.test.ts, the UI in Chromium through \`loadscope serve\``);
  test.skip(!built, 'app not built: run `npm run build` before the e2e tests');
  const runsRoot = mkdtempSync(join(tmpdir(), 'loadscope-electron-'));
  const app = await electron.launch({ args: ['out/main/index.js'], env: { ...process.env, LOADSCOPE_RUNS_DIR: join(runsRoot, 'runs') } as Record<string, string> });
  try {
    const page = await app.firstWindow();
    const url = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0].webContents.getURL());
    expect(url.startsWith('app://loadscope/')).toBe(true);
    // nodeIntegration off and context isolation on: no Node globals in the page's world
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    const info = await page.evaluate(() => (globalThis as unknown as { loadscope: { getSystemInfo(r: object): Promise<unknown> } }).loadscope.getSystemInfo({}));
    expect(info).toMatchObject({ ok: true, value: { transport: 'electron' } });
    const bad = await page.evaluate(() => (globalThis as unknown as { loadscope: { pauseRun(r: object): Promise<unknown> } }).loadscope.pauseRun({ runId: '../x' }));
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
  } finally {
    await app.close();
    rmSync(runsRoot, { recursive: true, force: true });
  }
});
