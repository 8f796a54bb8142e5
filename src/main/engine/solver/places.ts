// The auction's expert places (auction.ts): per expert a min-heap of its C places, each a price and a token or −1.
//
// Shape legend: T tokens, E experts, C places per expert.
//   placeP/placeT  [E*C] price of each place and the token on it (−1 = empty), expert e's heap at e*C
//   posTE          [T*E] index of token t's place in expert e's heap (valid while t holds one)
//   priceE         the caller's prices: kept equal to each heap's root, the cheapest place
// A bid always takes the cheapest place; on equal prices an empty place is the cheaper, so no token is evicted
// while a place at the same price is free.

export interface Places {
  placeP: Float64Array;
  placeT: Int32Array;
  posTE: Int32Array;
  /** before any bid: token t sits on a free place of e at price b ≥ priceE[e]; false when e is full */
  seat(e: number, t: number, b: number): boolean;
  /** after the seats: orders every expert's heap and sets priceE to its cheapest place */
  settle(): void;
  /** t takes j's cheapest place at price b (> that place's price); returns the token evicted from it, or −1 */
  take(j: number, b: number, t: number): number;
  /** place i of expert j becomes empty at j's price (the cheapest), moving to the root */
  vacate(j: number, i: number): void;
  /** every empty place of expert e drops to price p (< priceE[e], which becomes p) */
  lowerEmpty(e: number, p: number): void;
}

export function createPlaces(T: number, E: number, C: number, priceE: Float64Array): Places {
  const placeP = new Float64Array(E * C);
  const placeT = new Int32Array(E * C).fill(-1);
  const posTE = new Int32Array(T * E);
  const seated = new Int32Array(E);
  for (let e = 0; e < E; e++) placeP.fill(priceE[e]!, e * C, (e + 1) * C);

  /** is place a cheaper than place b (empty first on equal prices)? o = the expert's offset */
  const below = (o: number, a: number, b: number): boolean =>
    placeP[o + a]! < placeP[o + b]! || (placeP[o + a] === placeP[o + b] && placeT[o + a]! < 0 && placeT[o + b]! >= 0);

  /** move place i of expert j up to the root (its price is ≤ every ancestor's), then write (p, token) there */
  const toRoot = (j: number, i: number, p: number, token: number): void => {
    const o = j * C;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      placeP[o + i] = placeP[o + parent]!;
      const h = placeT[o + parent]!;
      placeT[o + i] = h;
      if (h >= 0) posTE[h * E + j] = i;
      i = parent;
    }
    placeP[o] = p;
    placeT[o] = token;
  };

  return {
    placeP,
    placeT,
    posTE,
    seat(e, t, b) {
      if (seated[e] === C) return false;
      placeP[e * C + seated[e]!] = b;
      placeT[e * C + seated[e]!++] = t;
      return true;
    },
    settle() {
      for (let e = 0; e < E; e++) {
        const o = e * C;
        // heapify (Floyd): sift every inner place down, empty ones count as the cheaper on equal prices
        for (let start = (C >> 1) - 1; start >= 0; start--) {
          const p = placeP[o + start]!;
          const h = placeT[o + start]!;
          let i = start;
          for (;;) {
            const l = 2 * i + 1;
            if (l >= C) break;
            const c = l + 1 < C && below(o, l + 1, l) ? l + 1 : l;
            if (!(placeP[o + c]! < p || (placeP[o + c] === p && placeT[o + c]! < 0 && h >= 0))) break;
            placeP[o + i] = placeP[o + c]!;
            placeT[o + i] = placeT[o + c]!;
            i = c;
          }
          placeP[o + i] = p;
          placeT[o + i] = h;
        }
        for (let i = 0; i < C; i++) if (placeT[o + i]! >= 0) posTE[placeT[o + i]! * E + e] = i;
        priceE[e] = placeP[o]!;
      }
    },
    take(j, b, t) {
      const o = j * C;
      const evicted = placeT[o]!;
      // the new price sifts down from the root
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= C) break;
        const c = l + 1 < C && below(o, l + 1, l) ? l + 1 : l;
        if (!(placeP[o + c]! < b)) break;
        placeP[o + i] = placeP[o + c]!;
        const h = placeT[o + c]!;
        placeT[o + i] = h;
        if (h >= 0) posTE[h * E + j] = i;
        i = c;
      }
      placeP[o + i] = b;
      placeT[o + i] = t;
      posTE[t * E + j] = i;
      priceE[j] = placeP[o]!;
      return evicted;
    },
    vacate(j, i) {
      toRoot(j, i, placeP[j * C]!, -1);
    },
    lowerEmpty(e, p) {
      // in heap order: moving place i to the root shifts only its ancestors (visited already) down a level
      for (let i = 0; i < C; i++) if (placeT[e * C + i]! < 0 && placeP[e * C + i]! > p) toRoot(e, i, p, -1);
      priceE[e] = p;
    },
  };
}
