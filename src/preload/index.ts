// Preload (sandboxed, CommonJS, imports only electron): exposes `window.loadscope`, one named function per
// command plus on(event, listener) → unsubscribe. Validation happens in main, so no zod here.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { COMMAND_NAMES, EVENT_NAMES, channelOf } from '../shared/ipc-names';

const api: Record<string, unknown> = {};
for (const name of COMMAND_NAMES) {
  api[name] = (request: unknown) => ipcRenderer.invoke(channelOf(name), request ?? {});
}

api.on = (event: string, listener: (payload: unknown) => void): (() => void) => {
  if (!(EVENT_NAMES as readonly string[]).includes(event)) throw new Error(`unknown event "${event}" (one of: ${EVENT_NAMES.join(', ')})`);
  if (typeof listener !== 'function') throw new Error('on(event, listener): listener must be a function');
  // the page never sees the IpcRendererEvent (it would expose ipcRenderer's sender)
  const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on(channelOf(event), wrapped);
  return () => {
    ipcRenderer.removeListener(channelOf(event), wrapped);
  };
};

/** The absolute path of a file the user picked or dropped (the data-file field of the new-run form). */
api.pathForFile = (file: Parameters<typeof webUtils.getPathForFile>[0]): string => webUtils.getPathForFile(file);

contextBridge.exposeInMainWorld('loadscope', api);
