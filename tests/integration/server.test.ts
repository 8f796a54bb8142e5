// `loadscope serve` as a library: token → cookie, 401 without it, 403 for foreign origins and hosts,
// CSP on pages, malformed WebSocket messages answered with {error}, and command round trips.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src/main/server/server';
import { RENDERER_FIXTURE, tempRunsDir, tinyConfig, until } from './fixtures/service-helpers';

let server: RunningServer;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = tempRunsDir();
  cleanup = tmp.cleanup;
  server = await startServer({ port: 0, runsDir: tmp.dir, rendererDir: RENDERER_FIXTURE, compose: { log: () => undefined } });
});
afterAll(async () => {
  await server?.close();
  cleanup?.();
});

type Res = { status: number; headers: Record<string, string | string[] | undefined>; body: string };
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cookie(): Promise<string> {
  const res = await get(`/?token=${server.token}`);
  return String(res.headers['set-cookie']).split(';')[0];
}

function connect(headers: Record<string, string>, path = '/ws'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Messages of one socket, in order, with a way to await the next one matching. */
function inbox(ws: WebSocket) {
  const msgs: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Record<string, unknown>));
  return {
    msgs,
    next: (pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000) => until('a matching message', () => msgs.find(pred), timeoutMs),
  };
}

describe('loadscope serve', () => {
  it('prints a loopback URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  }, 240_000);

  it('refuses requests without the token or cookie (401), and with a wrong token', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/app.js')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { Cookie: `loadscope_session_${server.port}=forged` })).status).toBe(401);
    await expect(connect({})).rejects.toThrow('HTTP 401');
  }, 240_000);

  it('trades the token for an HttpOnly SameSite=Strict cookie and a redirect to the clean URL', async () => {
    const res = await get(`/runs?x=1&token=${server.token}`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/runs?x=1');
    expect(String(res.headers['set-cookie'])).toMatch(/^loadscope_session_\d+=[\w.-]+; HttpOnly; SameSite=Strict; Path=\//);
    const page = await get('/', { Cookie: await cookie() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('fixture');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("connect-src 'self'");
    expect((await get('/app.js', { Cookie: await cookie() })).headers['content-type']).toMatch(/^text\/javascript/);
  }, 240_000);

  it('refuses foreign origins and hosts (403) and paths outside the app (404)', async () => {
    const c = await cookie();
    expect((await get('/', { Cookie: c, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get('/', { Cookie: c, Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get('/', { Cookie: c, Origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await get('/%2e%2e/%2e%2e/package.json', { Cookie: c })).status).toBe(404);
    expect((await get('/missing.js', { Cookie: c })).status).toBe(404);
    expect((await get('/', { Cookie: c }, 'POST')).status).toBe(405);
    await expect(connect({ Cookie: c, Origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect({ Cookie: c }, '/other')).rejects.toThrow('HTTP 404');
  }, 240_000);

  it('answers malformed messages with {error} and keeps serving commands', async () => {
    const ws = await connect({ Cookie: await cookie(), Origin: `http://127.0.0.1:${server.port}` });
    const box = inbox(ws);
    ws.send('not json');
    ws.send(JSON.stringify({ command: 'listRuns' }));
    ws.send(JSON.stringify([1, 2]));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await until('four error replies', () => box.msgs.filter((m) => 'error' in m).length === 4);
    expect(box.msgs.every((m) => typeof m.error === 'string')).toBe(true);
    ws.send(JSON.stringify({ id: 1, command: 'nope', request: {} }));
    ws.send(JSON.stringify({ id: 2, command: 'startRun', request: { config: { steps: -3 } } }));
    ws.send(JSON.stringify({ id: 3, command: 'getSystemInfo', request: {} }));
    const r1 = await box.next((m) => m.id === 1);
    expect(r1.result).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const r2 = await box.next((m) => m.id === 2);
    expect(r2.result).toMatchObject({ ok: false, error: { code: 'invalid', fieldErrors: [{ path: 'config.steps' }] } });
    const r3 = await box.next((m) => m.id === 3);
    expect(r3.result).toMatchObject({ ok: true, value: { transport: 'websocket', runsDir: server.services.runsDir } });
    ws.close();
  }, 240_000);

  it('runs a training over the WebSocket: startRun → frames and status events → listRuns', async () => {
    // the token in the query authorises an upgrade too (clients without the cookie)
    const ws = await connect({ Origin: `http://127.0.0.1:${server.port}` }, `/ws?token=${server.token}`);
    const box = inbox(ws);
    ws.send(JSON.stringify({ id: 10, command: 'startRun', request: { config: tinyConfig({ steps: 3 }) } }));
    const started = await box.next((m) => m.id === 10, 30_000);
    expect(started.result).toMatchObject({ ok: true });
    const runId = (started.result as { value: { runId: string } }).value.runId;
    await box.next((m) => m.event === 'run:status' && (m.payload as { runId: string; status: string }).status === 'completed' && (m.payload as { runId: string }).runId === runId, 110_000);
    const steps = box.msgs.filter((m) => m.event === 'run:frame').flatMap((m) => (m.payload as { points: Array<{ step: number }> }).points.map((p) => p.step));
    expect(steps).toEqual([1, 2, 3]);
    ws.send(JSON.stringify({ id: 11, command: 'listRuns', request: {} }));
    const list = await box.next((m) => m.id === 11);
    expect(list.result).toMatchObject({ ok: true, value: [{ runId, status: 'completed', steps: 3 }] });
    ws.close();
  }, 240_000);
});
