// Lowers the priced experts' start prices by one common amount so "≤ k" rows keep as many slots on them as they hold.
//
// Shape legend: T tokens, E experts, K = top-k slots per token, C places per expert.
//   scoresTE  gate scores [T*E]     priceE  start price per expert (≥ 0), changed in place
//
// Why: "≤ k" rows with room for every slot are priced by the auction as "= k" rows (optimal.ts), whose prices are
// fixed only up to a common shift; moved so the cheapest is 0, the priced experts are left with empty places where
// the "≤ k" optimum keeps those slots at slightly lower prices (measured, skewed 4096×16 k=8: 859 units for the
// repair, the optimal prices lie 0.0008–0.0011 below). Lowering all priced experts by λ raises every token's values
// on them by λ, unpriced ones stay: the dual Σ_t top-k⁺(s − q) + C·Σ q along that line is convex in λ with slope
// C·|priced| − (slots on priced experts), so λ is the point where those slots fill the priced experts' places.
// For one token with priced values a_1 ≥ a_2 ≥ … and unpriced u_1 ≥ u_2 ≥ … it holds j priced slots once
// a_j + λ > max(0, u_{k−j+1}): the breakpoints λ_j = max(0, u_{k−j+1}) − a_j rise with j, so the priced load at
// λ counts the breakpoints below it, and λ is a quantile of all tokens' breakpoints. Only a start: any p ≥ 0 is valid.
import { splitAt } from './auction';

/** Lowers every positive price by the λ ≥ 0 (below the smallest positive price) at which priced experts fill; returns λ. */
export function lowerPricedShift(s: Float32Array | Float64Array, T: number, E: number, k: number, C: number, priceE: Float64Array): number {
  let priced = 0;
  let cap = Infinity;
  for (let e = 0; e < E; e++) {
    if (priceE[e]! > 0) {
      priced++;
      cap = Math.min(cap, priceE[e]!);
    }
  }
  if (priced === 0 || priced === E) return 0;
  const a = new Float64Array(k); // the token's best priced values s − q, descending
  const u = new Float64Array(k); // its best unpriced ones (positive only), descending
  const breaksB = new Float64Array(T * k);
  let nb = 0;
  let load = 0;
  for (let t = 0; t < T; t++) {
    const row = t * E;
    let na = 0;
    let nu = 0;
    for (let e = 0; e < E; e++) {
      const v = s[row + e]! - priceE[e]!;
      if (priceE[e]! > 0) na = insert(a, na, k, v);
      else if (v > 0) nu = insert(u, nu, k, v);
    }
    for (let j = 1; j <= na; j++) {
      const i = k - j; // u_{k−j+1}, 0-based
      const lam = (i < nu ? u[i]! : 0) - a[j - 1]!;
      if (lam < 0) load++;
      else if (lam < cap) breaksB[nb++] = lam;
      else break; // breakpoints rise with j
    }
  }
  const deficit = C * priced - load;
  if (deficit <= 0) return 0;
  // exactly `deficit` more slots: between the deficit-th and the next smallest breakpoint (negated for splitAt)
  let lam: number;
  if (deficit >= nb) lam = cap;
  else {
    for (let i = 0; i < nb; i++) breaksB[i] = -breaksB[i]!;
    lam = Math.min(cap, -splitAt(breaksB, nb, deficit));
  }
  for (let e = 0; e < E; e++) if (priceE[e]! > 0) priceE[e] = Math.max(0, priceE[e]! - lam);
  return lam;
}

/** insertion of v into the descending list xs[0..n) kept to `max` entries; returns the new length */
function insert(xs: Float64Array, n: number, max: number, v: number): number {
  if (n === max && !(v > xs[max - 1]!)) return n;
  let i = n < max ? n++ : max - 1;
  while (i > 0 && v > xs[i - 1]!) {
    xs[i] = xs[i - 1]!;
    i--;
  }
  xs[i] = v;
  return n;
}
