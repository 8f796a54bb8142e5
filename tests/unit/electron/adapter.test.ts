// The Electron adapter without Electron's binary: the real main process (src/main/electron) and the BUILT
// preload (out/preload/index.cjs, run in node:vm) against a stand-in `electron` module (fake-electron.ts).
// Proves the window's security settings, the CSP, the navigation guards, and that every contract command
// and event passes between preload and main, with main validating each payload.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contentSecurityPolicy } from '../../../src/main/server/csp';
import type { Services } from '../../../src/main/services/compose';
import { commandSchemas, EVENT_NAMES, type EventPayloads } from '../../../src/shared/ipc-contract';
import { cancellable, rec } from './fake-electron';

// The real `electron` package is never loaded: its require would try to download the binary.
vi.mock('electron', async () => (await import('./fake-electron')).fakeElectron);
// The real services, kept where the test can reach them to push events through the window.
const captured = vi.hoisted(() => ({ services: null as Services | null }));
vi.mock('../../../src/main/services/compose', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/main/services/compose')>();
  return { ...real, composeServices: async (...args: Parameters<typeof real.composeServices>) => (captured.services = await real.composeServices(...args)) };
});

const COMMANDS = Object.keys(commandSchemas).sort();
const preloadFile = join(process.cwd(), 'out', 'preload', 'index.cjs');
const preloadBuilt = existsSync(preloadFile);
const runsRoot = mkdtempSync(join(tmpdir(), 'loadscope-adapter-'));

type Api = Record<string, (...args: unknown[]) => Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }>> & {
  on(event: string, listener: (payload: unknown) => void): () => void;
};

beforeAll(async () => {
  process.env.LOADSCOPE_RUNS_DIR = join(runsRoot, 'runs');
  delete process.env.ELECTRON_RENDERER_URL;
  await import('../../../src/main/electron/main');
  // app.whenReady() → composeServices → registerCommands → createWindow
  await vi.waitFor(() => expect(rec.windows).toHaveLength(1), { timeout: 30_000 });
});

afterAll(async () => {
  // before-quit: main checkpoints and stops runs, then exits 0
  const quit = cancellable();
  rec.app.emit('before-quit', quit);
  expect(quit.defaultPrevented).toBe(true);
  await vi.waitFor(() => expect(rec.exitCode).toBe(0), { timeout: 30_000 });
  rmSync(runsRoot, { recursive: true, force: true });
});

describe('main process', () => {
  it('opens one window: context isolation, sandbox, no Node integration, the preload, the app page', () => {
    const [win] = rec.windows;
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(String(win.options.webPreferences?.preload)).toMatch(/preload[\\/]index\.cjs$/);
    expect(win.webContents.getURL()).toBe('app://loadscope/index.html');
    expect(rec.errorBoxes).toEqual([]);
    // the stand-in answered, not the real package (whose index.js would look for the binary)
    expect(Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules[\\/]electron[\\/]index\.js$/.test(p))).toEqual([]);
  });

  it('installs the CSP on every response, serves app:// only from its own folder, denies permissions', async () => {
    expect(rec.privilegedSchemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    const [onHeaders] = rec.headerHandlers;
    let headers: Record<string, string[]> = {};
    onHeaders({ responseHeaders: { 'Content-Type': ['text/html'] } }, (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders));
    expect(headers).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': [contentSecurityPolicy()] });
    expect(headers['Content-Security-Policy'][0]).toContain("script-src 'self'");
    const serve = rec.protocolHandlers.get('app')!;
    expect((await serve(new Request('app://elsewhere/index.html'))).status).toBe(404);
    expect((await serve(new Request('app://loadscope/%2e%2e/%2e%2e/package.json'))).status).toBe(404);
    let granted: boolean | null = null;
    rec.permissionHandler!(null, 'media', (ok: boolean) => (granted = ok));
    expect(granted).toBe(false);
  });

  it('blocks navigation and redirects away from the app, webviews and new windows; https links go to the system browser', async () => {
    const wc = rec.windows[0].webContents;
    const nav = (event: string, url: string) => {
      const e = cancellable();
      wc.emit(event, e, url);
      return e.defaultPrevented;
    };
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'http://localhost:5173/']) {
      expect(nav('will-navigate', url), url).toBe(true);
      expect(nav('will-redirect', url), url).toBe(true);
    }
    expect(nav('will-navigate', 'app://loadscope/index.html#/runs')).toBe(false);
    const webview = cancellable();
    wc.emit('will-attach-webview', webview);
    expect(webview.defaultPrevented).toBe(true);
    for (const url of ['https://arxiv.org/abs/2408.15664', 'http://evil.example/', 'file:///etc/passwd', 'app://loadscope/index.html']) {
      expect(wc.windowOpenHandler!({ url })).toEqual({ action: 'deny' });
    }
    await Promise.resolve();
    expect(rec.openedExternally).toEqual(['https://arxiv.org/abs/2408.15664']);
  });

  it('handles exactly the contract commands, and refuses them from frames that are not the app', async () => {
    expect([...rec.handlers.keys()].sort()).toEqual(COMMANDS.map((c) => `loadscope:${c}`).sort());
    const handler = rec.handlers.get('loadscope:listRuns')!;
    for (const url of ['https://evil.example/', 'file:///tmp/x.html']) {
      expect(await handler({ senderFrame: { url } }, {})).toEqual({ ok: false, error: { code: 'invalid', message: 'command refused: not from the app window' } });
    }
    expect(await handler({ senderFrame: null }, {})).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await handler({ senderFrame: { url: 'app://loadscope/index.html' } }, {})).toEqual({ ok: true, value: [] });
  });
});

