// Expert prices q of an optimal assignment (the LP dual of balancing.md §1.2), so `optimal` can route validation causally.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE row-major [T*E]; idxTK/keepTK the optimum.
// Why: validating `optimal` with each validation batch's own optimum lets routing see the whole batch (future tokens
// included). Instead validation routes by top-k of s − q with q frozen from the last training batch's optimum, the
// same causal rule bip/quantile use. The q here are exact duals of that optimum: in the residual network of the
// optimal flow (collapsed to E expert nodes + one source/sink node D, docs/strategies.md) there is no negative cycle,
// so shortest-path distances d from D exist; q_e = −d_e satisfies complementary slackness:
//   moving t from a to b (cost s_ta − s_tb)  ⇒ s_ta − q_a ≥ s_tb − q_b   (chosen experts rank first by s − q)
//   an expert with spare room (arc a → D, cost 0) ⇒ q_a ≤ 0;  one with load (arc D → a, cost 0) ⇒ q_a ≥ 0
//   dropping t's slot on a (arc a → D, cost s_ta) ⇒ s_ta − q_a ≥ 0;  adding b to a token with a free slot ⇒ s_tb − q_b ≤ 0
// Distances from D are the smallest such prices, in the spirit of the (k+1)-th-largest convention of dual.ts.

/** Exact dual expert prices (≥ 0, 0 on experts below capacity) of an optimal "≤ k, ≤ C" assignment. */
export function optimalPrices(scoresTE: ArrayLike<number>, T: number, E: number, k: number, C: number, idxTK: Int32Array, keepTK: Uint8Array): Float64Array {
  const onTE = new Uint8Array(T * E);
  const loadE = new Int32Array(E);
  const countT = new Int32Array(T);
  for (let i = 0; i < T * k; i++) {
    if (!keepTK[i]) continue;
    const t = Math.floor(i / k);
    onTE[t * E + idxTK[i]!] = 1;
    loadE[idxTK[i]!]!++;
    countT[t]!++;
  }
  const D = E;
  const N = E + 1;
  // cost[u * N + v]: the cheapest residual arc u → v (Infinity = none)
  const cost = new Float64Array(N * N).fill(Infinity);
  const offer = (u: number, v: number, c: number) => {
    if (c < cost[u * N + v]!) cost[u * N + v] = c;
  };
  for (let e = 0; e < E; e++) {
    if (loadE[e]! < C) offer(e, D, 0);
    if (loadE[e]! > 0) offer(D, e, 0);
  }
  for (let t = 0; t < T; t++) {
    const row = t * E;
    const free = countT[t]! < k;
    for (let a = 0; a < E; a++) {
      if (!onTE[row + a]) {
        if (free) offer(D, a, -scoresTE[row + a]!);
        continue;
      }
      offer(a, D, scoresTE[row + a]!);
      for (let b = 0; b < E; b++) if (!onTE[row + b]) offer(a, b, scoresTE[row + a]! - scoresTE[row + b]!);
    }
  }
  // Bellman-Ford from D over N nodes (no negative cycle at an optimum; N − 1 passes suffice)
  const dist = new Float64Array(N).fill(Infinity);
  dist[D] = 0;
  for (let pass = 0; pass < N - 1; pass++) {
    let changed = false;
    for (let u = 0; u < N; u++) {
      if (dist[u] === Infinity) continue;
      for (let v = 0; v < N; v++) {
        const c = cost[u * N + v]!;
        if (c !== Infinity && dist[u]! + c < dist[v]! - 1e-12) {
          dist[v] = dist[u]! + c;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  // an expert D cannot reach has no load and no token with a free slot: price 0 routes it like the optimum did
  const qE = new Float64Array(E);
  for (let e = 0; e < E; e++) qE[e] = dist[e] === Infinity ? 0 : Math.max(0, -dist[e]!);
  return qE;
}
