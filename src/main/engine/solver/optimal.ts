// Exact per-batch routing optimum (the BIP of balancing.md §1.2): max Σ s·x, ≤ k experts per token, ≤ C tokens per expert.
//
// Shape legend: T tokens, E experts, K = top-k slots per token.
//   scoresTE  gate scores, row-major [T*E]     idxTK/keepTK  chosen expert per (token, slot) and 1 = routed
//   loadE     tokens per expert                 onTE          1 = token t currently sits on expert e
//   priceE    warm-start price per expert (≥ 0)
//
// Why it is exact and fast (docs/strategies.md has the long form): the problem is a min-cost flow
// source → token (cap k) → expert (cap 1, cost −s) → sink (cap C). Plain top-k is optimal without capacities; when
// it overloads experts by more than a little, an ε-scaling auction (auction.ts) gives prices p whose top-k of s − p
// is nearly balanced. That priced start has no negative residual cycle, so successive shortest paths over the E
// expert nodes (flow.ts) repair the remaining imbalance exactly, one short search per unit.
import { auctionPrices, scoreRange } from './auction';
import { repairFlow } from './flow';
import { lowerPricedShift } from './shift';

/** plain top-k overloaded by less than this share of all slots goes straight to the repair (an auction would cost more) */
const AUCTION_MIN_SHARE = 1 / 8;
/** the auction's ε, as shares of the score range: first phase cold, first phase from given prices (or a sample's), last phase */
const EPS_COLD = 1 / 10;
const EPS_WARM = 1e-3;
const EPS_FINAL = 1e-5;
/**
 * From COARSE_MIN_TOKENS tokens, cold "≤ k" rows priced as "= k" rows get those prices lowered by one common shift
 * (shift.ts), and with ≥ COARSE_MIN_PLACES places per expert the full batch runs only the first of its phases
 * (ε = EPS_WARM; its samples ran the coarser ones): its finer phases sharpened prices that still lie ~3e-4 of the
 * range off the "≤ k" optimum, work the repair redoes. Measured (process CPU, old vs new interleaved, medians of 11
 * after 4 warm-ups): skewed 4096×16 k=8 23–25 → 19.4–19.6 ms (859 → 190 units for the repair from the shift alone),
 * skewed 4096×64 k=8 49–51 → 44–45 ms; at 1,024 tokens both cost 0.3–0.5 ms and at C = 64 (sigmoid 2048×128 k=4)
 * the coarse phase 1–5 ms, hence the two floors.
 */
const COARSE_MIN_TOKENS = 2048;
const COARSE_MIN_PLACES = 256;
/** on such coarse solves with at least this many places per expert the full batch runs no auction phase at all */
const SAMPLE_ONLY_MIN_PLACES = 1024;
/** a cold start whose sampled overload is above this share of all slots goes to the auction without the plain top-k pass */
const SKIP_SHARE = 2 * AUCTION_MIN_SHARE;
/**
 * cold prices come from every SUBSAMPLE-th token first, recursively while a sample keeps ≥ MIN_SUBSAMPLE tokens, or
 * ≥ DEEP_MIN_SUBSAMPLE except under a single coarse full-batch phase (COARSE_MIN_PLACES ≤ C < SAMPLE_ONLY_MIN_PLACES):
 * the bottom sample's coarse phases from ε = 1/10 of the range were a third of a sigmoid 1024×32 k=4 solve at 256
 * tokens (measured, process CPU interleaved, medians of 11: 5.2–5.5 → 4.7–5.0 ms there, skewed 4096×16 k=8
 * 14.3 → 13.3 ms), but skewed 2048×16 k=2 (C = 256, one coarse phase) went 4.3 → 4.5 ms: there the 512-token
 * sample's single warm phase left the full batch 6.2k bids instead of 5.0k
 */
const SUBSAMPLE = 4;
const MIN_SUBSAMPLE = 256;
const DEEP_MIN_SUBSAMPLE = 64;
/** the plain top-k overload is estimated from a sample from this many tokens on */
const SAMPLED_EXCESS_MIN_TOKENS = 1024;

export interface OptimalSolution {
  /** Σ of the selected scores (float64) */
  objective: number;
  idxTK: Int32Array;
  keepTK: Uint8Array;
  loadE: Int32Array;
  /** optimal dual price per expert (≥ 0): a warm start for the next batch of the same layer */
  priceE: Float64Array;
}

export interface SolveOptions {
  /** every token takes exactly k experts (rows "= k"); default: at most k, as in the BIP */
  fill?: boolean;
  /**
   * prices (≥ 0, one per expert) to start from, e.g. the previous batch's `priceE` of the same layer: any such
   * prices are a valid start (the result is the same optimum), close ones make the repair short
   */
  startPrices?: ArrayLike<number>;
}

