// The app window and its guard rails: sandboxed renderer, app:// pages served with the CSP header,
// navigation and new windows blocked (https links open in the system browser), permissions denied.
import { BrowserWindow, net, protocol, session, shell } from 'electron';
import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../server/csp';

export const APP_ORIGIN = 'app://loadscope';
const rendererDir = fileURLToPath(new URL('../renderer', import.meta.url));
const preloadFile = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
/** electron-vite dev server (dev only): its pages count as the app's own */
const devUrl = process.env.ELECTRON_RENDERER_URL;

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function isAppUrl(url: string): boolean {
  if (url.startsWith(`${APP_ORIGIN}/`)) return true;
  try {
    return devUrl !== undefined && new URL(url).origin === new URL(devUrl).origin;
  } catch {
    return false;
  }
}

/** Serves out/renderer at app://loadscope/ with the CSP; nothing outside the folder. */
export function installAppProtocol(): void {
  const csp = contentSecurityPolicy(devUrl ? { 'connect-src': 'ws: http://localhost:*' } : {});
  session.defaultSession.protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = resolve(rendererDir, `.${rel}`);
    if (url.host !== 'loadscope' || !file.startsWith(rendererDir + sep) || !existsSync(file)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).href);
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', csp);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
    return new Response(res.body, { status: res.status, headers });
  });
  // the same CSP on every other response (the dev server's pages)
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}

export function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    show: false,
    title: 'Loadscope',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  const wc = win.webContents;
  wc.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  wc.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  wc.on('will-attach-webview', (event) => event.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    // paper links in the strategy descriptions: the system browser, never an app window
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void (devUrl ? win.loadURL(devUrl) : win.loadURL(`${APP_ORIGIN}/index.html`));
  return win;
}

