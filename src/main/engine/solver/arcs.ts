// The repair's move arcs (flow.ts): for every expert pair (a, b) the cheapest token to move from a to b, cached.
//
// Shape legend: T tokens, E experts, C tokens per expert at most, R = candidates kept per arc (4, or 8 above C = 512).
//   costEE/tokEE  [E*E] the cheapest move a → b (cost s_ta − s_tb) and its token (Infinity / −1 = none)
//   candCost/candTok [E*E*R] per arc up to R cheapest candidates, ascending; boundEE [E*E] a lower bound on
//   the cost of every valid move not among them. A candidate is valid while its token sits on a and not on b.
// Why: the token that just moved was usually the cheapest for many arcs out of its expert, and rescanning the
// expert's C tokens × E arcs after each move was most of the repair (measured: ~45 % of a 4096×64 k=2 solve).
// With R runners-up the next valid one takes over; only when none is left below the bound is the arc rescanned
// (O(C)), so the cached minimum stays exact.

export interface MoveArcs {
  costEE: Float64Array;
  tokEE: Int32Array;
  /** rebuild every arc out of a from the tokens on it */
  rebuildRow(a: number): void;
  /** build a's arcs if they never were (rows are built on first use: a short repair searches from few experts) */
  ensureRow(a: number): void;
  /** the cached token of arc a → b is no longer valid: take the next candidate, or rescan */
  refresh(a: number, b: number): void;
  /** token t became valid for a → b at cost c */
  offer(a: number, b: number, c: number, t: number): void;
}

export function createMoveArcs(s: Float32Array | Float64Array, T: number, E: number, C: number, onTE: Uint8Array, listET: Int32Array, loadE: Int32Array): MoveArcs {
  // a rescan costs O(C): keep more runners-up where experts hold many tokens (measured: 4 vs 8 at C = 128 and 2048)
  const R = C > 512 ? 8 : 4;
  const costEE = new Float64Array(E * E).fill(Infinity);
  const tokEE = new Int32Array(E * E).fill(-1);
  const candCost = new Float64Array(E * E * R);
  const candTok = new Int32Array(E * E * R);
  const lenEE = new Uint8Array(E * E);
  const boundEE = new Float64Array(E * E).fill(Infinity);
  const builtE = new Uint8Array(E);

  /** insert (c, t) into arc x's sorted candidates (c < bound); a candidate pushed out lowers the bound */
  const insert = (x: number, c: number, t: number): void => {
    const o = x * R;
    let n = lenEE[x]!;
    if (n === R) {
      if (!(c < candCost[o + R - 1]!)) {
        if (c < boundEE[x]!) boundEE[x] = c;
        return;
      }
      if (candCost[o + R - 1]! < boundEE[x]!) boundEE[x] = candCost[o + R - 1]!;
      n--;
    }
    let i = n;
    while (i > 0 && c < candCost[o + i - 1]!) {
      candCost[o + i] = candCost[o + i - 1]!;
      candTok[o + i] = candTok[o + i - 1]!;
      i--;
    }
    candCost[o + i] = c;
    candTok[o + i] = t;
    lenEE[x] = n + 1;
  };
  /**
   * x's first candidate (kept valid by the caller's refreshes) becomes the cached minimum. Listed candidates never
   * exceed the bound (only the dearest are pushed out), so the rescan branch is a guard, not a path.
   */
  const publish = (x: number): void => {
    if (lenEE[x]! > 0 && candCost[x * R]! <= boundEE[x]!) {
      costEE[x] = candCost[x * R]!;
      tokEE[x] = candTok[x * R]!;
    } else if (boundEE[x]! < Infinity) rescan(Math.floor(x / E), x % E);
    else {
      costEE[x] = Infinity;
      tokEE[x] = -1;
    }
  };
  function rescan(a: number, b: number): void {
    const x = a * E + b;
    lenEE[x] = 0;
    boundEE[x] = Infinity;
    for (let i = 0, n = loadE[a]!; i < n; i++) {
      const t = listET[a * T + i]!;
      if (!onTE[t * E + b]) insert(x, s[t * E + a]! - s[t * E + b]!, t);
    }
    publish(x);
  }

  const limitE = new Float64Array(E);
  function rebuildRow(a: number): void {
    builtE[a] = 1;
    const r = a * E;
    lenEE.fill(0, r, r + E);
    // limitE[b]: the dearest listed candidate of a full list (Infinity until full). Everything not listed costs at
    // least the final one, so that is the bound; one compare rejects most moves (measured: −30 % of a row build)
    limitE.fill(Infinity);
    for (let i = 0, n = loadE[a]!; i < n; i++) {
      const t = listET[a * T + i]!;
      const row = t * E;
      const sa = s[row + a]!;
      for (let b = 0; b < E; b++) {
        const c = sa - s[row + b]!;
        if (!(c < limitE[b]!) || onTE[row + b]) continue;
        const x = r + b;
        const o = x * R;
        let j = lenEE[x]!;
        if (j === R) j--;
        else lenEE[x] = j + 1;
        while (j > 0 && c < candCost[o + j - 1]!) {
          candCost[o + j] = candCost[o + j - 1]!;
          candTok[o + j] = candTok[o + j - 1]!;
          j--;
        }
        candCost[o + j] = c;
        candTok[o + j] = t;
        if (lenEE[x] === R) limitE[b] = candCost[o + R - 1]!;
      }
    }
    for (let b = 0; b < E; b++) {
      boundEE[r + b] = limitE[b]!;
      publish(r + b);
    }
  }

  return {
    costEE,
    tokEE,
    rebuildRow,
    ensureRow(a) {
      if (!builtE[a]) rebuildRow(a);
    },
    refresh(a, b) {
      const x = a * E + b;
      const o = x * R;
      let drop = 0;
      const n = lenEE[x]!;
      while (drop < n && !(onTE[candTok[o + drop]! * E + a] && !onTE[candTok[o + drop]! * E + b])) drop++;
      if (drop === n || candCost[o + drop]! > boundEE[x]!) {
        rescan(a, b);
        return;
      }
      if (drop > 0) {
        candCost.copyWithin(o, o + drop, o + n);
        candTok.copyWithin(o, o + drop, o + n);
        lenEE[x] = n - drop;
      }
      publish(x);
    },
    offer(a, b, c, t) {
      const x = a * E + b;
      if (!builtE[a] || !(c < boundEE[x]!)) return; // an unbuilt row will see t when it is built // no cheaper than moves already accounted for by the bound
      const o = x * R;
      for (let i = 0; i < lenEE[x]!; i++) if (candTok[o + i] === t) return; // listed already (a token that came back)
      insert(x, c, t);
      publish(x);
    },
  };
}
