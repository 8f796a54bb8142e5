// Start prices for the exact routing solver: an ε-scaling auction in which tokens bid for expert places.
//
// Shape legend: T tokens, E experts, K = top-k slots per token, C places per expert.
//   scoresTE  gate scores [T*E]      priceE  price per expert (≥ 0): the lowest price among its C places
//   places    per expert a min-heap of its C places (price paid, token there or −1), places.ts
//   onTE      1 = token t holds a place on expert e                countT  places token t holds
//
// Why: any prices p ≥ 0 are a valid start for the exact repair (flow.ts), and the closer p is to the optimal duals,
// the fewer units the repair moves (each costs an O(E²) search and O(C·E) of cache rescans). An auction gets
// within ε of the optimal duals with one O(E) scan per bid; quantile sweeps (dual coordinate descent) cost O(T·E)
// per sweep and stall at the non-smooth points of the dual (spec §5.3), leaving thousands of units at E = 128.
//
// Bidding: a token missing m places scans v = s − p over the experts it does not hold, takes the m best (only v > 0
// for "≤ k" rows) and bids for each j at s_tj − w + ε, w the next best value (0 for "≤ k" rows when there is none,
// and never above s_tj there): each place it won is then worth w − ε to it, within ε of anything it does not hold
// (ε-complementary slackness). A bid takes j's cheapest place (its token bids again) and is ≥ ε above it, so
// prices rise and a phase ends. ε shrinks by THETA per phase; the places are kept and only the tokens no longer
// within the new ε of their best alternative give theirs up and bid again. Forward bids cannot lower a price, so
// at each phase start an expert left with empty places at a positive price (too high: at the optimum it would be
// full or free) drops those places to the price at which exactly that many more tokens want it (a reverse step).
// The first phase starts from each token's top-k of s − p at the start prices, so a close start (the previous
// batch's prices) leaves only its imbalance to the bidding. The result is only a start: its ε-near ties are the
// repair's work, and the repair's answer is exact whatever the prices were.
import { createPlaces } from './places';

/** ε divides by this between phases (6, 10 and 16 tried on the bench batches: 10 best or tied, noisy machine) */
const THETA = 10;
/** bids in one phase beyond this many per slot stop the auction (its prices are still a valid start) */
const BID_BUDGET = 64;

export interface AuctionOptions {
  /** first phase's ε */
  epsStart: number;
  /** last phase's ε (≤ epsStart) */
  epsFinal: number;
  /** prices to start from (≥ 0), e.g. the previous batch's optimal ones; default 0 */
  startE?: ArrayLike<number>;
}

