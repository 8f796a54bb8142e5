// Reused Float32Array scratch that a native op's forward pass hands to its backward pass (no per-step garbage).
//
// The expert FFN keeps its per-row activations (N·(2h + d) floats, 1.3 MB per layer on tiny) and the attention
// its softmax rows (B·H·S² floats, 0.5 MB per layer) from forward to backward. Fresh arrays each step made
// megabytes of external memory per step for V8 to collect (garbage collection was ~6% of a tiny step). Here the
// forward takes an array, the backward gives it back when done; a pass without a backward (evaluation, the
// untaped routing pass) simply never gives it back and the garbage collector takes it, as before.
// Contents are whatever the last user left: the kernels must write every element they later read
// (experts.c's forward writes all of saved, attention.c's all of probs; tests fill the pool with NaN to check).
const free: Float32Array[] = [];
/** arrays kept for reuse at most (a few layers' worth of each kind) */
const MAX_FREE = 16;

/** An array of n floats, reused when one of at least n floats is free (its contents are stale). */
export function takeScratch(n: number): Float32Array {
  let best = -1;
  for (let i = 0; i < free.length; i++) if (free[i]!.length >= n && (best < 0 || free[i]!.length < free[best]!.length)) best = i;
  if (best < 0) return new Float32Array(n);
  const buf = free.splice(best, 1)[0]!;
  return buf.length === n ? buf : buf.subarray(0, n);
}

/** Hands an array from takeScratch back; the caller must not touch it afterwards. */
export function giveScratch(a: Float32Array): void {
  const whole = a.length === a.buffer.byteLength / 4 ? a : new Float32Array(a.buffer);
  if (free.some((f) => f.buffer === a.buffer)) throw new Error('scratch: an array was given back twice');
  free.push(whole);
  // the smallest go first: sizes change with the routing (dropped slots) and the shape
  if (free.length > MAX_FREE) free.sort((x, y) => y.length - x.length).pop();
}

/** Test hook: fill every free array with v (NaN shows a kernel reading what it did not write). */
export function fillFreeScratch(v: number): number {
  for (const a of free) a.fill(v);
  return free.length;
}
