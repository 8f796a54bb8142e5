// TF.js backend selection: auto tries tfjs-node-gpu (with a CUDA GPU), webgpu (hardware adapter), tfjs-node,
// wasm (SIMD, one thread), then pure-JS cpu.
//
// The native packages are optionalDependencies: they are loaded with a dynamic import inside try/catch
// so a machine without them (or without CUDA) falls through to the next one, and the reasons are kept
// in BackendInfo.notes. tfjs-node's native addon can be loaded by one worker thread per process only
// (Node refuses to load the same addon twice), so one run at a time may use the 'tensorflow' backend.
import * as tf from '@tensorflow/tfjs-core';
import './tf-setup';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackendChoice } from '../../shared/run-config';
import { installNativeMatMul, type NativeBackendName } from './native/kernels';
import { installSharingKernels } from './wasm-kernels';
import type { BackendInfo } from '../../shared/reports';
import { probeWebGpu, softwareWebGpuAllowed } from './webgpu';

export { tf };

const reason = (err: unknown): string => {
  const m = err instanceof Error ? err.message : String(err);
  if (/Cannot find (package|module)|ERR_MODULE_NOT_FOUND/.test(m)) return 'not installed';
  return m.split('\n')[0]!.slice(0, 200);
};

/** An explicit backend choice that cannot run here: the message is one line for the user (CLI exit 2). */
export class BackendUnavailableError extends Error {}

/**
 * WebGPU through Dawn (webgpu.ts). A software adapter (SwiftShader) is taken only when `allowSoftware`
 * (explicit --backend webgpu with LOADSCOPE_WEBGPU_SOFTWARE=1); `auto` never trains on CPU emulation.
 */
async function tryWebGpu(allowSoftware: boolean, notes: string[]): Promise<BackendInfo | null> {
  const probe = await probeWebGpu();
  if (!probe.ok) {
    notes.push(`webgpu: ${probe.why}`);
    return null;
  }
  const { info } = probe;
  const label = `${info.vendor} ${info.architecture}${info.description ? ` (${info.description})` : ''}`;
  if (info.software && !allowSoftware) {
    notes.push(`webgpu: only a software adapter (${label}); set LOADSCOPE_WEBGPU_SOFTWARE=1 to train on it (tests)`);
    return null;
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('backend "webgpu" did not initialise');
    await tf.ready();
  } catch (err) {
    notes.push(`webgpu: ${reason(err)}`);
    return null;
  }
  return { name: 'webgpu', device: `WebGPU ${info.software ? 'software' : 'hardware'} adapter: ${label}`, notes, adapter: info };
}

async function tryNative(pkg: string, gpu: boolean, notes: string[]): Promise<BackendInfo | null> {
  try {
    // a variable specifier keeps bundlers from resolving the optional package at build time
    const spec = pkg;
    await import(/* @vite-ignore */ spec);
    if (!(await tf.setBackend('tensorflow'))) throw new Error('backend "tensorflow" did not initialise');
    await tf.ready();
    if (gpu) {
      if (gpuDevices() > 0) return { name: 'tensorflow', device: 'GPU (CUDA, libtensorflow)', notes };
      // libtensorflow falls back to its CPU kernels, still faster than wasm
      notes.push(`${pkg}: loaded, but TensorFlow sees no CUDA GPU (needs CUDA 11.2 + cuDNN 8.1)`);
      return { name: 'tensorflow', device: 'CPU (libtensorflow, GPU build without a GPU)', notes };
    }
    return { name: 'tensorflow', device: 'CPU (libtensorflow)', notes };
  } catch (err) {
    notes.push(`${pkg}: ${reason(err)}`);
    return null;
  }
}

/** Number of GPUs libtensorflow reports (best effort; 0 when it cannot tell). */
function gpuDevices(): number {
  const backend = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  const using = backend.binding?.isUsingGpuDevice?.();
  return using === false ? 0 : 1;
}

let wasmConfigured = false;

async function tryWasm(notes: string[]): Promise<BackendInfo | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmConfigured) {
      const require = createRequire(import.meta.url);
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
      // Emscripten's own loader reads the .wasm with fs in Node (the platform fetch cannot read paths)
      setWasmPaths(dist);
      // threads need SharedArrayBuffer workers the Node build does not ship; SIMD is used when present
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasmConfigured = true;
    }
    if (!(await tf.setBackend('wasm'))) throw new Error('backend "wasm" did not initialise');
    await tf.ready();
    // the tape's clones and float32 casts share data instead of copying it (wasm-kernels.ts)
    if (!installSharingKernels()) notes.push('wasm: copy-free Identity/Cast not installed');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { name: 'wasm', device: `wasm${simd ? ' SIMD' : ''}, 1 thread${withNativeMatMul('wasm', notes)}`, notes };
  } catch (err) {
    notes.push(`wasm: ${reason(err)}`);
    return null;
  }
}

async function useCpu(notes: string[]): Promise<BackendInfo> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', device: `pure JS${withNativeMatMul('cpu', notes)}`, notes };
}

/**
 * Swap in the OpenBLAS matmul kernels (src/main/engine/native) once the backend is initialised: TF.js's
 * own wasm/cpu matmuls reach a few GFLOP/s here, OpenBLAS tens. LOADSCOPE_NATIVE=0 turns it off.
 */
function withNativeMatMul(name: NativeBackendName, notes: string[]): string {
  const status = installNativeMatMul(name);
  if (status.ok) return ' + OpenBLAS matmul';
  notes.push(`native matmul: ${status.detail}`);
  return '';
}

/** Pick and initialise the backend for this thread; throws only when an explicit choice cannot load. */
export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  const notes: string[] = [];
  if (choice === 'cpu') return useCpu(notes);
  if (choice === 'wasm') {
    const info = await tryWasm(notes);
    if (!info) throw new Error(`backend "wasm" could not start: ${notes.join('; ')}`);
    return info;
  }
  if (choice === 'webgpu') {
    const info = await tryWebGpu(softwareWebGpuAllowed(), notes);
    if (!info) throw new BackendUnavailableError(`backend "webgpu" cannot run here: ${notes.join('; ')}`);
    return info;
  }
  const gpu = await tryNative('@tensorflow/tfjs-node-gpu', true, notes);
  if (gpu?.device.startsWith('GPU')) return gpu;
  if (choice === 'auto') {
    // a hardware WebGPU adapter beats libtensorflow's CPU kernels; software adapters are never picked here
    const web = await tryWebGpu(false, notes);
    if (web) return web;
  }
  if (gpu) return gpu; // the GPU build without a GPU: its CPU kernels
  const node = await tryNative('@tensorflow/tfjs-node', false, notes);
  if (node) return node;
  if (choice === 'tensorflow') throw new Error(`backend "tensorflow" could not start: ${notes.join('; ')}`);
  return (await tryWasm(notes)) ?? useCpu(notes);
}
