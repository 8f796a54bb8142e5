// Preload (placeholder until the app shell lands).
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('loadscope', {});
