// A stand-in for the `electron` module (its binary cannot be downloaded here): records what main and the
// preload ask of Electron, and wires ipcRenderer.invoke/on to ipcMain.handle/webContents.send in-process.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

type AnyFn = (...args: unknown[]) => unknown;

class Emitter {
  readonly listeners = new Map<string, AnyFn[]>();
  on(event: string, fn: AnyFn): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  once(event: string, fn: AnyFn): this {
    const wrapped: AnyFn = (...args) => {
      this.listeners.set(event, (this.listeners.get(event) ?? []).filter((f) => f !== wrapped));
      return fn(...args);
    };
    return this.on(event, wrapped);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}

/** An event object like Electron's: records preventDefault(). */
export function cancellable(): { preventDefault(): void; defaultPrevented: boolean } {
  const e = { defaultPrevented: false, preventDefault: () => void (e.defaultPrevented = true) };
  return e;
}

export interface IpcHandlerEvent {
  senderFrame: { url: string } | null;
}

/** Everything the app did to Electron, for the tests to read. */
export const rec = {
  exposed: {} as Record<string, unknown>,
  handlers: new Map<string, (event: IpcHandlerEvent, ...args: unknown[]) => unknown>(),
  mainListeners: new Map<string, AnyFn[]>(),
  rendererListeners: new Map<string, Set<AnyFn>>(),
  /** the URL of the frame that the preload's invoke calls come from */
  senderUrl: 'app://loadscope/index.html',
  windows: [] as FakeBrowserWindow[],
  privilegedSchemes: [] as unknown[],
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  headerHandlers: [] as AnyFn[],
  permissionHandler: null as AnyFn | null,
  openedExternally: [] as string[],
  errorBoxes: [] as string[],
  app: new Emitter(),
  exitCode: null as number | null,
  quitCalls: 0,
};

class FakeWebContents extends Emitter {
  url = '';
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly sent: Array<{ channel: string; payload: unknown }> = [];
  setWindowOpenHandler(fn: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = fn;
  }
  /** main → renderer: delivered to the preload's ipcRenderer listeners after a structured clone, as IPC does */
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
    for (const fn of rec.rendererListeners.get(channel) ?? []) fn({ sender: 'IpcRendererEvent' }, structuredClone(payload));
  }
  isLoading(): boolean {
    return false;
  }
  getURL(): string {
    return this.url;
  }
}

export class FakeBrowserWindow extends Emitter {
  static getAllWindows(): FakeBrowserWindow[] {
    return rec.windows.filter((w) => !w.destroyed);
  }
  readonly webContents = new FakeWebContents();
  destroyed = false;
  constructor(readonly options: { webPreferences?: Record<string, unknown> } & Record<string, unknown>) {
    super();
    rec.windows.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.webContents.url = url;
    return Promise.resolve();
  }
  show(): void {}
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

const ipcMain = {
  handle(channel: string, fn: (event: IpcHandlerEvent, ...args: unknown[]) => unknown): void {
    // as Electron: a second handler for one channel throws
    if (rec.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    rec.handlers.set(channel, fn);
  },
  on(channel: string, fn: AnyFn): void {
    rec.mainListeners.set(channel, [...(rec.mainListeners.get(channel) ?? []), fn]);
  },
};

const ipcRenderer = {
  /** renderer → main: the payload is structured-cloned (functions and class instances do not cross) */
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = rec.handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': No handler registered for '${channel}'`);
    return structuredClone(await handler({ senderFrame: { url: rec.senderUrl } }, ...structuredClone(args)));
  },
  on(channel: string, fn: AnyFn): void {
    if (!rec.rendererListeners.has(channel)) rec.rendererListeners.set(channel, new Set());
    rec.rendererListeners.get(channel)!.add(fn);
  },
  removeListener(channel: string, fn: AnyFn): void {
    rec.rendererListeners.get(channel)?.delete(fn);
  },
};

const session = {
  defaultSession: {
    protocol: { handle: (scheme: string, fn: (request: Request) => Promise<Response>) => void rec.protocolHandlers.set(scheme, fn) },
    webRequest: { onHeadersReceived: (fn: AnyFn) => void rec.headerHandlers.push(fn) },
    setPermissionRequestHandler: (fn: AnyFn) => void (rec.permissionHandler = fn),
  },
};

const app = {
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  on: (event: string, fn: AnyFn) => rec.app.on(event, fn),
  quit: () => void rec.quitCalls++,
  exit: (code = 0) => void (rec.exitCode = code),
};

export const fakeElectron = {
  app,
  BrowserWindow: FakeBrowserWindow,
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (rec.exposed[key] = api) },
  dialog: { showErrorBox: (title: string, message: string) => void rec.errorBoxes.push(`${title}: ${message}`) },
  ipcMain,
  ipcRenderer,
  // the app protocol reads the renderer's files through net.fetch(file://…)
  net: { fetch: async (url: string) => new Response(await readFile(fileURLToPath(url))) },
  protocol: { registerSchemesAsPrivileged: (schemes: unknown[]) => void rec.privilegedSchemes.push(...schemes) },
  session,
  shell: { openExternal: async (url: string) => void rec.openedExternally.push(url) },
  webUtils: { getPathForFile: (file: { path: string }) => file.path },
} satisfies Record<string, unknown>;
