// Faults #3 and #4 of `loadscope serve`: a session cookie bound to this server (a second service on
// another port that receives it cannot use it with another server; no open redirect), and per-socket
// limits (a client that never reads is slowed, another client still gets answers).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../../src/main/server/server';
import { RunStore } from '../../../src/main/store/run-store';
import { resolveRunConfig } from '../../../src/shared/run-config';
import type { StepReport } from '../../../src/shared/reports';
import { RENDERER_FIXTURE, tempRunsDir, until } from '../fixtures/service-helpers';

let a: RunningServer;
let b: RunningServer;
let runId: string;
const tmp = tempRunsDir();

/** A run with wide loads (8 layers × 64 experts, 200 steps): its loads export is ~0.6 MB of CSV. */
async function wideRun(): Promise<string> {
  const res = resolveRunConfig({ preset: 'custom', model: { layers: 8, experts: 64, topK: 2 }, steps: 200 });
  if (!res.ok) throw new Error(JSON.stringify(res.errors));
  const w = await new RunStore(tmp.dir).create(res.config);
  const L = res.config.model.layers;
  const E = res.config.model.experts;
  for (let step = 1; step <= 200; step++) {
    const loadsLE = new Float32Array(L * E).map((_, i) => (i * 7 + step) % 50);
    const r: StepReport = {
      step, loss: 1 / step, auxLoss: 0, lr: 1e-3, gradNorm: 1, tokens: 100, tokensPerSec: 1000, layers: L, experts: E, loadsLE,
      maxVioL: new Float32Array(L), maxVio: 0, avgMaxVio: 0, supMaxVio: 0, supMaxVioLayer: 0, dropped: 0,
      timing: { forwardBackwardMs: 1, optimizerMs: 1, routingMs: 1, totalMs: 3 }, elapsedMs: step,
    };
    w.appendStep(r);
  }
  w.setStatus('completed');
  await w.close();
  return w.runId;
}

beforeAll(async () => {
  runId = await wideRun();
  const opts = { port: 0, runsDir: tmp.dir, rendererDir: RENDERER_FIXTURE, compose: { log: () => undefined } };
  a = await startServer(opts);
  b = await startServer(opts);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  tmp.cleanup();
});

type Res = { status: number; headers: Record<string, string | string[] | undefined> };
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
const cookieOf = async (s: RunningServer): Promise<string> => String((await get(s.port, `/?token=${s.token}`)).headers['set-cookie']).split(';')[0]!;

describe('3 session cookie', () => {
  it('3 session cookie: bound to its server; a service on another port that receives it cannot replay it; no open redirect', async () => {
    const cookie = await cookieOf(a);
    expect(cookie).toMatch(new RegExp(`^loadscope_session_${a.port}=`));
    expect((await get(a.port, '/', { Cookie: cookie })).status).toBe(200);

    // a browser sends every 127.0.0.1 cookie to every port: a second HTTP service receives it
    let received = '';
    const spy: Server = createServer((req, res) => {
      received = req.headers.cookie ?? '';
      res.end('ok');
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', () => r()));
    const spyPort = (spy.address() as AddressInfo).port;
    await get(spyPort, '/', { Cookie: cookie });
    spy.close();
    expect(received).toBe(cookie);
    // replayed to another Loadscope server (another port): refused, whatever Host it names
    expect((await get(b.port, '/', { Cookie: received })).status).toBe(401);
    expect((await get(b.port, '/', { Cookie: received.replace(`_${a.port}=`, `_${b.port}=`) })).status).toBe(401);
    // replayed to its own server but addressed to the other service's port: refused
    expect((await get(a.port, '/', { Cookie: received, Host: `127.0.0.1:${spyPort}` })).status).toBe(403);

    // the token redirect keeps to this site
    for (const path of ['/.//evil.com/', '//evil.com/', '/\\evil.com/']) {
      const res = await get(a.port, `${path}?token=${a.token}`);
      if (res.status === 302) expect(String(res.headers.location)).toMatch(/^\/(?![/\\])/);
    }
    expect((await get(a.port, `/.//evil.com/?token=${a.token}`)).headers.location).toBe('/evil.com/');
  });
});

function connect(s: RunningServer, cookie: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`, { headers: { Cookie: cookie } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('4 backpressure', () => {
  it('4 backpressure: a client that never reads sends 300 exportSeries; the server answers few of them, another client gets getSystemInfo', async () => {
    const cookie = await cookieOf(a);
    // count the exportSeries the server starts (the dispatcher is read when a socket connects)
    let started = 0;
    const real = a.services.dispatch;
    a.services.dispatch = (command, request) => {
      if (command === 'exportSeries') started++;
      return real(command, request);
    };
    const hog = await connect(a, cookie);
    // never read: stop the socket's reading so replies pile up at the server
    (hog as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 300; i++) hog.send(JSON.stringify({ id: i, command: 'exportSeries', request: { runId, series: 'loads', format: 'csv' } }));
    await until('the hog to get going', () => started >= 8, 60_000);

    const other = await connect(a, cookie);
    const answer = new Promise<Record<string, unknown>>((resolve) => other.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m.id === 1) resolve(m);
    }));
    other.send(JSON.stringify({ id: 1, command: 'getSystemInfo', request: {} }));
    const got = await answer;
    expect((got.result as { ok: boolean }).ok).toBe(true);
    // the unread backlog is bounded: with ~0.6 MB per reply, reading paused long before all 300 ran
    await new Promise((r) => setTimeout(r, 1500));
    expect(started).toBeLessThan(60);
    hog.terminate();
    other.close();
    a.services.dispatch = real;
  }, 120_000);
});
