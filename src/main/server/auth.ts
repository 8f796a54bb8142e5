// Who may talk to `loadscope serve`: the holder of the per-session token (in the URL once, then an
// HttpOnly SameSite=Strict cookie), from the server's own origin, addressed by a name the server expects.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'loadscope_session';

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
export const isLoopbackHost = (host: string): boolean => LOOPBACK_NAMES.has(host) || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

export class Auth {
  readonly token = newSecret();
  private readonly sessions = new Set<string>();

  constructor(
    /** bound to loopback: the Host header must name loopback too (defeats DNS rebinding) */
    private readonly loopbackOnly: boolean,
  ) {}

  /** The token from ?token=, if it is the right one. */
  tokenFromUrl(url: URL): boolean {
    const t = url.searchParams.get('token');
    return t !== null && sameSecret(t, this.token);
  }

  hasSession(req: IncomingMessage): boolean {
    const c = parseCookies(req.headers.cookie).get(COOKIE_NAME);
    if (!c) return false;
    for (const s of this.sessions) if (sameSecret(c, s)) return true;
    return false;
  }

  /** A new session and its Set-Cookie header value. */
  issueSession(): string {
    const s = newSecret();
    this.sessions.add(s);
    return `${COOKIE_NAME}=${s}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /**
   * The Host header must be present (and a loopback name when bound to loopback); an Origin header, when
   * present, must be this very host (browsers send it on WebSocket upgrades and cross-site requests).
   * Returns null when fine, else [status, reason].
   */
  checkOrigin(req: IncomingMessage): [number, string] | null {
    const host = req.headers.host;
    if (!host) return [400, 'missing Host header'];
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    if (this.loopbackOnly && !isLoopbackHost(hostname)) return [403, `host ${hostname} is not this server`];
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) return [403, 'cross-origin request refused'];
    return null;
  }
}
