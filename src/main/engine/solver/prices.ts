// Warm-start expert prices for the exact solver: Gauss-Seidel sweeps of the BIP quantile update (dual coordinate descent).
//
// Shape legend: T tokens, E experts, K = top-k slots per token, L = min(K + 1, E).
//   scoresTE  gate scores [T*E]            priceE    price per expert (≥ 0, the dual of its capacity row)
//   topVTL    each token's L best s − p    topITL    their experts
//
// Any prices p ≥ 0 are a valid start for the exact repair (flow.ts); good ones only make it short. Updating
// expert e with the others fixed: token t wants e iff its margin s_te − θ_te > p_e, where θ_te is the k-th best
// priced score among the other experts (and 0 for "≤ k" rows). Putting p_e between the C-th and (C+1)-th largest
// margin gives e exactly C tokens at that moment. A few sweeps leave a small imbalance (spec §5.3: it never
// reaches exact balance), which the repair then fixes exactly.

export function warmPrices(s: Float32Array | Float64Array, T: number, E: number, k: number, C: number, fill: boolean, maxSweeps: number): Float64Array {
  const L = Math.min(k + 1, E);
  const priceE = new Float64Array(E);
  const bestE = new Float64Array(E);
  const topV = new Float64Array(T * L);
  const topI = new Int32Array(T * L);
  const marginT = new Float64Array(T);
  const loadE = new Int32Array(E);

  const rescan = (t: number): void => {
    const row = t * E;
    const o = t * L;
    let n = 0;
    for (let e = 0; e < E; e++) {
      const v = s[row + e]! - priceE[e]!;
      if (n === L && !(v > topV[o + L - 1]!)) continue;
      let i = n < L ? n++ : L - 1;
      while (i > 0 && v > topV[o + i - 1]!) {
        topV[o + i] = topV[o + i - 1]!;
        topI[o + i] = topI[o + i - 1]!;
        i--;
      }
      topV[o + i] = v;
      topI[o + i] = e;
    }
  };
  /** slots above capacity plus empty slots on priced experts: what the exact repair will have to move */
  const imbalance = (): number => {
    loadE.fill(0);
    for (let t = 0; t < T; t++) for (let i = 0; i < k; i++) if (fill || topV[t * L + i]! > 0) loadE[topI[t * L + i]!]!++;
    let units = 0;
    for (let e = 0; e < E; e++) units += loadE[e]! > C ? loadE[e]! - C : priceE[e]! > 0 ? C - loadE[e]! : 0;
    return units;
  };

  for (let t = 0; t < T; t++) rescan(t);
  let best = imbalance(); // bestE (all 0) holds the prices that reached it
  for (let sweep = 0; sweep < maxSweeps && best > 0; sweep++) {
    for (let e = 0; e < E; e++) {
      let n = 0;
      for (let t = 0; t < T; t++) {
        const o = t * L;
        let inTopK = false;
        for (let i = 0; i < k; i++) if (topI[o + i] === e) { inTopK = true; break; }
        let theta = inTopK ? (L > k ? topV[o + k]! : -Infinity) : topV[o + k - 1]!;
        if (!fill && theta < 0) theta = 0;
        const m = s[t * E + e]! - theta;
        if (m > 0) marginT[n++] = m;
      }
      const p = n <= C ? 0 : splitAt(marginT, n, C);
      if (p === priceE[e]) continue;
      priceE[e] = p;
      for (let t = 0; t < T; t++) {
        const o = t * L;
        let listed = s[t * E + e]! - p > topV[o + L - 1]!;
        for (let i = 0; i < L && !listed; i++) listed = topI[o + i] === e;
        if (listed) rescan(t);
      }
    }
    const units = imbalance();
    if (!(units < best)) break;
    bestE.set(priceE);
    const gain = best - units;
    best = units;
    if (gain < 0.2 * (best + gain)) break; // sweeps have stopped paying for themselves
  }
  return bestE;
}

/** A price between the c-th and (c+1)-th largest of xs[0..n) (n > c), so exactly c of them lie above it; reorders xs. */
function splitAt(xs: Float64Array, n: number, c: number): number {
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
  if (c === 0) return below; // capacity 0: no margin may exceed the price
  let above = Infinity;
  for (let i = 0; i < c; i++) if (xs[i]! < above) above = xs[i]!;
  return (above + below) / 2;
}
