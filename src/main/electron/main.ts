// Electron entry (placeholder until the app shell lands).
import { app } from 'electron';

void app.whenReady();
