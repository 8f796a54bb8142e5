// Exact repair for the routing solver: successive shortest paths over the E expert nodes + D from a priced top-k start.
//
// Shape legend: T tokens, E experts, K = top-k slots per token.
//   scoresTE  gate scores [T*E]       onTE   1 = token t sits on expert e       loadE  tokens per expert
//   priceE    warm-start prices ≥ 0 (on return: optimal ones)   flowE  units on expert e's sink arc (≤ C)  listET tokens on each expert
//
// Node D merges source and sink (docs/strategies.md). Arcs between the E + 1 nodes, each the cheapest of its kind:
//   a → b  move a token from a to b (cost s_ta − s_tb)     a → D  drop a token's slot on a (cost s_ta; not with fill)
//   D → b  give a token with a free slot expert b (−s_tb)   a → D / D → a  raise / lower a's sink flow (cost 0)
// With potentials pi = −price (pi[D] = 0), the start (each token's top-k of s − p, positive only unless fill) has
// every reduced cost ≥ 0; flowE = C on priced experts and min(load, C) elsewhere, so imbalances are the overload
// of experts (sources), the empty places of priced experts (sinks) and D. Dijkstra from all sources to the nearest
// sink, potentials updated Johnson-style, keeps reduced costs ≥ 0; when no imbalance is left the flow is optimal.
// The cheapest token per move arc is cached with a few runners-up (arcs.ts); drops and adds are rescanned when stale.

import { createMoveArcs } from './arcs';

