#!/usr/bin/env python3
"""Reference for the exact routing solver: the same LP solved by scipy's HiGHS (dual simplex); prints one JSON line.

The routing BIP (balancing.md §1.2): maximise Σ s_te·x_te subject to Σ_e x_te ≤ k per token (= k with --fill),
Σ_t x_te ≤ C per expert, 0 ≤ x ≤ 1. Its constraint matrix is that of a bipartite transportation problem
(totally unimodular), so the LP optimum is the integer optimum and its objective is comparable exactly.
Only the linprog call is timed (matrix assembly excluded), median over --reps.

Usage: highs.py SCORES.f32 T E K C [--fill] [--reps N]   (SCORES: T·E little-endian float32, row-major)
Output: {"objective", "ms", "status", "scipy"}
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scores")
    ap.add_argument("T", type=int)
    ap.add_argument("E", type=int)
    ap.add_argument("K", type=int)
    ap.add_argument("C", type=int)
    ap.add_argument("--fill", action="store_true")
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    import numpy as np
    import scipy
    import scipy.sparse as sp
    from scipy.optimize import linprog

    s = np.fromfile(a.scores, dtype="<f4").astype(np.float64)
    if s.size != a.T * a.E:
        print(f"highs.py: {a.scores} holds {s.size} scores, expected {a.T}×{a.E}", file=sys.stderr)
        sys.exit(2)
    n = a.T * a.E
    cols = np.arange(n)
    token_rows = sp.csr_matrix((np.ones(n), (cols // a.E, cols)), shape=(a.T, n))
    expert_rows = sp.csr_matrix((np.ones(n), (cols % a.E, cols)), shape=(a.E, n))
    if a.fill:
        kw = dict(A_ub=expert_rows, b_ub=np.full(a.E, a.C), A_eq=token_rows, b_eq=np.full(a.T, a.K))
    else:
        kw = dict(A_ub=sp.vstack([token_rows, expert_rows]).tocsr(), b_ub=np.concatenate([np.full(a.T, a.K), np.full(a.E, a.C)]))
    times, res = [], None
    for _ in range(max(1, a.reps)):
        t0 = time.perf_counter()
        res = linprog(-s, bounds=(0, 1), method="highs-ds", **kw)
        times.append(time.perf_counter() - t0)
    if res.status != 0:
        print(f"highs.py: HiGHS did not solve the LP ({res.message})", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"objective": -res.fun, "ms": sorted(times)[len(times) // 2] * 1000, "status": res.status, "scipy": scipy.__version__}))


if __name__ == "__main__":
    main()
