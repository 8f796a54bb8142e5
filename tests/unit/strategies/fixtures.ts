// Seeded score batches for the strategy and solver tests (numpy's default_rng is not available in JS).

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function softmaxRows(z: Float64Array, T: number, E: number): Float64Array {
  const s = new Float64Array(T * E);
  for (let t = 0; t < T; t++) {
    let m = -Infinity;
    for (let e = 0; e < E; e++) m = Math.max(m, z[t * E + e]!);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += (s[t * E + e] = Math.exp(z[t * E + e]! - m));
    for (let e = 0; e < E; e++) s[t * E + e]! /= sum;
  }
  return s;
}

/** softmax(z + skew·b), z ~ N(0,1) per (token, expert), b ~ N(0,1) per expert (like balancing.md §5.3 A/B). */
export function seededScores(T: number, E: number, skew: number, seed: number): Float64Array {
  const g = gaussian(prng(seed));
  const biasE = Array.from({ length: E }, () => g() * skew);
  const z = new Float64Array(T * E);
  for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) z[t * E + e] = g() + biasE[e]!;
  return softmaxRows(z, T, E);
}

/**
 * A skewed, slowly drifting router (balancing.md §5.4): tokens x ~ N(0, I_d), logits = x·W + b with a per-expert
 * skew b ~ N(0, skew²) that drifts by a small random walk each step; scores = softmax(logits).
 */
export function driftingSequence(steps: number, T: number, E: number, opts: { skew: number; drift: number; seed: number; d?: number }): Float64Array[] {
  const d = opts.d ?? 8;
  const g = gaussian(prng(opts.seed));
  const W = Float64Array.from({ length: d * E }, () => g() / Math.sqrt(d));
  const b = Float64Array.from({ length: E }, () => g() * opts.skew);
  const out: Float64Array[] = [];
  for (let s = 0; s < steps; s++) {
    const z = new Float64Array(T * E);
    for (let t = 0; t < T; t++) {
      const x = Array.from({ length: d }, g);
      for (let e = 0; e < E; e++) {
        let v = b[e]!;
        for (let j = 0; j < d; j++) v += x[j]! * W[j * E + e]!;
        z[t * E + e] = v;
      }
    }
    out.push(softmaxRows(z, T, E));
    for (let e = 0; e < E; e++) b[e]! += g() * opts.drift;
  }
  return out;
}
