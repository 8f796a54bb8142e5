// Replaces TF.js's BatchMatMul and _FusedMatMul kernels on the wasm or cpu backend with OpenBLAS sgemm.
// Gradients need nothing here: TF.js derives them from kernel names (matMul's gradient is two more matMuls),
// so backward passes use these kernels too. Cases not handled natively run the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { loadNativeBlas, type NativeBlas } from './blas';
import { planMatMul, type MatMulPlan } from './plan';
import { cpuStorage, isCpuBackend, isWasmBackend, wasmStorage, type TensorStorage } from './storage';

export type NativeBackendName = 'wasm' | 'cpu';

export interface NativeMatMulOptions {
  /** load this addon file instead of searching (tests; LOADSCOPE_NATIVE_BLAS does the same) */
  addonPath?: string;
  /** OpenBLAS threads; default 1: the tiny/small presets' matrices are too small to gain from a second
   *  thread, and idle OpenBLAS threads spin on a core the UI process needs (bench/native.ts measures it) */
  threads?: number;
}

export interface NativeMatMulStatus {
  ok: boolean;
  /** what was installed (OpenBLAS build, threads) or why nothing changed */
  detail: string;
}

const KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
type KernelName = (typeof KERNELS)[number];

interface Installed {
  originals: Record<KernelName, KernelConfig>;
  blas: NativeBlas;
}

const installed = new Map<NativeBackendName, Installed>();
const counters = { nativeCalls: 0, fallbacks: 0 };

/** How often the native path ran and how often it handed a call back to TF.js (tests, bench). */
export function nativeMatMulStats(): { nativeCalls: number; fallbacks: number } {
  return { ...counters };
}

export function isNativeMatMulInstalled(backendName: NativeBackendName): boolean {
  return installed.has(backendName);
}

/**
 * Installs the native matmul kernels for an initialised backend (call after `await tf.setBackend(name)`).
 * Returns ok:false with the reason, changing nothing, when the addon or the backend is not usable.
 */
export function installNativeMatMul(backendName: NativeBackendName, options: NativeMatMulOptions = {}): NativeMatMulStatus {
  const current = installed.get(backendName);
  if (current) {
    if (options.threads !== undefined) current.blas.setThreads(options.threads);
    return { ok: true, detail: `already installed on ${backendName} (${describe(current.blas)})` };
  }
  const load = loadNativeBlas(options.addonPath);
  if (!load.blas) return { ok: false, detail: load.reason };
  const blas = load.blas;
  const backend = tf.findBackend(backendName);
  if (!backend) return { ok: false, detail: `the ${backendName} backend is not initialised yet (install after tf.setBackend)` };
  let storage: TensorStorage;
  if (backendName === 'wasm' && isWasmBackend(backend)) storage = wasmStorage(backend);
  else if (backendName === 'cpu' && isCpuBackend(backend)) storage = cpuStorage(backend);
  else return { ok: false, detail: `the ${backendName} backend does not expose the tensor storage these kernels read` };
  const originals = {} as Record<KernelName, KernelConfig>;
  for (const name of KERNELS) {
    const config = tf.getKernel(name, backendName);
    if (!config) return { ok: false, detail: `the ${backendName} backend has no ${name} kernel to replace` };
    originals[name] = config;
  }
  try {
    blas.setThreads(options.threads ?? 1);
  } catch (err) {
    return { ok: false, detail: `could not set OpenBLAS threads: ${err instanceof Error ? err.message : String(err)}` };
  }
  replace(backendName, 'BatchMatMul', batchMatMulKernel(blas, storage, originals.BatchMatMul.kernelFunc));
  replace(backendName, '_FusedMatMul', fusedMatMulKernel(blas, storage, originals._FusedMatMul.kernelFunc));
  installed.set(backendName, { originals, blas });
  return { ok: true, detail: `${describe(blas)} on ${backendName} (${load.path})` };
}

/** Puts TF.js's own kernels back (tests and the bench compare both). */
export function uninstallNativeMatMul(backendName: NativeBackendName): boolean {
  const current = installed.get(backendName);
  if (!current) return false;
  for (const name of KERNELS) {
    tf.unregisterKernel(name, backendName);
    tf.registerKernel(current.originals[name]);
  }
  installed.delete(backendName);
  return true;
}

