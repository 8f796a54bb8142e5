// Where the engine worker's entry file is: the only thing main code knows about the engine.
// Built (out/main/*.js): the sibling engine-worker.js. From sources (tests, tsx): a tiny .mjs bootstrap
// registers tsx in the worker thread and imports worker.ts, because Node cannot start a .ts worker itself.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerEntry {
  filename: URL;
  /** passed as workerData.__entry to the source bootstrap */
  sourceEntry?: string;
}

export function engineWorkerEntry(): WorkerEntry {
  const here = new URL('.', import.meta.url);
  const built = new URL('./engine-worker.js', here);
  if (import.meta.url.endsWith('.js') && existsSync(fileURLToPath(built))) return { filename: built };
  // Running from src/: this file is src/main/engine/worker-path.ts
  const source = new URL('./worker.ts', import.meta.url);
  return { filename: new URL('./worker-bootstrap.mjs', import.meta.url), sourceEntry: pathToFileURL(fileURLToPath(source)).href };
}

// what the spawning process must do about WebGPU before a worker exists (webgpu.ts: no tfjs in there)
export { preferSoftwareVulkan, webgpuUnavailable } from './webgpu';
