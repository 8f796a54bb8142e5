// `npm start` (scripts/start.mjs) where no window can open: it says why in one line, then serves the app
// and prints the URL; and `npm run setup:gpu` refuses an unknown option with one line.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { electronBinary } from '../../scripts/electron-binary.mjs';

const root = process.cwd();
const built = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html'].every((f) => existsSync(join(root, f)));
const runsRoot = mkdtempSync(join(tmpdir(), 'loadscope-start-'));
afterAll(() => rmSync(runsRoot, { recursive: true, force: true }));

/** Runs start.mjs until it prints the server URL (then stops it); returns what it printed before. */
function startUntilUrl(env: Record<string, string | undefined>): Promise<string> {
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', '0'], {
    cwd: root,
    env: { ...process.env, LOADSCOPE_RUNS_DIR: join(runsRoot, 'runs'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no URL within 120 s; printed:\n${out}`)), 120_000);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      if (err) reject(err);
      else resolve(out);
    };
    child.stdout.on('data', (d) => {
      out += d;
      if (/http:\/\/127\.0\.0\.1:\d+\/\?token=\w+/.test(out)) finish();
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => finish(new Error(`start.mjs exited ${code} before printing a URL:\n${out}`)));
  });
}

const why = (out: string) => out.split('\n').filter((l) => l.startsWith('No window opened: '));

describe.skipIf(!built)('npm start without a window (skipped: the app is not built; run `npm run build`)', () => {
  it('without a display: one line naming the reason, then the URL', async () => {
    const out = await startUntilUrl({ DISPLAY: '', WAYLAND_DISPLAY: '', LOADSCOPE_HEADLESS: '' });
    if (process.platform === 'linux') expect(why(out)).toEqual(['No window opened: no display (neither DISPLAY nor WAYLAND_DISPLAY is set). Serving the app to a browser instead; open the URL below.']);
    expect(out).toMatch(/Loadscope is serving at http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  });

  // With the binary installed the window would open instead: nothing to observe here.
  it.skipIf(electronBinary() !== null)('Electron binary missing and its download failing: Electron\'s installer is tried, then one line says why (skipped where the binary is installed)', async () => {
    // an unreachable mirror makes the download fail the same way on any machine, online or not
    const out = await startUntilUrl({ DISPLAY: ':0', ELECTRON_MIRROR: 'http://127.0.0.1:9/', LOADSCOPE_HEADLESS: '' });
    expect(out).toContain("running Electron's installer");
    const lines = why(out);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^No window opened: Electron's binary could not be downloaded \(.+\)\. Serving the app to a browser instead/);
    expect(out).toMatch(/Loadscope is serving at http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  });
});

describe('npm run setup:gpu', () => {
  it('an unknown option: one line naming it, exit 2', () => {
    const res = spawnSync(process.execPath, ['scripts/setup-gpu.mjs', '--cuda12'], { cwd: root, encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr.trim()).toBe('setup:gpu: unknown option --cuda12 (usage: npm run setup:gpu [-- --cpu])');
  });
});
