// The "native kernels missing" line of `runs show` and the run controls, from a run's recorded BackendInfo.
import { describe, expect, it } from 'vitest';
import { nativeKernelsMissing } from '../../src/shared/native-status';

describe('nativeKernelsMissing', () => {
  it('is silent when OpenBLAS ran, for the tensorflow backend, and without backend info', () => {
    expect(nativeKernelsMissing({ name: 'wasm', device: 'wasm SIMD, 1 thread + OpenBLAS matmul', notes: [] })).toBeNull();
    expect(nativeKernelsMissing({ name: 'tensorflow', device: 'CPU (libtensorflow)', notes: [] })).toBeNull();
    expect(nativeKernelsMissing(null)).toBeNull();
  });

  it('names the addon load error and how to build it', () => {
    const line = nativeKernelsMissing({
      name: 'wasm',
      device: 'wasm SIMD, 1 thread',
      notes: ['tfjs-node: not installed', 'native matmul: addon not built (native/build/Release/loadscope_blas.node is missing)'],
    });
    expect(line).toBe(
      "native kernels missing (addon not built (native/build/Release/loadscope_blas.node is missing)): TF.js's own kernels, several times slower; build them with `npm run build:native`",
    );
  });

  it('says when they were turned off on purpose (no build hint) and when no reason was recorded', () => {
    expect(nativeKernelsMissing({ name: 'cpu', device: 'pure JS', notes: ['native matmul: turned off by LOADSCOPE_NATIVE=0'] })).toBe(
      "native kernels missing (turned off by LOADSCOPE_NATIVE=0): TF.js's own kernels, several times slower",
    );
    expect(nativeKernelsMissing({ name: 'cpu', device: 'pure JS', notes: [] })).toMatch(/^native kernels missing \(no reason recorded\)/);
  });
});
