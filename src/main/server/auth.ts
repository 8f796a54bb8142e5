// Who may talk to `loadscope serve`: the holder of the per-session token (in the URL once, then an
// HttpOnly SameSite=Strict cookie), from the server's own origin, addressed by a name the server expects.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The cookie's name carries the port: cookies ignore ports, so every service on 127.0.0.1 sees every
 * cookie; a port-specific name keeps two Loadscope servers apart, and the value is bound to this port by
 * an HMAC with a per-process secret (see docs/security.md for what this does not stop).
 */
export const cookieName = (port: number): string => `loadscope_session_${port}`;

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

/** Port of a Host header value (80 when it names none). */
function hostPort(host: string): number {
  const m = /:(\d+)$/.exec(host);
  return m ? Number(m[1]) : 80;
}

export class Auth {
  readonly token = newSecret();
  private readonly secret = randomBytes(32);
  private readonly sessions = new Set<string>();
  /** the port the server listens on (set once listening); requests must name it in Host */
  port = 0;

  constructor(
    /** bound to loopback: the Host header must name loopback too (defeats DNS rebinding) */
    private readonly loopbackOnly: boolean,
  ) {}

  /** The token from ?token=, if it is the right one. */
  tokenFromUrl(url: URL): boolean {
    const t = url.searchParams.get('token');
    return t !== null && sameSecret(t, this.token);
  }

  private sign(session: string): string {
    return createHmac('sha256', this.secret).update(`${session}|${this.port}`).digest('base64url');
  }

  hasSession(req: IncomingMessage): boolean {
    const c = parseCookies(req.headers.cookie).get(cookieName(this.port));
    if (!c) return false;
    const dot = c.indexOf('.');
    if (dot <= 0) return false;
    const session = c.slice(0, dot);
    if (!sameSecret(c.slice(dot + 1), this.sign(session))) return false;
    for (const s of this.sessions) if (sameSecret(session, s)) return true;
    return false;
  }

  /** A new session and its Set-Cookie header value. */
  issueSession(): string {
    const s = newSecret();
    this.sessions.add(s);
    return `${cookieName(this.port)}=${s}.${this.sign(s)}; HttpOnly; SameSite=Strict; Path=/`;
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
    // the Host must name this server's port: a request meant for another service is not ours
    if (this.port && hostPort(host) !== this.port) return [403, `host ${host} is not this server (port ${this.port})`];
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) return [403, 'cross-origin request refused'];
    return null;
  }
}