export function solveOptimal(
  scoresTE: Float32Array | Float64Array,
  tokens: number,
  experts: number,
  k: number,
  capacity: number,
  options: SolveOptions = {},
): OptimalSolution {
  const T = tokens;
  const E = experts;
  const fill = options.fill ?? false;
  if (scoresTE.length !== T * E) throw new RangeError(`scores hold ${scoresTE.length} values, expected ${T}×${E}`);
  if (!Number.isInteger(k) || k < 1 || k > E) throw new RangeError(`k must be an integer in [1, ${E}], got ${k}`);
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
  if (fill && capacity * E < k * T) throw new RangeError(`capacity ${capacity} × ${E} experts cannot place ${k} × ${T} slots`);

  const start = options.startPrices;
  if (start && (start.length !== E || !Array.from(start).every((p) => p >= 0 && Number.isFinite(p)))) {
    throw new RangeError(`startPrices must hold ${E} finite prices ≥ 0`);
  }
  let onTE = new Uint8Array(T * E);
  let loadE = new Int32Array(E);
  let priceE: Float64Array = new Float64Array(E);
  let excess = start ? 0 : sampledExcess(scoresTE, T, E, k, capacity, fill, onTE, loadE);
  if (!(excess > SKIP_SHARE * k * T)) {
    // the plain top-k start itself is needed (for the repair, or to weigh against the given prices)
    onTE.fill(0);
    loadE.fill(0);
    initialTopK(scoresTE, T, E, k, fill, priceE, onTE, loadE);
    excess = imbalanceOf(loadE, priceE, capacity);
  }
  let fromStart = false;
  if (start && excess > 0) {
    // the given prices replace plain top-k only when they leave less to repair (a benign batch's top-k is
    // often closer to balanced than last step's prices, which keep every priced expert's sink saturated)
    const warmE = Float64Array.from(start);
    const warmOn = new Uint8Array(T * E);
    const warmLoad = new Int32Array(E);
    initialTopK(scoresTE, T, E, k, fill, warmE, warmOn, warmLoad);
    const warmExcess = imbalanceOf(warmLoad, warmE, capacity);
    if (warmExcess < excess) {
      priceE = warmE;
      onTE = warmOn;
      loadE = warmLoad;
      excess = warmExcess;
      fromStart = true;
    }
  }
  // from the previous batch's prices the imbalance is mostly scattered noise (~9 % of the slots at 4096×64 k=2),
  // which the repair fixes faster than an auction would (measured: 21 vs 31 ms CPU)
  const share = AUCTION_MIN_SHARE;
  if (excess > share * k * T) {
    // "≤ k" rows with room for every slot are priced as "= k" rows: there every place ends up taken, so no expert
    // is left with empty places at a positive price (the auction's weak spot: its reverse steps can oscillate).
    // Where the k-th choices are worth > 0 at the optimum (softmax and sigmoid scores) both forms share it; the
    // "= k" prices are fixed up to a common shift, so the cheapest expert is moved to 0 (measured: 8–885 units
    // left instead of 290–1,778 on the skewed bench batches). Either way these are only start prices.
    const relax = !fill && capacity * E >= k * T;
    const range = scoreRange(scoresTE);
    const coarse = relax && T >= COARSE_MIN_TOKENS && capacity >= COARSE_MIN_PLACES;
    priceE = fromStart
      ? auctionPrices(scoresTE, T, E, k, capacity, fill || relax, { epsStart: range * EPS_WARM, epsFinal: range * EPS_FINAL, startE: start })
      : coldPrices(scoresTE, T, E, k, capacity, fill || relax, range, range * (coarse ? EPS_WARM : EPS_FINAL), coarse && capacity < SAMPLE_ONLY_MIN_PLACES ? MIN_SUBSAMPLE : DEEP_MIN_SUBSAMPLE);
    if (relax) {
      const lowest = Math.min(...priceE);
      for (let e = 0; e < E; e++) priceE[e] = priceE[e]! - lowest;
      if (T >= COARSE_MIN_TOKENS) lowerPricedShift(scoresTE, T, E, k, capacity, priceE);
    }
    onTE.fill(0);
    loadE.fill(0);
    initialTopK(scoresTE, T, E, k, fill, priceE, onTE, loadE);
  }
  repairFlow(scoresTE, T, E, k, capacity, fill, onTE, loadE, priceE);
  return { ...extract(scoresTE, T, E, k, onTE, loadE), priceE };
}

/**
 * Cold start prices: the coarse phases run on every SUBSAMPLE-th token (capacity scaled; a sample's prices are
 * close to the batch's), recursively down to `minSample` tokens, and each larger sample starts from the smaller
 * one's prices at the warm-start ε (measured, 4096 tokens: sigmoid 64e k=8 123 → 51 ms, skewed 16e k=8 45 → 28 ms,
 * sigmoid 1024×32 k=4 10 → 6.5 ms; starting the finer level at ε/10 instead of 1e-3 of the range gave half of that).
 */
