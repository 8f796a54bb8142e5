// Turns a TF.js BatchMatMul (shapes + transposes) into one strided batched gemm, or null to keep TF.js's kernel.
// Shapes: a [...batchA, m, k] (or [..., k, m] with transposeA), b [...batchB, k, n] (or [..., n, k]).

export interface MatMulPlan {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** elements between consecutive matrices of a / b; 0 when one matrix is broadcast over the batch */
  strideA: number;
  strideB: number;
  /** [...broadcast batch dims, m, n], the shape TF.js gives the result */
  outShape: number[];
}

const product = (dims: readonly number[]) => dims.reduce((p, d) => p * d, 1);

/** Right-aligned broadcast of the batch dims, or null when they are incompatible. */
function broadcastDims(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * Plans the product, or returns null for what the native path does not cover, so the original kernel runs
 * (and raises TF.js's own error for a bad shape): rank < 2, inner sizes that differ, and batch broadcasts
 * other than "same batch" or "one side has a single matrix" (e.g. [2,1] × [1,3]).
 */
export function planMatMul(
  aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean,
): MatMulPlan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? aShape[ra - 1]! : aShape[ra - 2]!;
  const kA = transposeA ? aShape[ra - 2]! : aShape[ra - 1]!;
  const kB = transposeB ? bShape[rb - 1]! : bShape[rb - 2]!;
  const n = transposeB ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (kA !== kB) return null;
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const outer = broadcastDims(outerA, outerB);
  if (!outer) return null;
  const batch = product(outer);
  const batchA = product(outerA);
  const batchB = product(outerB);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  return {
    batch, m, n, k: kA,
    strideA: batchA === 1 ? 0 : m * kA,
    strideB: batchB === 1 ? 0 : kA * n,
    outShape: [...outer, m, n],
  };
}