/** OpenBLAS threads for the process (every installed backend shares one library). */
export function setNativeMatMulThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`native matmul threads must be a positive integer, got ${threads}`);
  for (const { blas } of installed.values()) blas.setThreads(threads);
}

function describe(blas: NativeBlas): string {
  const threads = blas.getThreads();
  return `${blas.config().split(' ').slice(0, 2).join(' ')}, ${threads} thread${threads === 1 ? '' : 's'}`;
}

function replace(backendName: NativeBackendName, kernelName: KernelName, kernelFunc: KernelFunc): void {
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}

interface MatMulArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs?: NamedAttrMap;
}

/** The plan for a float32 product the native path covers, or null to fall back. */
function planFor(a: TensorInfo, b: TensorInfo, attrs: NamedAttrMap | undefined): MatMulPlan | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  return planMatMul(a.shape, b.shape, !!attrs?.transposeA, !!attrs?.transposeB);
}

/** Runs a planned product into a new output tensor. */
function runGemm(blas: NativeBlas, storage: TensorStorage, a: TensorInfo, b: TensorInfo, attrs: NamedAttrMap | undefined, plan: MatMulPlan): { info: TensorInfo; values: Float32Array } {
  const { batch, m, n, k } = plan;
  const out = storage.output(plan.outShape);
  if (batch * m * n > 0) {
    if (k === 0) {
      out.values.fill(0); // an empty sum; the inputs hold no data to read
    } else {
      const av = storage.read(a);
      const bv = storage.read(b);
      if (!av || !bv) throw new Error('native matmul: input tensor data is not on this backend');
      blas.gemm(batch, m, n, k, !!attrs?.transposeA, !!attrs?.transposeB, av, plan.strideA, bv, plan.strideB, out.values);
    }
  }
  counters.nativeCalls++;
  return out;
}

function batchMatMulKernel(blas: NativeBlas, storage: TensorStorage, original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args as unknown as MatMulArgs;
    const plan = planFor(inputs.a!, inputs.b!, attrs);
    if (plan) return runGemm(blas, storage, inputs.a!, inputs.b!, attrs, plan).info;
    counters.fallbacks++;
    return original(args);
  };
}

type Epilogue = (x: number) => number;

/** The activations tf.fused.matMul can ask for, element-wise; prelu (a weights tensor) falls back. */
function activationFn(activation: unknown, leakyreluAlpha: number): Epilogue | null | undefined {
  switch (activation ?? 'linear') {
    case 'linear': return null;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'relu6': return (x) => Math.min(Math.max(x, 0), 6);
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'elu': return (x) => (x >= 0 ? x : Math.exp(x) - 1);
    case 'leakyrelu': return (x) => (x >= 0 ? x : leakyreluAlpha * x);
    default: return undefined;
  }
}

function fusedMatMulKernel(blas: NativeBlas, storage: TensorStorage, original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args as unknown as MatMulArgs;
    const { a, b, bias } = inputs;
    const act = activationFn(attrs?.activation, Number(attrs?.leakyreluAlpha ?? 0.2));
    const plan = act === undefined || inputs.preluActivationWeights ? null : planFor(a!, b!, attrs);
    const biasSize = bias ? bias.shape.reduce((p, d) => p * d, 1) : 0;
    // Bias only as one value or one row broadcast over the output's last axis; anything else stays TF.js's.
    const biasOk = !bias || (bias.dtype === 'float32' && (biasSize === 1 || (biasSize === plan?.n && bias.shape[bias.shape.length - 1] === plan.n)));
    if (!plan || !biasOk) {
      counters.fallbacks++;
      return original(args);
    }
    const out = runGemm(blas, storage, a!, b!, attrs, plan);
    const biasV = bias ? storage.read(bias) : null; // read after the output was allocated (wasm heap growth)
    const c = out.values;
    const n = plan.n;
    if (biasV) for (let i = 0; i < c.length; i++) c[i]! += biasV[biasSize === 1 ? 0 : i % n]!;
    if (act) for (let i = 0; i < c.length; i++) c[i] = act(c[i]!);
    return out.info;
  };
}
