// The addon itself: where it is looked for, a hand-worked gemm with strides, and that bad views throw.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonCandidates, loadNativeBlas } from '../../../src/main/engine/native/blas';
import { ADDON_PATH, ensureAddon } from './addon';

const addon = ensureAddon();

describe('addonCandidates', () => {
  it('looks in the repository\'s native/build from src/main/engine/native (four folders up)', () => {
    expect(addonCandidates()).toContain(join(import.meta.dirname, '..', '..', '..', 'native', 'build', 'Release', 'blas.node'));
    expect(addonCandidates()).toContain(ADDON_PATH);
  });
});

describe.skipIf(!addon.path)(`blas addon (${addon.reason ?? 'built'})`, () => {
  const blas = loadNativeBlas(ADDON_PATH).blas!;

  it('multiplies a batch of 2 with a broadcast b (stride 0) and a transposed a', () => {
    // a holds two 2×2 matrices stored transposed: aᵀ₀ = [[1,3],[2,4]] so a₀ = [[1,2],[3,4]]; a₁ = 2·a₀.
    // b = [[1,1],[0,1]] for both: a₀·b = [[1,3],[3,7]], a₁·b = [[2,6],[6,14]]
    const a = new Float32Array([1, 3, 2, 4, 2, 6, 4, 8]);
    const b = new Float32Array([1, 1, 0, 1]);
    const c = new Float32Array(8).fill(NaN);
    blas.gemm(2, 2, 2, 2, true, false, a, 4, b, 0, c);
    expect(Array.from(c)).toEqual([1, 3, 3, 7, 2, 6, 6, 14]);
  });

  it('reads views at an offset (as for tensors inside the wasm heap)', () => {
    const heap = new Float32Array([9, 9, 1, 2, 3, 4, 9, 5, 6, 7, 8]);
    const c = new Float32Array(4);
    // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]
    blas.gemm(1, 2, 2, 2, false, false, heap.subarray(2, 6), 0, heap.subarray(7), 0, c);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });

  it('fills zeros for an empty sum (k = 0), as TF.js does', () => {
    const c = new Float32Array(6).fill(NaN);
    blas.gemm(1, 2, 3, 0, false, false, new Float32Array(0), 0, new Float32Array(0), 0, c);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('throws instead of reading or writing past a view', () => {
    const ok = new Float32Array(4);
    expect(() => blas.gemm(1, 2, 2, 2, false, false, new Float32Array(3), 0, ok, 0, ok)).toThrow(/too short/);
    expect(() => blas.gemm(2, 2, 2, 2, false, false, ok, 4, ok, 0, new Float32Array(8))).toThrow(/too short/); // batch 2 of a needs 8
    expect(() => blas.gemm(1, 2, 2, 2, false, false, ok, 0, ok, 0, new Float32Array(3))).toThrow(/too short/);
    expect(() => blas.gemm(1, 2, 2, 2, false, false, new Float64Array(4) as unknown as Float32Array, 0, ok, 0, ok)).toThrow(/Float32Array/);
    expect(() => blas.gemm(-1, 2, 2, 2, false, false, ok, 0, ok, 0, ok)).toThrow(/non-negative/);
  });

  it('sets and reports OpenBLAS threads', () => {
    const before = blas.getThreads();
    blas.setThreads(1);
    expect(blas.getThreads()).toBe(1);
    expect(() => blas.setThreads(0)).toThrow(/positive integer/);
    blas.setThreads(before);
    expect(blas.config()).toMatch(/OpenBLAS/);
  });
});
