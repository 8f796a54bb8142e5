// Warm-start expert prices for the exact solver: Gauss-Seidel sweeps of the BIP quantile update (dual coordinate descent).
//
// Shape legend: T tokens, E experts, K = top-k slots per token, L = min(K + 1, E), W = min(2L + 2, E).
//   scoresTE  gate scores [T*E]              priceE    price per expert (≥ 0, the dual of its capacity row)
//   topV/topI each token's W best s − p and their experts (the first L are always exact)
//
// Any prices p ≥ 0 are a valid start for the exact repair (flow.ts); good ones only make it short. Updating
// expert e with the others fixed: token t wants e iff its margin s_te − θ_te > p_e, where θ_te is the k-th best
// priced score among the other experts (and 0 for "≤ k" rows). Putting p_e between the C-th and (C+1)-th largest
// margin gives e exactly C tokens at that moment. A few sweeps leave a small imbalance (spec §5.3: it never
// reaches exact balance), which the repair then fixes exactly.

export function warmPrices(
  s: Float32Array | Float64Array,
  T: number,
  E: number,
  k: number,
  C: number,
  fill: boolean,
  maxSweeps: number,
  startE?: Float64Array,
): Float64Array {
  const L = Math.min(k + 1, E);
  // each token keeps its W best priced scores, exact, with every unlisted one ≤ the last listed; a price change
  // then updates the list in O(W) and only a list shrunk below L needs a full rescan of the token's E scores
  const W = Math.min(2 * L + 2, E);
  const priceE = new Float64Array(E);
  if (startE) priceE.set(startE);
  const bestE = Float64Array.from(priceE);
  const topV = new Float64Array(T * W);
  const topI = new Int32Array(T * W);
  const lenT = new Int32Array(T);
  const marginT = new Float64Array(T);
  const loadE = new Int32Array(E);
  // expert-major copies: a price update reads one expert's column for every token
  const rankET = new Int16Array(E * T).fill(-1); // e's place in the token's list, −1 = not listed
  const scoresET = new Float64Array(E * T);
  for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) scoresET[e * T + t] = s[t * E + e]!;

  const rescan = (t: number): void => {
    const row = t * E;
    const o = t * W;
    for (let i = 0; i < lenT[t]!; i++) rankET[topI[o + i]! * T + t] = -1;
    let n = 0;
    for (let e = 0; e < E; e++) {
      const v = s[row + e]! - priceE[e]!;
      if (n === W && !(v > topV[o + W - 1]!)) continue;
      let i = n < W ? n++ : W - 1;
      while (i > 0 && v > topV[o + i - 1]!) {
        topV[o + i] = topV[o + i - 1]!;
        topI[o + i] = topI[o + i - 1]!;
        i--;
      }
      topV[o + i] = v;
      topI[o + i] = e;
    }
    lenT[t] = n;
    for (let i = 0; i < n; i++) rankET[topI[o + i]! * T + t] = i;
  };
  /** e's priced score changed to v: take it out of t's list if there, put it back if it beats the last listed */
  const update = (t: number, e: number, v: number): void => {
    const o = t * W;
    let n = lenT[t]!;
    const r = rankET[e * T + t]!;
    if (r >= 0) {
      for (let i = r + 1; i < n; i++) {
        topV[o + i - 1] = topV[o + i]!;
        const x = topI[o + i]!;
        topI[o + i - 1] = x;
        rankET[x * T + t] = i - 1;
      }
      rankET[e * T + t] = -1;
      n--;
    }
    if (n > 0 && v > topV[o + n - 1]!) {
      if (n === W) rankET[topI[o + --n]! * T + t] = -1;
      let i = n++;
      while (i > 0 && v > topV[o + i - 1]!) {
        topV[o + i] = topV[o + i - 1]!;
        const x = topI[o + i - 1]!;
        topI[o + i] = x;
        rankET[x * T + t] = i;
        i--;
      }
      topV[o + i] = v;
      topI[o + i] = e;
      rankET[e * T + t] = i;
    }
    lenT[t] = n;
    if (n < L) rescan(t);
  };
  /** slots above capacity plus empty slots on priced experts: what the exact repair will have to move */
  const imbalance = (): number => {
    loadE.fill(0);
    for (let t = 0; t < T; t++) for (let i = 0; i < k; i++) if (fill || topV[t * W + i]! > 0) loadE[topI[t * W + i]!]!++;
    let units = 0;
    for (let e = 0; e < E; e++) units += loadE[e]! > C ? loadE[e]! - C : priceE[e]! > 0 ? C - loadE[e]! : 0;
    return units;
  };

  for (let t = 0; t < T; t++) rescan(t);
  let best = imbalance(); // bestE holds the prices that reached it
  for (let sweep = 0; sweep < maxSweeps && best > 0; sweep++) {
    for (let e = 0; e < E; e++) {
      let n = 0;
      for (let t = 0; t < T; t++) {
        const o = t * W;
        const r = rankET[e * T + t]!;
        const inTopK = r >= 0 && r < k;
        let theta = inTopK ? (L > k ? topV[o + k]! : -Infinity) : topV[o + k - 1]!;
        if (!fill && theta < 0) theta = 0;
        const m = scoresET[e * T + t]! - theta;
        if (m > 0) marginT[n++] = m;
      }
      const p = n <= C ? 0 : splitAt(marginT, n, C);
      if (p === priceE[e]) continue;
      priceE[e] = p;
      for (let t = 0; t < T; t++) {
        const v = scoresET[e * T + t]! - p;
        if (rankET[e * T + t]! >= 0 || v > topV[t * W + lenT[t]! - 1]!) update(t, e, v);
      }
    }
    const units = imbalance();
    if (!(units < best)) break;
    bestE.set(priceE);
    const gain = best - units;
    best = units;
    // a sweep costs about as much as repairing E-odd units (both scale with T·E); stop once it saves fewer
    if (gain < E) break;
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
