// Per-step balance metrics beyond MaxVio (docs/strategies.md "Metrics"): normalised load entropy, idle experts,
// drop rate, gate mass, plain top-k demand. Pure functions on plain arrays; the engine, store and UI share them.
//
// Shape legend: T tokens, E experts, K = top-k slots per token; scoresTE row-major [T*E]; idxTK [T*K]; loadE per expert.

/** An expert is dead when its routed load was zero in each of the last DEAD_WINDOW steps (or all steps so far, if fewer). */
export const DEAD_WINDOW = 20;

/** H(p)/ln E with p_e = load_e / Σ load: 1 = every expert the same load, 0 = one expert takes all (or no load). */
export function normalizedEntropy(loadE: ArrayLike<number>): number {
  const n = loadE.length;
  let total = 0;
  for (let e = 0; e < n; e++) total += loadE[e]!;
  if (!(total > 0) || n < 2) return n === 1 && total > 0 ? 1 : 0;
  let h = 0;
  for (let e = 0; e < n; e++) {
    const p = loadE[e]! / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(n);
}

/** Experts with zero load. */
export function idleExperts(loadE: ArrayLike<number>): number {
  let n = 0;
  for (let e = 0; e < loadE.length; e++) if (loadE[e] === 0) n++;
  return n;
}

/** dropped (token, slot) pairs ÷ k·T: the share of the slots that reached no expert. */
export function dropRate(dropped: number, topK: number, tokens: number): number {
  return topK * tokens > 0 ? dropped / (topK * tokens) : 0;
}

/** m_e = (1/T) Σ_t s_{t,e}: the mean gate score (router probability for softmax) each expert receives. */
export function gateMass(scoresTE: ArrayLike<number>, tokens: number, experts: number): Float32Array {
  const acc = new Float64Array(experts);
  for (let t = 0; t < tokens; t++) for (let e = 0; e < experts; e++) acc[e]! += scoresTE[t * experts + e]!;
  const out = new Float32Array(experts);
  if (tokens > 0) for (let e = 0; e < experts; e++) out[e] = acc[e]! / tokens;
  return out;
}

/** Plain top-k of each token's scores (deterministic; ties keep the first found), row-major [T*K]. */
export function plainTopK(scoresTE: ArrayLike<number>, tokens: number, experts: number, topK: number): Int32Array {
  const out = new Int32Array(tokens * topK);
  const order = new Int32Array(experts);
  for (let t = 0; t < tokens; t++) {
    const row = t * experts;
    for (let e = 0; e < experts; e++) order[e] = e;
    // partial selection sort: k is small
    for (let j = 0; j < topK; j++) {
      let best = j;
      for (let i = j + 1; i < experts; i++) if (scoresTE[row + order[i]!]! > scoresTE[row + order[best]!]!) best = i;
      const tmp = order[j]!;
      order[j] = order[best]!;
      order[best] = tmp;
      out[t * topK + j] = order[j]!;
    }
  }
  return out;
}

/** Assignments per expert of every slot (no slot is dropped in a demand). */
export function demandLoads(demandTK: ArrayLike<number>, experts: number): Float32Array {
  const loadE = new Float32Array(experts);
  for (let i = 0; i < demandTK.length; i++) loadE[demandTK[i]!]!++;
  return loadE;
}
