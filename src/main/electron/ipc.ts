// Commands and events over Electron IPC: one ipcMain.handle per command (only from the app's own frames),
// events to the window through webContents.send.
import { ipcMain, type BrowserWindow, type WebFrameMain } from 'electron';
import { COMMAND_NAMES, channelOf } from '../../shared/ipc-names';
import type { Services } from '../services/compose';
import { isAppUrl } from './window';

function trusted(frame: WebFrameMain | null): boolean {
  return frame !== null && isAppUrl(frame.url);
}

export function registerCommands(services: Services): void {
  for (const name of COMMAND_NAMES) {
    ipcMain.handle(channelOf(name), (event, payload: unknown) => {
      if (!trusted(event.senderFrame)) return { ok: false, error: { code: 'invalid', message: 'command refused: not from the app window' } };
      return services.dispatch(name, payload);
    });
  }
}

/** Push the services' events to this window; returns the unsubscribe. */
export function forwardEvents(services: Services, win: BrowserWindow): () => void {
  const unsubscribe = services.events.subscribe({
    send: (event, payload) => {
      if (!win.isDestroyed()) win.webContents.send(channelOf(event), payload);
    },
    isBusy: () => win.isDestroyed() || win.webContents.isLoading(),
  });
  win.on('closed', unsubscribe);
  return unsubscribe;
}