export function auctionPrices(s: Float32Array | Float64Array, T: number, E: number, k: number, C: number, fill: boolean, opts: AuctionOptions): Float64Array {
  const priceE = new Float64Array(E);
  if (opts.startE) priceE.set(opts.startE);
  if (C === 0 || T === 0) return priceE;
  const places = createPlaces(T, E, C, priceE);
  const { placeP, placeT, posTE } = places;
  const onTE = new Uint8Array(T * E);
  const countT = new Int32Array(T);
  const queue = new Int32Array(T);
  const queued = new Uint8Array(T);
  const worstT = new Float64Array(T);
  const marginT = new Float64Array(T);
  const topV = new Float64Array(k + 1);
  const topI = new Int32Array(k + 1);
  let head = 0;
  let size = 0;
  const enqueue = (t: number): void => {
    if (queued[t]) return;
    queued[t] = 1;
    queue[(head + size++) % T] = t;
  };

  // first phase: each token's top-k of s − p; it keeps the places it finds free, at the price that leaves it
  // indifferent to its next choice, and bids for the rest. So an overloaded expert's price is that of its least
  // keen token at once, not p_e until all C were outbid once (measured from the previous batch's prices: 4.8 →
  // 4.2 bids per slot in the first phase)
  for (let t = 0; t < T; t++) {
    const row = t * E;
    const n = bestOf(s, row, E, k + 1, priceE, onTE, fill, topV, topI);
    const kept = Math.min(n, k);
    // the price at which t is indifferent to its best other choice (its (k+1)-th; nothing for "≤ k" rows: 0)
    const w = n > k ? topV[k]! : fill ? topV[kept - 1]! : 0;
    for (let i = 0; i < kept; i++) {
      if (places.seat(topI[i]!, t, s[row + topI[i]!]! - w)) {
        onTE[row + topI[i]!] = 1;
        countT[t]!++;
      }
    }
    if (countT[t]! < kept || (fill && countT[t]! < k)) enqueue(t);
  }
  places.settle();

  let eps = opts.epsStart;
  for (;;) {
    // reverse step (also before the first bids: given start prices leave experts with empty places priced too
    // high, and bidding would have to raise every other price up to them): empty places at a positive price drop
    // to where exactly that many more tokens want the expert
    let worstKnown = false;
    for (let e = 0; e < E; e++) {
      if (!(priceE[e]! > 0) || placeT[e * C]! >= 0) continue;
      if (!worstKnown) {
        worstKnown = true;
        // what a token gives up to take one more place: its least valuable place, or nothing with a free slot
        for (let t = 0; t < T; t++) {
          const row = t * E;
          let worst = !fill && countT[t]! < k ? 0 : Infinity;
          for (let f = 0; f < E; f++) if (onTE[row + f]) worst = Math.min(worst, s[row + f]! - placeP[f * C + posTE[row + f]!]!);
          worstT[t] = worst;
        }
      }
      let empty = 0;
      for (let i = 0; i < C; i++) if (placeT[e * C + i]! < 0) empty++;
      let n = 0;
      for (let t = 0; t < T; t++) if (!onTE[t * E + e]) marginT[n++] = s[t * E + e]! - worstT[t]!;
      const p = n <= empty ? 0 : Math.max(0, splitAt(marginT, n, empty));
      if (p < priceE[e]!) places.lowerEmpty(e, p);
    }
    // the places are kept: only tokens no longer within ε of their best alternative give theirs up. One pass finds
    // the best place not held and the least valuable one held; only a token with a violation takes a second pass
    // (slack 1e-9·ε: s − (s − w + ε) rounds, and a place won at exactly w − ε must not count as a violation)
    const slack = eps * (1 + 1e-9);
    for (let t = 0; t < T; t++) {
      const row = t * E;
      let best = fill ? -Infinity : 0;
      let worst = Infinity;
      for (let e = 0; e < E; e++) {
        if (onTE[row + e]) {
          const v = s[row + e]! - placeP[e * C + posTE[row + e]!]!;
          if (v < worst) worst = v;
        } else if (s[row + e]! - priceE[e]! > best) best = s[row + e]! - priceE[e]!;
      }
      if (worst < best - slack) {
        for (let e = 0; e < E; e++) {
          if (!onTE[row + e] || s[row + e]! - placeP[e * C + posTE[row + e]!]! >= best - slack) continue;
          places.vacate(e, posTE[row + e]!);
          onTE[row + e] = 0;
          countT[t]!--;
        }
        enqueue(t);
      } else if (countT[t]! < k && (fill || best > 0)) enqueue(t);
    }
    const budget = BID_BUDGET * T * k;
    let bids = 0;
    while (size > 0 && bids < budget) {
      const t = queue[head]!;
      head = head + 1 === T ? 0 : head + 1;
      size--;
      queued[t] = 0;
      const m = k - countT[t]!;
      if (m <= 0) continue;
      const row = t * E;
      const n = bestOf(s, row, E, m + 1, priceE, onTE, fill, topV, topI);
      if (n === 0) continue; // "≤ k" rows: nothing is worth a place any more (prices only rise within a phase)
      const won = Math.min(m, n);
      const w = n > won ? topV[won]! : fill ? topV[won - 1]! : 0;
      for (let i = 0; i < won; i++) {
        const j = topI[i]!;
        const bid = s[row + j]! - w + eps;
        const evicted = places.take(j, fill ? bid : Math.min(bid, s[row + j]!), t);
        onTE[row + j] = 1;
        countT[t]!++;
        bids++;
        if (evicted >= 0) {
          onTE[evicted * E + j] = 0;
          countT[evicted]!--;
          enqueue(evicted);
        }
      }
    }
    if (size > 0 || eps <= opts.epsFinal * (1 + 1e-9)) break; // (ε/THETA/THETA… rounds above epsFinal)
    eps = Math.max(opts.epsFinal, eps / THETA);
  }
  return priceE;
}

