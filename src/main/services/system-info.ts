// What this machine can train with (without loading tfjs here: main only checks which packages resolve).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { SystemInfo } from '../../shared/ipc-contract';
import type { RunConfig } from '../../shared/run-config';

const requireHere = createRequire(import.meta.url);

function resolvable(pkg: string): boolean {
  try {
    requireHere.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

let nativeCache: boolean | null = null;
/** tfjs-node (or -gpu) is installed: 'auto' picks it, and its addon loads in one worker thread only. */
export function nativeBackendAvailable(): boolean {
  nativeCache ??= resolvable('@tensorflow/tfjs-node-gpu') || resolvable('@tensorflow/tfjs-node');
  return nativeCache;
}

export function usesNativeBackend(config: Pick<RunConfig, 'backend'>): boolean {
  return config.backend === 'tensorflow' || (config.backend === 'auto' && nativeBackendAvailable());
}

export function backendsAvailable(): SystemInfo['backends'] {
  const gpu = resolvable('@tensorflow/tfjs-node-gpu');
  const node = resolvable('@tensorflow/tfjs-node');
  const wasm = resolvable('@tensorflow/tfjs-backend-wasm');
  const webgpu = resolvable('webgpu') && resolvable('@tensorflow/tfjs-backend-webgpu');
  return [
    { name: 'tensorflow', available: gpu || node, detail: gpu ? 'tfjs-node-gpu (libtensorflow, CUDA)' : node ? 'tfjs-node (libtensorflow, CPU)' : 'tfjs-node not installed' },
    { name: 'webgpu', available: webgpu, detail: webgpu ? 'tfjs-backend-webgpu on Dawn (needs a GPU adapter; checked when a run starts)' : 'webgpu packages not installed' },
    { name: 'wasm', available: wasm, detail: wasm ? 'tfjs-backend-wasm (SIMD where supported)' : 'tfjs-backend-wasm not installed' },
    { name: 'cpu', available: true, detail: 'pure JavaScript' },
  ];
}

let versionCache: string | null = null;
export function appVersion(): string {
  if (versionCache) return versionCache;
  // the package.json two or three folders up (src/main/services or out/main)
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'loadscope' && pkg.version) return (versionCache = pkg.version);
    } catch {
      // try the next candidate
    }
  }
  return (versionCache = '0.0.0');
}
