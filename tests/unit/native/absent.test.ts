// Without a usable addon, installNativeMatMul reports why and leaves TF.js's kernels in place.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installNativeMatMul, isNativeMatMulInstalled } from '../../../src/main/engine/native/kernels';

describe('installNativeMatMul without the addon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadscope-native-'));
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([
    ['a missing file', join(dir, 'missing.node'), /not built/],
    ['a corrupt binary', join(dir, 'corrupt.node'), /could not load/],
    ['a module that is not the addon', join(dir, 'other.cjs'), /not the Loadscope BLAS addon/],
  ])('returns ok:false for %s and keeps the original kernels', (_label, path, reason) => {
    writeFileSync(join(dir, 'corrupt.node'), 'not an ELF file');
    writeFileSync(join(dir, 'other.cjs'), 'module.exports = { hello: 1 };');
    const before = tf.getKernel('BatchMatMul', 'cpu')!.kernelFunc;
    const beforeFused = tf.getKernel('_FusedMatMul', 'cpu')!.kernelFunc;
    const status = installNativeMatMul('cpu', { addonPath: path });
    expect(status.ok).toBe(false);
    expect(status.detail).toMatch(reason);
    expect(isNativeMatMulInstalled('cpu')).toBe(false);
    expect(tf.getKernel('BatchMatMul', 'cpu')!.kernelFunc).toBe(before);
    expect(tf.getKernel('_FusedMatMul', 'cpu')!.kernelFunc).toBe(beforeFused);
    // and matMul still works: [[1,2],[3,4]]·[[5,6],[7,8]] = [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]]
    const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
    expect(Array.from(c.dataSync())).toEqual([19, 22, 43, 50]);
  });

  it('LOADSCOPE_NATIVE=0 turns the native kernels off', () => {
    process.env.LOADSCOPE_NATIVE = '0';
    try {
      expect(installNativeMatMul('cpu')).toEqual({ ok: false, detail: 'turned off by LOADSCOPE_NATIVE=0' });
    } finally {
      delete process.env.LOADSCOPE_NATIVE;
    }
  });
});