/**
 * The n ≤ want best priced scores s − p of row `row` among the experts not in `heldTE` (only positive ones unless
 * `fill`), descending, into topV/topI; returns n. Earlier experts win ties.
 */
function bestOf(s: Float32Array | Float64Array, row: number, E: number, want: number, priceE: Float64Array, heldTE: Uint8Array, fill: boolean, topV: Float64Array, topI: Int32Array): number {
  if (want === 2) return bestTwo(s, row, E, priceE, heldTE, fill, topV, topI);
  let n = 0;
  for (let e = 0; e < E; e++) {
    if (heldTE[row + e]) continue;
    const v = s[row + e]! - priceE[e]!;
    if (!fill && !(v > 0)) continue;
    if (n === want && !(v > topV[want - 1]!)) continue;
    let i = n < want ? n++ : want - 1;
    while (i > 0 && v > topV[i - 1]!) {
      topV[i] = topV[i - 1]!;
      topI[i] = topI[i - 1]!;
      i--;
    }
    topV[i] = v;
    topI[i] = e;
  }
  return n;
}

/** bestOf for want = 2, the common case (a token that lost one place), in registers */
function bestTwo(s: Float32Array | Float64Array, row: number, E: number, priceE: Float64Array, heldTE: Uint8Array, fill: boolean, topV: Float64Array, topI: Int32Array): number {
  let v0 = fill ? -Infinity : 0;
  let v1 = v0;
  let i0 = -1;
  let i1 = -1;
  for (let e = 0; e < E; e++) {
    if (heldTE[row + e]) continue;
    const v = s[row + e]! - priceE[e]!;
    if (!(v > v1)) continue; // (−∞ for "= k" rows, 0 for "≤ k": only positive values count there)
    if (v > v0) {
      v1 = v0;
      i1 = i0;
      v0 = v;
      i0 = e;
    } else {
      v1 = v;
      i1 = e;
    }
  }
  topV[0] = v0;
  topI[0] = i0;
  topV[1] = v1;
  topI[1] = i1;
  return i0 < 0 ? 0 : i1 < 0 ? 1 : 2;
}

/** A price between the c-th and (c+1)-th largest of xs[0..n) (n > c), so exactly c of them lie above it; reorders xs. */
export function splitAt(xs: Float64Array, n: number, c: number): number {
  // quickselect: afterwards xs[c] is the (c+1)-th largest and xs[0..c) are all ≥ it
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! > pivot) i++;
      while (xs[j]! < pivot) j--;
      if (i <= j) {
        const x = xs[i]!;
        xs[i++] = xs[j]!;
        xs[j--] = x;
      }
    }
    if (c <= j) hi = j;
    else if (c >= i) lo = i;
    else break;
  }
  const below = xs[c]!;
  if (c === 0) return below; // no place left: no margin may exceed the price
  let above = Infinity;
  for (let i = 0; i < c; i++) if (xs[i]! < above) above = xs[i]!;
  return (above + below) / 2;
}

/** max − min of the scores (a tiny positive number when they are all equal) */
export function scoreRange(s: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi > lo ? hi - lo : 1e-12;
}
