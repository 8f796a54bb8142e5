// The BUILT main process (out/main/index.js, what `npm start` and the packages run) against the stand-in
// `electron` module: its window points at the built preload, and app:// serves the built renderer with the
// CSP and the other security headers (the source-level test cannot serve pages: src/ has no renderer build).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../../../src/main/server/csp';
import { cancellable, rec } from './fake-electron';

vi.mock('electron', async () => (await import('./fake-electron')).fakeElectron);

const mainFile = join(process.cwd(), 'out', 'main', 'index.js');
const built = existsSync(mainFile) && existsSync(join(process.cwd(), 'out', 'renderer', 'index.html'));
const runsRoot = mkdtempSync(join(tmpdir(), 'loadscope-built-main-'));

describe.skipIf(!built)(`built main (skipped: ${mainFile} missing, run \`npx electron-vite build\`; npm test builds first)`, () => {
  beforeAll(async () => {
    process.env.LOADSCOPE_RUNS_DIR = join(runsRoot, 'runs');
    delete process.env.ELECTRON_RENDERER_URL;
    await import(/* @vite-ignore */ mainFile);
    await vi.waitFor(() => expect(rec.windows).toHaveLength(1), { timeout: 30_000 });
  });

  afterAll(async () => {
    rec.app.emit('before-quit', cancellable());
    await vi.waitFor(() => expect(rec.exitCode).toBe(0), { timeout: 30_000 });
    rmSync(runsRoot, { recursive: true, force: true });
  });

  it('the window is sandboxed and isolated and loads the built preload', () => {
    const prefs = rec.windows[0].options.webPreferences!;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(prefs.preload).toBe(join(process.cwd(), 'out', 'preload', 'index.cjs'));
    expect(existsSync(String(prefs.preload))).toBe(true);
  });

  it('app://loadscope/ serves the built page with the CSP and security headers; nothing outside out/renderer', async () => {
    const serve = rec.protocolHandlers.get('app')!;
    const page = await serve(new Request('app://loadscope/index.html'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"');
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(page.headers.get(k), k).toBe(v);
    expect((await serve(new Request('app://loadscope/'))).status).toBe(200);
    for (const url of ['app://loadscope/%2e%2e/main/index.js', 'app://loadscope/..%2fmain%2findex.js', 'app://loadscope/missing.js', 'app://other/index.html']) {
      expect((await serve(new Request(url))).status, url).toBe(404);
    }
  });
});
