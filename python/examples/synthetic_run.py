"""Writes a synthetic external run with RunWriter: skewed, drifting loads; optionally slowly (a live trainer)."""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loadscope import RunWriter  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--experts", type=int, default=16)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=4096, help="tokens per optimizer step")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between steps (a live trainer)")
    ap.add_argument("--name", default="synthetic external run")
    ap.add_argument("--patterns", type=int, default=0, help="cycle this many pre-drawn steps (fast, for the bench)")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    L, E, k, T = a.layers, a.experts, a.top_k, a.tokens
    # each layer favours a few experts; the favourites drift as the "router" learns
    base = rng.dirichlet(np.full(E, 0.7), size=L)

    def draw(step):
        p = np.roll(base, step // 10, axis=1) * 0.7 + 0.3 / E
        p /= p.sum(axis=1, keepdims=True)
        return np.stack([rng.multinomial(T * k, p[l]) for l in range(L)]).astype(np.float32)

    pre = [draw(10 * i) for i in range(a.patterns)]
    with RunWriter(a.folder, L, E, k, tokens_per_step=T, name=a.name, framework="synthetic") as run:
        for step in range(1, a.steps + 1):
            loads = pre[step % a.patterns] if pre else draw(step)
            run.log_step(step, loads, loss=5.0 / (1 + 0.01 * step))
            if a.interval:
                time.sleep(a.interval)
    print("wrote %d steps to %s" % (a.steps, a.folder), flush=True)


if __name__ == "__main__":
    main()
