// planMatMul: which TF.js BatchMatMul shapes become one strided batched gemm, with what sizes and strides.
import { describe, expect, it } from 'vitest';
import { planMatMul } from '../../../src/main/engine/native/plan';

describe('planMatMul', () => {
  it('plans a plain 2-D product: [3,4]·[4,5] is one 3×5 result with k = 4', () => {
    expect(planMatMul([3, 4], [4, 5], false, false)).toEqual({ batch: 1, m: 3, n: 5, k: 4, strideA: 0, strideB: 0, outShape: [3, 5] });
  });

  it('reads m, k, n from the transposed axes', () => {
    // aᵀ: a is [k=4, m=3]; bᵀ: b is [n=5, k=4]
    expect(planMatMul([4, 3], [5, 4], true, true)).toMatchObject({ m: 3, n: 5, k: 4, outShape: [3, 5] });
  });

  it('strides same-size batches by one matrix each: [2,3,4,5]·[2,3,5,6]', () => {
    // 2·3 = 6 matrices; a matrix of a holds 4·5 = 20 values, of b 5·6 = 30
    expect(planMatMul([2, 3, 4, 5], [2, 3, 5, 6], false, false)).toEqual({ batch: 6, m: 4, n: 6, k: 5, strideA: 20, strideB: 30, outShape: [2, 3, 4, 6] });
  });

  it('broadcasts a single matrix with stride 0, on either side and from a lower rank', () => {
    expect(planMatMul([4, 8, 16], [16, 2], false, false)).toEqual({ batch: 4, m: 8, n: 2, k: 16, strideA: 128, strideB: 0, outShape: [4, 8, 2] });
    expect(planMatMul([1, 8, 16], [3, 16, 2], false, false)).toEqual({ batch: 3, m: 8, n: 2, k: 16, strideA: 0, strideB: 32, outShape: [3, 8, 2] });
  });

  it('leaves cross broadcasts, mismatched inner sizes and rank-1 inputs to TF.js', () => {
    expect(planMatMul([2, 1, 3, 4], [1, 5, 4, 6], false, false)).toBeNull(); // batch [2,5]: neither side is one matrix
    expect(planMatMul([3, 4], [5, 6], false, false)).toBeNull(); // k 4 ≠ 5
    expect(planMatMul([2, 3, 4], [3, 4, 5], false, false)).toBeNull(); // batch 2 vs 3 cannot broadcast
    expect(planMatMul([4], [4, 5], false, false)).toBeNull();
  });

  it('keeps empty products (k = 0 gives an m×n result of zeros, computed by the kernel)', () => {
    expect(planMatMul([3, 0], [0, 2], false, false)).toMatchObject({ batch: 1, m: 3, n: 2, k: 0, outShape: [3, 2] });
  });
});
