// Faster wasm kernels for what the engine runs most: copy-free Identity / same-dtype Cast, row-gather.
//
// Why: TF.js's engine saves each kernel's inputs/outputs for the backward pass with `clone` (an Identity
// kernel), and Multiply's gradient casts float32 → float32. The wasm backend implements both as a full copy
// of the data (≈ 200 copies of up to 2 MiB per tiny step, ≈ 8 ms of a 60 ms step). The cpu backend shares
// the data instead (incRef on the data id), which is safe because no TF.js kernel writes into an input and
// variables are replaced on assign, never mutated; the wasm backend's own Reshape shares data the same way.
// GatherV2 of whole rows (axis 0, the embedding lookup and every sparse-dispatch move) costs ≈ 3 ms for
// 1024 rows of 64 in the wasm build (it checks each index through a closure and goes through a generic
// strided C loop); a JS loop of row copies (typed-array set) does it in a few microseconds per row.
import * as tf from '@tensorflow/tfjs-core';
import type { DataId, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface RefCounted {
  incRef(id: DataId): void;
}

interface WasmHeapBackend extends RefCounted {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const originals = new Map<string, KernelConfig>();

function share(backend: RefCounted, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Installs the sharing kernels once (idempotent); returns false when the wasm backend is not usable. */
export function installSharingKernels(): boolean {
  if (originals.size > 0) return true;
  const backend = tf.findBackend('wasm') as unknown as Partial<RefCounted> | null;
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!backend || typeof backend.incRef !== 'function' || !identity || !cast) return false;
  const b = backend as RefCounted;
  const identityFn: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    return x.dtype === 'string' ? identity.kernelFunc(args) : share(b, x);
  };
  const castFn: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    return x.dtype === args.attrs?.dtype && x.dtype !== 'string' ? share(b, x) : cast.kernelFunc(args);
  };
  const gather = tf.getKernel('GatherV2', 'wasm');
  const kernels: Array<[KernelConfig, KernelFunc]> = [[identity, identityFn], [cast, castFn]];
  if (gather && typeof (backend as Partial<WasmHeapBackend>).typedArrayFromHeap === 'function') {
    kernels.push([gather, gatherRowsFn(backend as WasmHeapBackend, gather.kernelFunc)]);
  }
  for (const [config, kernelFunc] of kernels) {
    originals.set(config.kernelName, config);
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({ kernelName: config.kernelName, backendName: 'wasm', kernelFunc });
  }
  return true;
}

/** Puts TF.js's copying kernels back (tests compare both). */
export function uninstallSharingKernels(): void {
  for (const config of originals.values()) {
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  originals.clear();
}

/** GatherV2 along axis 0 (no batch dims) of a float32/int32 tensor by int32 indices; anything else falls back. */
function gatherRowsFn(backend: WasmHeapBackend, original: KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const axis = Number(args.attrs?.axis ?? 0);
    const batchDims = Number(args.attrs?.batchDims ?? 0);
    if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || indices.dtype !== 'int32' || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0) {
      return original(args);
    }
    const rows = x.shape[0]!;
    const row = x.shape.slice(1).reduce((p, d) => p * d, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // views after the allocation: growing the heap replaces its buffer
    const idx = backend.typedArrayFromHeap(indices) as Int32Array;
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i]!;
      if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      if (row === 1) dst[i] = src[r]!;
      else dst.set(src.subarray(r * row, r * row + row), i * row);
    }
    return out;
  };
}