export function repairFlow(
  s: Float32Array | Float64Array,
  T: number,
  E: number,
  k: number,
  C: number,
  fill: boolean,
  onTE: Uint8Array,
  loadE: Int32Array,
  priceE: Float64Array,
): void {
  const D = E;
  const drops = !fill;
  const countT = new Int32Array(T);
  const listET = new Int32Array(E * T);
  const posTE = new Int32Array(T * E);
  const flowE = new Int32Array(E);
  const freeT = new Int32Array(T); // tokens with fewer than k experts (only without fill)
  const freePosT = new Int32Array(T).fill(-1);
  let freeLen = 0;
  for (let e = 0; e < E; e++) loadE[e] = 0;
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) {
      if (!onTE[t * E + e]) continue;
      posTE[t * E + e] = loadE[e]!;
      listET[e * T + loadE[e]!++] = t;
      countT[t]!++;
    }
    if (drops && countT[t]! < k) { freePosT[t] = freeLen; freeT[freeLen++] = t; }
  }
  for (let e = 0; e < E; e++) flowE[e] = priceE[e]! > 0 ? C : Math.min(loadE[e]!, C);

  const arcs = createMoveArcs(s, T, E, C, onTE, listET, loadE);
  const moveCost = arcs.costEE;
  const moveTok = arcs.tokEE;
  const dropCost = new Float64Array(E).fill(Infinity);
  const dropTok = new Int32Array(E).fill(-1);
  const addCost = new Float64Array(E).fill(Infinity);
  const addTok = new Int32Array(E).fill(-1);

  const recomputeDrop = (a: number): void => {
    let best = Infinity;
    let tok = -1;
    for (let i = 0, n = loadE[a]!; i < n; i++) {
      const t = listET[a * T + i]!;
      if (s[t * E + a]! < best) { best = s[t * E + a]!; tok = t; }
    }
    dropCost[a] = best;
    dropTok[a] = tok;
  };
  const recomputeAdd = (b: number): void => {
    let best = Infinity;
    let tok = -1;
    for (let i = 0; i < freeLen; i++) {
      const t = freeT[i]!;
      if (!onTE[t * E + b] && -s[t * E + b]! < best) { best = -s[t * E + b]!; tok = t; }
    }
    addCost[b] = best;
    addTok[b] = tok;
  };
  const offerAdd = (b: number, c: number, t: number): void => {
    if (c < addCost[b]!) { addCost[b] = c; addTok[b] = t; }
  };
  const place = (t: number, b: number): void => {
    onTE[t * E + b] = 1;
    posTE[t * E + b] = loadE[b]!;
    listET[b * T + loadE[b]!++] = t;
    countT[t]!++;
  };
  const unplace = (t: number, a: number): void => {
    onTE[t * E + a] = 0;
    const i = posTE[t * E + a]!;
    const last = listET[a * T + --loadE[a]!]!;
    listET[a * T + i] = last;
    posTE[last * E + a] = i;
    countT[t]!--;
  };
  /** t left a: arcs out of a whose cheapest token was t are stale */
  const leftExpert = (t: number, a: number): void => {
    for (let c = 0; c < E; c++) if (moveTok[a * E + c] === t) arcs.refresh(a, c);
    if (drops && dropTok[a] === t) recomputeDrop(a);
    const row = t * E;
    for (let c = 0; c < E; c++) if (onTE[row + c]) arcs.offer(c, a, s[row + c]! - s[row + a]!, t);
  };
  /** t joined b: arcs into b whose cheapest token was t are stale; new arcs out of b */
  const joinedExpert = (t: number, b: number): void => {
    for (let c = 0; c < E; c++) if (c !== b && moveTok[c * E + b] === t) arcs.refresh(c, b);
    if (drops && addTok[b] === t) recomputeAdd(b);
    const row = t * E;
    const sb = s[row + b]!;
    for (let c = 0; c < E; c++) if (!onTE[row + c]) arcs.offer(b, c, sb - s[row + c]!, t);
    if (drops && sb < dropCost[b]!) { dropCost[b] = sb; dropTok[b] = t; }
  };
  const moveToken = (t: number, a: number, b: number): void => {
    unplace(t, a);
    place(t, b);
    leftExpert(t, a);
    joinedExpert(t, b);
    if (drops && freePosT[t]! >= 0) offerAdd(a, -s[t * E + a]!, t);
  };
  const dropToken = (t: number, a: number): void => {
    unplace(t, a);
    leftExpert(t, a);
    if (freePosT[t]! < 0) {
      freePosT[t] = freeLen;
      freeT[freeLen++] = t;
      for (let c = 0; c < E; c++) if (!onTE[t * E + c]) offerAdd(c, -s[t * E + c]!, t);
    } else offerAdd(a, -s[t * E + a]!, t);
  };
  const addToken = (t: number, b: number): void => {
    place(t, b);
    joinedExpert(t, b);
    if (countT[t]! === k) {
      const i = freePosT[t]!;
      const last = freeT[--freeLen]!;
      freeT[i] = last;
      freePosT[last] = i;
      freePosT[t] = -1;
      for (let c = 0; c < E; c++) if (addTok[c] === t) recomputeAdd(c);
    }
  };

  const imbalance = (v: number): number => {
    if (v < E) return loadE[v]! - flowE[v]!;
    let b = 0;
    for (let e = 0; e < E; e++) b += flowE[e]! - loadE[e]!;
    return b;
  };
  let excess = 0;
  for (let v = 0; v <= E; v++) excess += Math.max(0, imbalance(v));
  if (excess === 0) return;

  for (let a = 0; a < E; a++) {
    if (drops) recomputeDrop(a);
    if (drops) recomputeAdd(a);
  }

  // arc kinds on the path
  const MOVE = 0, DROP = 1, ADD = 2, SINK = 3, UNSINK = 4;
  const pi = new Float64Array(E + 1);
  for (let e = 0; e < E; e++) pi[e] = -priceE[e]!;
  const balance = new Int32Array(E + 1);
  const dist = new Float64Array(E + 1);
  const done = new Uint8Array(E + 1);
  const prevNode = new Int32Array(E + 1);
  const prevKind = new Int32Array(E + 1);
  const prevTok = new Int32Array(E + 1);
  const sourceV = new Int32Array(E + 1);
  const pathU = new Int32Array(E + 2);
  const pathV = new Int32Array(E + 2);

  while (excess > 0) {
    for (let v = 0; v <= E; v++) balance[v] = imbalance(v);
    dist.fill(Infinity);
    done.fill(0);
    prevNode.fill(-1);
    let sources = 0;
    for (let v = 0; v <= E; v++) if (balance[v]! > 0) { dist[v] = 0; sourceV[sources++] = v; }
    let target: number;
    for (let next = 0; ; ) {
      let u = -1;
      let du = Infinity;
      // the sources first, in any order (all at distance 0, the least possible), then the nearest unsettled node
      if (next < sources) { u = sourceV[next++]!; du = 0; }
      else for (let v = 0; v <= E; v++) if (!done[v] && dist[v]! < du) { du = dist[v]!; u = v; }
      if (u < 0) throw new Error('optimal solver: no path to free capacity (infeasible capacities)');
      done[u] = 1;
      if (balance[u]! < 0) { target = u; break; }
      const pu = pi[u]! + du;
      if (u < E) {
        arcs.ensureRow(u);
        const r = u * E;
        for (let b = 0; b < E; b++) {
          if (done[b]) continue;
          const nd = pu + moveCost[r + b]! - pi[b]!; // Infinity when no token can move
          if (nd < dist[b]!) { dist[b] = nd < du ? du : nd; prevNode[b] = u; prevKind[b] = MOVE; prevTok[b] = moveTok[r + b]!; }
        }
        if (!done[D]) {
          let c = flowE[u]! < C ? 0 : Infinity;
          let kind = SINK;
          if (drops && dropCost[u]! < c) { c = dropCost[u]!; kind = DROP; }
          const nd = pu + c - pi[D]!;
          if (nd < dist[D]!) { dist[D] = nd < du ? du : nd; prevNode[D] = u; prevKind[D] = kind; prevTok[D] = kind === DROP ? dropTok[u]! : -1; }
        }
      } else {
        for (let b = 0; b < E; b++) {
          if (done[b]) continue;
          let c = flowE[b]! > 0 ? 0 : Infinity;
          let kind = UNSINK;
          if (drops && addCost[b]! < c) { c = addCost[b]!; kind = ADD; }
          const nd = pu + c - pi[b]!;
          if (nd < dist[b]!) { dist[b] = nd < du ? du : nd; prevNode[b] = u; prevKind[b] = kind; prevTok[b] = kind === ADD ? addTok[b]! : -1; }
        }
      }
    }
    const dT = dist[target]!;
    for (let v = 0; v <= E; v++) pi[v]! += Math.min(dist[v]!, dT);

    // walk back to the source; several units go at once only along sink-flow arcs
    let n = 0;
    let units = -balance[target]!;
    for (let v = target; prevNode[v]! >= 0; v = prevNode[v]!) {
      const kind = prevKind[v]!;
      units = Math.min(units, kind === SINK ? C - flowE[prevNode[v]!]! : kind === UNSINK ? flowE[v]! : 1);
      pathU[n] = prevNode[v]!;
      pathV[n++] = v;
    }
    units = Math.min(units, balance[pathU[n - 1]!]!);
    // apply from the source end: a token used twice on one path is then always in the state the arc assumed
    for (let i = n - 1; i >= 0; i--) {
      const u = pathU[i]!;
      const v = pathV[i]!;
      const kind = prevKind[v]!;
      const t = prevTok[v]!;
      if (kind === MOVE) moveToken(t, u, v);
      else if (kind === DROP) dropToken(t, u);
      else if (kind === ADD) addToken(t, v);
      else if (kind === SINK) flowE[u]! += units;
      else flowE[v]! -= units;
    }
    excess -= units;
  }
  // the optimal duals as prices for the caller's next warm start: p_e = π_D − π_e (clamped: any p ≥ 0 is valid)
  for (let e = 0; e < E; e++) priceE[e] = Math.max(0, pi[D]! - pi[e]!);
}
