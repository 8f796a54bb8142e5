// Independent references for the exact routing solver: brute force (tiny) and a textbook min-cost flow on the full graph.

/** Best Σ s·x over every 0/1 matrix with rows ≤ k (= k when fill) and columns ≤ C. Only for T·E ≤ ~16. */
export function bruteForce(s: ArrayLike<number>, T: number, E: number, k: number, C: number, fill = false): number {
  let best = -Infinity;
  const n = T * E;
  for (let mask = 0; mask < 1 << n; mask++) {
    let ok = true;
    let value = 0;
    for (let t = 0; t < T && ok; t++) {
      let row = 0;
      for (let e = 0; e < E; e++) if (mask & (1 << (t * E + e))) { row++; value += s[t * E + e]!; }
      ok = fill ? row === k : row <= k;
    }
    for (let e = 0; e < E && ok; e++) {
      let col = 0;
      for (let t = 0; t < T; t++) if (mask & (1 << (t * E + e))) col++;
      ok = col <= C;
    }
    if (ok && value > best) best = value;
  }
  return best;
}

/**
 * Successive shortest paths with Bellman-Ford on source → token (cap k) → expert (cap 1, cost −s) → sink (cap C).
 * Without fill it stops when the cheapest path no longer lowers the cost (rows ≤ k); with fill it sends all k·T units.
 * Returns the optimum and the 0/1 assignment.
 */
export function minCostFlow(s: ArrayLike<number>, T: number, E: number, k: number, C: number, fill = false): { objective: number; x: Uint8Array } {
  const V = T + E + 2;
  const src = T + E;
  const sink = T + E + 1;
  const to: number[] = [];
  const cap: number[] = [];
  const cost: number[] = [];
  const adj: number[][] = Array.from({ length: V }, () => []);
  const add = (u: number, v: number, c: number, w: number) => {
    adj[u]!.push(to.length); to.push(v); cap.push(c); cost.push(w);
    adj[v]!.push(to.length); to.push(u); cap.push(0); cost.push(-w);
  };
  for (let t = 0; t < T; t++) add(src, t, k, 0);
  const pairEdge = new Int32Array(T * E);
  for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) { pairEdge[t * E + e] = to.length; add(t, T + e, 1, -s[t * E + e]!); }
  for (let e = 0; e < E; e++) add(T + e, sink, C, 0);
  let objective = 0;
  for (;;) {
    const dist = new Float64Array(V).fill(Infinity);
    const prevEdge = new Int32Array(V).fill(-1);
    dist[src] = 0;
    for (let round = 0, changed = true; changed && round < V; round++) {
      changed = false;
      for (let u = 0; u < V; u++) {
        if (dist[u] === Infinity) continue;
        for (const id of adj[u]!) {
          if (cap[id]! > 0 && dist[u]! + cost[id]! < dist[to[id]!]! - 1e-12) { dist[to[id]!] = dist[u]! + cost[id]!; prevEdge[to[id]!] = id; changed = true; }
        }
      }
    }
    if (dist[sink] === Infinity) break;
    if (!fill && dist[sink]! >= 0) break;
    for (let v = sink; v !== src; v = to[prevEdge[v]! ^ 1]!) { cap[prevEdge[v]!]!--; cap[prevEdge[v]! ^ 1]!++; }
    objective -= dist[sink]!;
  }
  const x = new Uint8Array(T * E);
  for (let i = 0; i < T * E; i++) x[i] = cap[pairEdge[i]!] === 0 ? 1 : 0;
  return { objective, x };
}

/**
 * The LP dual objective at expert prices p: C·Σp + Σ_t (sum of the k largest s_te − p_e, each clamped at 0 for
 * "≤ k" rows). It is ≥ every feasible objective and equals the optimum exactly when p is an optimal dual.
 */
export function dualObjective(s: ArrayLike<number>, T: number, E: number, k: number, C: number, p: ArrayLike<number>, fill: boolean): number {
  let total = 0;
  for (let e = 0; e < E; e++) total += C * p[e]!;
  const v = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) v[e] = s[t * E + e]! - p[e]!;
    v.sort().reverse();
    for (let i = 0; i < k; i++) total += fill ? v[i]! : Math.max(0, v[i]!);
  }
  return total;
}
