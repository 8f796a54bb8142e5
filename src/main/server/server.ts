// `loadscope serve` as a library: the built renderer over HTTP and the services over a WebSocket at /ws,
// behind a per-session token (→ cookie), an origin check and the app's CSP. startServer() is what the
// CLI and the browser tests call.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { composeServices, type ComposeOptions, type Services } from '../services/compose';
import { defaultRunsDir } from '../services/paths';
import { Auth, isLoopbackHost } from './auth';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp';
import { checkRendererDir, defaultRendererDir, readStatic, resolveStatic } from './static-files';
import { attachWebSocket } from './ws-transport';

export interface ServerOptions {
  port?: number;
  host?: string;
  runsDir?: string;
  rendererDir?: string;
  /** extra composition options (tests: a fixture worker, a log sink) */
  compose?: Partial<ComposeOptions>;
}

export interface RunningServer {
  /** the URL to open, token included */
  url: string;
  /** the URL without the token */
  origin: string;
  token: string;
  port: number;
  services: Services;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 4 << 20;

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const rendererDir = opts.rendererDir ?? defaultRendererDir();
  checkRendererDir(rendererDir);
  const services = await composeServices({ runsDir: opts.runsDir ?? defaultRunsDir(), transport: 'websocket', ...opts.compose });
  const auth = new Auth(isLoopbackHost(host));
  const csp = contentSecurityPolicy();

  const refuse = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
    res.end(`${text}\n`);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const bad = auth.checkOrigin(req);
    if (bad) return refuse(res, bad[0], bad[1]);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (auth.tokenFromUrl(url)) {
      // trade the token for a cookie and drop it from the address bar (and from history and referrers)
      url.searchParams.delete('token');
      // one leading slash only: "//evil.com/" (or "/\\evil.com") would be another site (open redirect)
      const location = '/' + url.pathname.replace(/^[/\\]+/, '') + url.search;
      res.writeHead(302, { Location: location, 'Set-Cookie': auth.issueSession(), 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
      return void res.end();
    }
    if (!auth.hasSession(req)) return refuse(res, 401, 'unauthorized: open the address printed by `loadscope serve` (it carries the access token)');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    // client-side routes (no file extension) get the app's page
    const file = resolveStatic(rendererDir, url.pathname) ?? (/\.[a-z0-9]+$/i.test(url.pathname) ? null : resolveStatic(rendererDir, '/'));
    if (!file) return refuse(res, 404, 'not found');
    const { body, type } = await readStatic(file);
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': body.length,
      'Content-Security-Policy': csp,
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    };
    const bad = auth.checkOrigin(req);
    if (bad) return reject(bad[0], bad[1]);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return reject(404, 'Not Found');
    if (!auth.hasSession(req) && !auth.tokenFromUrl(url)) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => attachWebSocket(ws, services.dispatch, services.events));
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  auth.port = port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const origin = `http://${shownHost}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${auth.token}`,
    origin,
    token: auth.token,
    port,
    services,
    close: () =>
      (closing ??= (async () => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
        await closed;
        await services.dispose();
      })()),
  };
}