function coldPrices(s: Float32Array | Float64Array, T: number, E: number, k: number, C: number, fill: boolean, range: number, epsFinal: number, minSample: number): Float64Array {
  const subT = Math.floor(T / SUBSAMPLE);
  const subC = Math.round((C * subT) / T);
  if (subT < minSample || subC * E < k * subT) return auctionPrices(s, T, E, k, C, fill, { epsStart: Math.max(epsFinal, range * EPS_COLD), epsFinal });
  // the sample keeps the scores' array type, so the auction's loops see one element kind (and it is half the size)
  const subTE = s instanceof Float32Array ? new Float32Array(subT * E) : new Float64Array(subT * E);
  for (let i = 0; i < subT; i++) subTE.set(s.subarray(i * SUBSAMPLE * E, (i * SUBSAMPLE + 1) * E), i * E);
  // a sample's prices only seed the next level at the warm-start ε: finer phases there would be wasted
  const startE = coldPrices(subTE, subT, E, k, subC, fill, range, range * EPS_WARM, minSample);
  // with that many places per expert the sample's prices (C/4 places each) are as good as the full batch's coarse
  // phase would make them (measured: skewed 4096×16 k=8 19.5 → 14.8 ms; at C = 512, 4096×64 k=8, 45 → 64 ms)
  if (epsFinal >= range * EPS_WARM && C >= SAMPLE_ONLY_MIN_PLACES) return startE;
  return auctionPrices(s, T, E, k, C, fill, { epsStart: range * EPS_WARM, epsFinal, startE });
}

/**
 * The overload of plain top-k estimated from every SUBSAMPLE-th token (0 for short batches): far above the auction's
 * threshold, the full plain top-k pass (7–9 % of a skewed 4096×16 k=8 solve, discarded there) is skipped.
 */
export function sampledExcess(s: Float32Array | Float64Array, T: number, E: number, k: number, C: number, fill: boolean, onTE: Uint8Array, loadE: Int32Array): number {
  if (T < SAMPLED_EXCESS_MIN_TOKENS) return 0;
  initialTopK(s, T, E, k, fill, new Float64Array(E), onTE, loadE, SUBSAMPLE);
  let units = 0;
  for (let e = 0; e < E; e++) units += Math.max(0, SUBSAMPLE * loadE[e]! - C);
  return units;
}

/** Units the repair must move from a start: slots above capacity, and empty places on priced (saturated) experts. */
function imbalanceOf(loadE: Int32Array, priceE: Float64Array, C: number): number {
  let units = 0;
  for (let e = 0; e < loadE.length; e++) units += Math.max(0, loadE[e]! - C) + (priceE[e]! > 0 ? Math.max(0, C - loadE[e]!) : 0);
  return units;
}

/** Each token's (every stride-th) top-k of s − p (only positive ones unless `fill`): with p = 0 the optimum without expert capacities. */
function initialTopK(s: Float32Array | Float64Array, T: number, E: number, k: number, fill: boolean, priceE: Float64Array, onTE: Uint8Array, loadE: Int32Array, stride = 1): void {
  const best = new Int32Array(k);
  const v0 = new Float64Array(k); // s − q of the kept best, descending
  for (let t = 0; t < T; t += stride) {
    const row = t * E;
    let n = 0;
    for (let e = 0; e < E; e++) {
      const v = s[row + e]! - priceE[e]!;
      if (!fill && !(v > 0)) continue;
      // insertion into the sorted (descending) list of the best k so far; earlier expert wins ties
      if (n === k && !(v > v0[k - 1]!)) continue;
      let i = n < k ? n++ : k - 1;
      while (i > 0 && v > v0[i - 1]!) {
        best[i] = best[i - 1]!;
        v0[i] = v0[i - 1]!;
        i--;
      }
      best[i] = e;
      v0[i] = v;
    }
    for (let i = 0; i < n; i++) {
      onTE[row + best[i]!] = 1;
      loadE[best[i]!]!++;
    }
  }
}

/** Kept experts of each token by descending score, then the best unused experts as empty (keep = 0) slots. */
function extract(s: Float32Array | Float64Array, T: number, E: number, k: number, onTE: Uint8Array, loadE: Int32Array): Omit<OptimalSolution, 'priceE'> {
  const idxTK = new Int32Array(T * k);
  const keepTK = new Uint8Array(T * k);
  let objective = 0;
  for (let t = 0; t < T; t++) {
    const row = t * E;
    const o = t * k;
    // one pass: the kept experts, by descending score (earlier expert first on ties), into the first slots
    let n = 0;
    for (let e = 0; e < E; e++) {
      if (!onTE[row + e]) continue;
      const v = s[row + e]!;
      let i = n++;
      while (i > 0 && v > s[row + idxTK[o + i - 1]!]!) idxTK[o + i] = idxTK[o + --i]!;
      idxTK[o + i] = e;
      objective += v;
    }
    keepTK.fill(1, o, o + n);
    // a token left with fewer than k ("≤ k" rows): its best unused experts fill the empty slots
    let m = n;
    for (let e = 0; e < E && n < k; e++) {
      if (onTE[row + e]) continue;
      const v = s[row + e]!;
      if (m === k && !(v > s[row + idxTK[o + k - 1]!]!)) continue;
      let i = m < k ? m++ : k - 1;
      while (i > n && v > s[row + idxTK[o + i - 1]!]!) idxTK[o + i] = idxTK[o + --i]!;
      idxTK[o + i] = e;
    }
  }
  return { objective, idxTK, keepTK, loadE };
}