describe.skipIf(!preloadBuilt)(`the built preload (skipped: ${preloadFile} missing, run \`npx electron-vite build\`; npm test builds first)`, () => {
  const required: string[] = [];
  let api: Api;

  beforeAll(async () => {
    const { fakeElectron } = await import('./fake-electron');
    // the sandboxed preload's world: require() answers only `electron`, as in a sandboxed renderer
    const module = { exports: {} };
    const context = {
      module,
      exports: module.exports,
      console,
      require: (id: string) => {
        required.push(id);
        if (id === 'electron') return fakeElectron;
        throw new Error(`a sandboxed preload cannot require "${id}"`);
      },
    };
    vm.runInNewContext(readFileSync(preloadFile, 'utf8'), context, { filename: preloadFile });
    api = rec.exposed.loadscope as Api;
  });

  it('requires only electron and exposes exactly one function per contract command, plus on and pathForFile', () => {
    expect([...new Set(required)]).toEqual(['electron']);
    expect(Object.keys(rec.exposed)).toEqual(['loadscope']);
    expect(Object.keys(api).sort()).toEqual([...COMMANDS, 'on', 'pathForFile'].sort());
    for (const name of Object.keys(api)) expect(typeof api[name], name).toBe('function');
    expect(api.pathForFile({ path: '/data/text.txt' })).toBe('/data/text.txt');
  });

  it.each(COMMANDS)('%s reaches main, which rejects an invalid payload', async (name) => {
    const res = await api[name](42);
    expect(res.ok).toBe(false);
    expect(res.error?.code).toBe('invalid');
    expect(res.error?.message).not.toBe('');
  });

  it('valid requests reach the real services and their answers come back', async () => {
    expect(await api.getSystemInfo({})).toMatchObject({ ok: true, value: { transport: 'electron', runsDir: join(runsRoot, 'runs') } });
    expect(await api.listRuns()).toEqual({ ok: true, value: [] });
    expect(await api.getRun({ runId: 'no-such-run' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await api.pauseRun({ runId: '../etc' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const bad = await api.startRun({ config: { preset: 'tiny', steps: -3 } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('every contract event reaches on() listeners with its payload only, until unsubscribed', async () => {
    const payloads: { [E in keyof EventPayloads]: EventPayloads[E] } = {
      'run:frame': { runId: 'r1', step: 3, totalSteps: 10, points: [], loadsLE: [1, 2, 3, 4], layers: 1, experts: 4, idealLoad: 2.5, etaMs: null },
      'run:status': { runId: 'r1', status: 'running' },
      'runs:changed': { reason: 'test' },
    };
    expect(Object.keys(payloads).sort()).toEqual([...EVENT_NAMES].sort());
    for (const event of EVENT_NAMES) {
      const got: unknown[][] = [];
      const off = api.on(event, (...args: unknown[]) => got.push(args));
      captured.services!.events.emit(event, payloads[event] as never);
      await vi.waitFor(() => expect(got).toEqual([[payloads[event]]]));
      off();
      captured.services!.events.emit(event, payloads[event] as never);
      await new Promise((r) => setTimeout(r, 20));
      expect(got, event).toHaveLength(1);
    }
    expect(() => api.on('run:secret', () => {})).toThrow(/unknown event "run:secret"/);
    expect(() => api.on('run:frame', 'not a function' as never)).toThrow(/listener must be a function/);
  });
});
