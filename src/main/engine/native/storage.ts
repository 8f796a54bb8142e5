// Zero-copy access to a TF.js backend's float32 tensor data for the native kernels: the wasm heap or cpu arrays.
import type { DataId, TensorInfo } from '@tensorflow/tfjs-core';

/** How a native kernel reads inputs and allocates its output on one backend. */
export interface TensorStorage {
  /** Allocates the output first: on wasm that may grow (and detach) the heap, so read inputs after it. */
  output(shape: number[]): { info: TensorInfo; values: Float32Array };
  /** A view of a float32 tensor's values, or null when they are not where this storage expects. */
  read(t: TensorInfo): Float32Array | null;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

// The parts of @tensorflow/tfjs-backend-wasm's BackendWasm these kernels use (its own kernels use the same).
interface WasmBackendLike {
  dataIdMap: { get(id: DataId): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

// The parts of @tensorflow/tfjs-backend-cpu's MathBackendCPU these kernels use.
interface CpuBackendLike {
  data: { get(id: DataId): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export function isWasmBackend(b: unknown): b is WasmBackendLike {
  const x = b as Partial<WasmBackendLike> | null;
  return !!x && typeof x.makeOutput === 'function' && !!x.dataIdMap && x.wasm?.HEAPU8 instanceof Uint8Array;
}

export function isCpuBackend(b: unknown): b is CpuBackendLike {
  const x = b as Partial<CpuBackendLike> | null;
  return !!x && typeof x.makeTensorInfo === 'function' && typeof x.data?.get === 'function';
}

export function wasmStorage(backend: WasmBackendLike): TensorStorage {
  // The heap's ArrayBuffer is replaced whenever wasm memory grows: re-read it on every access.
  const view = (id: DataId, size: number): Float32Array | null => {
    const entry = backend.dataIdMap.get(id);
    if (!entry) return null;
    return size === 0 ? new Float32Array(0) : new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, size);
  };
  return {
    output(shape) {
      const info = backend.makeOutput(shape, 'float32');
      return { info, values: view(info.dataId, sizeOf(shape))! };
    },
    read: (t) => view(t.dataId, sizeOf(t.shape)),
  };
}

export function cpuStorage(backend: CpuBackendLike): TensorStorage {
  return {
    output(shape) {
      const values = new Float32Array(sizeOf(shape));
      return { info: backend.makeTensorInfo(shape, 'float32', values), values };
    },
    read(t) {
      const values = backend.data.get(t.dataId)?.values;
      return values instanceof Float32Array && values.length === sizeOf(t.shape) ? values : null;
    },
  };
}

const storages = new WeakMap<object, TensorStorage | null>();

/** The storage of a backend instance (wasm heap or cpu arrays), or null for any other backend; cached. */
export function storageOf(backend: object): TensorStorage | null {
  if (!storages.has(backend)) storages.set(backend, isWasmBackend(backend) ? wasmStorage(backend) : isCpuBackend(backend) ? cpuStorage(backend) : null);
  return storages.get(backend)!;
}
