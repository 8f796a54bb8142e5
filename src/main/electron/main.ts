// Electron entry: a thin adapter over the services (compose.ts). One window, IPC commands and events,
// and on quit every running run is checkpointed and stopped before the app exits.
import { app, BrowserWindow, dialog } from 'electron';
import { composeServices, type Services } from '../services/compose';
import { defaultRunsDir } from '../services/paths';
import { forwardEvents, registerCommands } from './ipc';
import { createWindow, installAppProtocol, registerAppScheme } from './window';

registerAppScheme();
if (!app.requestSingleInstanceLock()) app.quit();

let services: Services | null = null;
let quitting = false;

function openWindow(s: Services): void {
  const win = createWindow();
  forwardEvents(s, win);
}

app.on('second-instance', () => {
  const [win] = BrowserWindow.getAllWindows();
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.whenReady().then(async () => {
  installAppProtocol();
  services = await composeServices({ runsDir: defaultRunsDir(), transport: 'electron' });
  registerCommands(services);
  openWindow(services);
  app.on('activate', () => {
    if (services && BrowserWindow.getAllWindows().length === 0) openWindow(services);
  });
}, (err: unknown) => {
  dialog.showErrorBox('Loadscope could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', (event) => {
  if (quitting || !services) return;
  // checkpoint and stop running runs first, then quit for real
  event.preventDefault();
  quitting = true;
  services.dispose().finally(() => app.exit(0));
});
