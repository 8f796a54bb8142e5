// Exact per-batch routing optimum (the BIP of balancing.md §1.2): max Σ s·x, ≤ k experts per token, ≤ C tokens per expert.
//
// Shape legend: T tokens, E experts, K = top-k slots per token.
//   scoresTE  gate scores, row-major [T*E]     idxTK/keepTK  chosen expert per (token, slot) and 1 = routed
//   loadE     tokens per expert                 onTE          1 = token t currently sits on expert e
//
// Why it is exact and fast (docs/strategies.md has the long form): the problem is a min-cost flow
// source → token (cap k) → expert (cap 1, cost −s) → sink (cap C). Start from every token's top-k of its
// positive scores: optimal if capacities are ignored, and no residual cycle has negative cost. Overloaded
// experts hold "excess" units; successive shortest paths push each unit to a node D (the merged
// sink/source) along the cheapest chain of moves. Paths only need the E expert nodes: moving a token t
// from expert a to expert b costs s_ta − s_tb, and the cheapest such token for every (a, b) sits on top
// of a lazy priority queue; a → D means a has spare capacity (cost 0) or drops one of its tokens (cost
// s_ta, allowed unless `fill`). Dijkstra with Johnson potentials over E + 1 nodes, one unit per path.
import { MinHeap } from './heap';


export interface OptimalSolution {
  /** Σ of the selected scores (float64) */
  objective: number;
  idxTK: Int32Array;
  keepTK: Uint8Array;
  loadE: Int32Array;
}

export interface SolveOptions {
  /** every token takes exactly k experts (rows "= k"); default: at most k, as in the BIP */
  fill?: boolean;
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

  const onTE = new Uint8Array(T * E);
  const loadE = new Int32Array(E);
  initialTopK(scoresTE, T, E, k, fill, onTE, loadE);

  const excessE = new Int32Array(E);
  let excess = 0;
  for (let e = 0; e < E; e++) {
    excessE[e] = Math.max(0, loadE[e]! - capacity);
    excess += excessE[e]!;
  }
  if (excess > 0) {
    const moves = buildMoveHeaps(scoresTE, T, E, onTE, loadE);
    const drops = fill ? null : buildDropHeaps(scoresTE, T, E, onTE, loadE);
    resolveExcess(scoresTE, E, capacity, onTE, loadE, excessE, excess, moves, drops);
  }
  return extract(scoresTE, T, E, k, onTE, loadE);
}

