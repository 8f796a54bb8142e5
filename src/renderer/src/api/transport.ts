// Picks the transport at start-up: the preload's `window.loadscope` in Electron, else a WebSocket to `loadscope serve`.
import { reactive } from 'vue';
import type { CommandName, CommandRequest, CommandResponse, CommandResult, LoadscopeApi } from '../../../shared/ipc-contract';
import { createWsClient, defaultWsUrl } from './ws-client';

declare global {
  interface Window {
    /** set by the Electron preload (or a test/bench harness) */
    loadscope?: LoadscopeApi & { pathForFile?: (file: File) => string };
  }
}

export const connection = reactive({
  transport: 'websocket' as 'electron' | 'websocket',
  connected: true,
  attempt: 0,
  lastError: null as string | null,
  /** bumps on every reconnect so views can reload what they show */
  epoch: 0,
});

let api: LoadscopeApi | null = null;

function isApi(x: unknown): x is LoadscopeApi {
  return typeof x === 'object' && x !== null && typeof (x as LoadscopeApi).listRuns === 'function' && typeof (x as LoadscopeApi).on === 'function';
}

export function initApi(): LoadscopeApi {
  if (api) return api;
  if (isApi(window.loadscope)) {
    connection.transport = 'electron';
    api = window.loadscope;
    return api;
  }
  connection.transport = 'websocket';
  connection.connected = false;
  const client = createWsClient({ url: defaultWsUrl() });
  let everConnected = false;
  client.onConnection((s) => {
    if (s.connected && everConnected && !connection.connected) connection.epoch += 1;
    if (s.connected) everConnected = true;
    connection.connected = s.connected;
    connection.attempt = s.attempt;
    connection.lastError = s.lastError;
  });
  api = client.api;
  return api;
}

export function useApi(): LoadscopeApi {
  return api ?? initApi();
}

/** Electron only: the absolute path of a picked file (the preload may expose it via webUtils). */
export function pathForFile(file: File): string | null {
  try {
    return window.loadscope?.pathForFile?.(file) ?? null;
  } catch {
    return null;
  }
}

/** Call a command by name (typed); never throws: a thrown transport error becomes a CommandResult. */
export async function call<C extends CommandName>(command: C, request: CommandRequest<C>): Promise<CommandResult<C>> {
  const fn = useApi()[command] as unknown as (r: CommandRequest<C>) => Promise<CommandResult<C>>;
  try {
    return await fn(request);
  } catch (err) {
    return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
  }
}

/** Like call(), but resolves to the value or throws an Error with the command's message (for views that show one error line). */
export async function callValue<C extends CommandName>(command: C, request: CommandRequest<C>): Promise<CommandResponse<C>> {
  const r = await call(command, request);
  if (!r.ok) throw new CommandFailure(r.error.message, r.error);
  return r.value;
}

export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly error: import('../../../shared/ipc-contract').CommandError,
  ) {
    super(message);
  }
}
