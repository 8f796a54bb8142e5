// The Content-Security-Policy of the app's pages, the same for the Electron window and `loadscope serve`:
// only the app's own scripts, inline styles for ECharts tooltips, connections only back to the app.
export const CSP_DIRECTIVES: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self'",
  // ECharts positions its tooltips with inline style attributes
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data: blob:",
  'font-src': "'self' data:",
  // 'self' covers the WebSocket back to the same host and port (CSP level 3)
  'connect-src': "'self'",
  'worker-src': "'self' blob:",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-ancestors': "'none'",
};

export function contentSecurityPolicy(extra: Partial<Record<string, string>> = {}): string {
  const d = { ...CSP_DIRECTIVES };
  for (const [k, v] of Object.entries(extra)) if (v) d[k] = `${d[k] ?? ''} ${v}`.trim();
  return Object.entries(d)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ');
}

/** Headers every page response carries besides the CSP. */
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