/** Each token's top-k (only positive scores unless `fill`): the optimum without expert capacities. */
function initialTopK(s: Float32Array | Float64Array, T: number, E: number, k: number, fill: boolean, onTE: Uint8Array, loadE: Int32Array): void {
  const best = new Int32Array(k);
  const v0 = new Float64Array(k); // s − q of the kept best, descending
  for (let t = 0; t < T; t++) {
    const row = t * E;
    let n = 0;
    for (let e = 0; e < E; e++) {
      const v = s[row + e]!;
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

/** moves[a*E+b]: tokens on a and not on b, keyed by the cost s_ta − s_tb of moving them. */
function buildMoveHeaps(s: Float32Array | Float64Array, T: number, E: number, onTE: Uint8Array, loadE: Int32Array): MinHeap[] {
  const moves: MinHeap[] = [];
  for (let a = 0; a < E; a++) for (let b = 0; b < E; b++) moves.push(new MinHeap(a === b ? 1 : loadE[a]! + (loadE[a]! >> 1) + 16));
  for (let t = 0; t < T; t++) {
    const row = t * E;
    for (let a = 0; a < E; a++) {
      if (!onTE[row + a]) continue;
      const sa = s[row + a]!;
      for (let b = 0; b < E; b++) if (!onTE[row + b]) moves[a * E + b]!.append(sa - s[row + b]!, t);
    }
  }
  for (const h of moves) h.heapify();
  return moves;
}

/** drops[a]: tokens on a keyed by s_ta, the cost of leaving that slot empty. */
function buildDropHeaps(s: Float32Array | Float64Array, T: number, E: number, onTE: Uint8Array, loadE: Int32Array): MinHeap[] {
  const drops = Array.from({ length: E }, (_, a) => new MinHeap(loadE[a]! + 4));
  for (let t = 0; t < T; t++) for (let a = 0; a < E; a++) if (onTE[t * E + a]) drops[a]!.append(s[t * E + a]!, t);
  for (const h of drops) h.heapify();
  return drops;
}

function resolveExcess(
  s: Float32Array | Float64Array,
  E: number,
  C: number,
  onTE: Uint8Array,
  loadE: Int32Array,
  excessE: Int32Array,
  excess: number,
  moves: MinHeap[],
  drops: MinHeap[] | null,
): void {
  const D = E;
  const pi = new Float64Array(E + 1); // Johnson potentials: reduced cost c + pi[u] − pi[v] ≥ 0 (all 0 at the top-k start)
  const dist = new Float64Array(E + 1);
  const done = new Uint8Array(E + 1);
  const prevNode = new Int32Array(E + 1);
  const prevToken = new Int32Array(E + 1);
  // cached cheapest valid move per (a, b) and drop per a, so Dijkstra reads plain arrays
  const moveCost = new Float64Array(E * E).fill(Infinity);
  const moveTok = new Int32Array(E * E).fill(-1);
  const dropCost = new Float64Array(E).fill(Infinity);
  const dropTok = new Int32Array(E).fill(-1);

  // lazy deletion: an entry is stale when its token left a or already sits on b
  const refreshMove = (a: number, b: number): void => {
    const i = a * E + b;
    const h = moves[i]!;
    while (h.size > 0) {
      const t = h.vals[0]!;
      if (onTE[t * E + a] && !onTE[t * E + b]) {
        moveCost[i] = h.keys[0]!;
        moveTok[i] = t;
        return;
      }
      h.pop();
    }
    moveCost[i] = Infinity;
    moveTok[i] = -1;
  };
  const refreshDrop = (a: number): void => {
    const h = drops![a]!;
    while (h.size > 0) {
      const t = h.vals[0]!;
      if (onTE[t * E + a]) {
        dropCost[a] = h.keys[0]!;
        dropTok[a] = t;
        return;
      }
      h.pop();
    }
    dropCost[a] = Infinity;
    dropTok[a] = -1;
  };
  for (let a = 0; a < E; a++) {
    for (let b = 0; b < E; b++) if (a !== b) refreshMove(a, b);
    if (drops) refreshDrop(a);
  }

  while (excess > 0) {
    dist.fill(Infinity);
    done.fill(0);
    prevNode.fill(-1);
    for (let e = 0; e < E; e++) if (excessE[e]! > 0) dist[e] = 0;
    for (;;) {
      let u = -1;
      let du = Infinity;
      for (let v = 0; v <= E; v++) if (!done[v] && dist[v]! < du) { du = dist[v]!; u = v; }
      if (u < 0) throw new Error('optimal solver: no path to free capacity (infeasible capacities)');
      done[u] = 1;
      if (u === D) break;
      const pu = pi[u]! + du;
      const row = u * E;
      for (let b = 0; b < E; b++) {
        if (done[b]) continue;
        const nd = pu + moveCost[row + b]! - pi[b]!; // Infinity when no token can move
        if (nd < dist[b]!) { dist[b] = nd < du ? du : nd; prevNode[b] = u; prevToken[b] = moveTok[row + b]!; }
      }
      const spare = loadE[u]! < C;
      const nd = pu + (spare ? 0 : dropCost[u]!) - pi[D]!;
      if (nd < dist[D]!) { dist[D] = nd < du ? du : nd; prevNode[D] = u; prevToken[D] = spare ? -1 : dropTok[u]!; }
    }
    const dD = dist[D]!;
    for (let v = 0; v <= E; v++) pi[v]! += Math.min(dist[v]!, dD);

    // apply the path walking back from D; its tokens are distinct or their experts disjoint, so order is free
    let v = prevNode[D]!;
    if (prevToken[D]! >= 0) dropToken(prevToken[D]!, v); // else: v's spare capacity absorbs the unit
    while (prevNode[v]! >= 0) {
      const u = prevNode[v]!;
      moveToken(prevToken[v]!, u, v);
      v = u;
    }
    excessE[v]!--;
    excess--;
  }

  function dropToken(t: number, a: number): void {
    onTE[t * E + a] = 0;
    loadE[a]!--;
    leave(t, a);
  }
  function moveToken(t: number, a: number, b: number): void {
    const row = t * E;
    onTE[row + a] = 0;
    onTE[row + b] = 1;
    loadE[a]!--;
    loadE[b]!++;
    const sb = s[row + b]!;
    const sa = s[row + a]!;
    for (let c = 0; c < E; c++) {
      if (onTE[row + c]) {
        if (c !== b) offer(c * E + a, s[row + c]! - sa, t);
      } else offer(b * E + c, sb - s[row + c]!, t);
    }
    if (drops) {
      drops[b]!.push(sb, t);
      if (sb < dropCost[b]!) { dropCost[b] = sb; dropTok[b] = t; }
    }
    leave(t, a);
    // queues (c, b) whose cheapest token was t are stale now that t sits on b
    for (let c = 0; c < E; c++) if (c !== b && moveTok[c * E + b] === t) refreshMove(c, b);
  }
  /** push a new valid entry and keep the cached top in step */
  function offer(i: number, key: number, t: number): void {
    moves[i]!.push(key, t);
    if (key < moveCost[i]!) { moveCost[i] = key; moveTok[i] = t; }
  }
  /** token t left a: the queues (a, c) and a's drop queue whose cheapest token was t are stale */
  function leave(t: number, a: number): void {
    for (let c = 0; c < E; c++) if (c !== a && moveTok[a * E + c] === t) refreshMove(a, c);
    if (drops && dropTok[a] === t) refreshDrop(a);
  }
}

/** Kept experts of each token by descending score, then the best unused experts as empty (keep = 0) slots. */
function extract(s: Float32Array | Float64Array, T: number, E: number, k: number, onTE: Uint8Array, loadE: Int32Array): OptimalSolution {
  const idxTK = new Int32Array(T * k);
  const keepTK = new Uint8Array(T * k);
  const used = new Uint8Array(E);
  let objective = 0;
  for (let t = 0; t < T; t++) {
    const row = t * E;
    used.fill(0);
    for (let r = 0; r < k; r++) {
      let best = -1;
      let bestOn = 0;
      for (let e = 0; e < E; e++) {
        if (used[e]) continue;
        const on = onTE[row + e]!;
        if (best < 0 || on > bestOn || (on === bestOn && s[row + e]! > s[row + best]!)) { best = e; bestOn = on; }
      }
      used[best] = 1;
      idxTK[t * k + r] = best;
      keepTK[t * k + r] = bestOn;
      if (bestOn) objective += s[row + best]!;
    }
  }
  return { objective, idxTK, keepTK, loadE };
}
