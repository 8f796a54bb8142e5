#!/usr/bin/env python3
"""PyTorch eager reference trainer of Loadscope's CPU presets (same model, same work); prints one JSON line.

The model is the one in src/main/engine/model (shapes: ../shared/spec/performance.md): byte embedding tied to
the output head, learned positions, pre-norm RMSNorm, causal multi-head attention with one fused QKV matrix,
every FFN an MoE layer of SwiGLU experts behind a softmax router with plain top-k (Loadscope's `none`
strategy) and gates renormalised over the k chosen, tokens dispatched sparsely (each expert runs only on the
rows routed to it, then a gate-weighted scatter-add), mean next-byte cross-entropy, AdamW (β 0.9/0.95,
decay on matrices only) with global-norm clipping at 1. One thread, as the bench compares single-core work.

Usage: torch_reference.py --preset tiny|small [--steps N] [--warmup N] [--seed N]
Output: {"preset", "tokensPerSec", "stepMs", "steps", "losses", "params", "threads", "torch"}
"""
import argparse
import json
import math
import sys
import time

PRESETS = {
    # ctx, d_model, heads, layers, experts, top-k, expert hidden, batch (seqs): performance.md
    "tiny": dict(ctx=64, d=64, heads=4, layers=2, experts=8, k=2, hidden=128, batch=8),
    "small": dict(ctx=128, d=128, heads=4, layers=4, experts=16, k=2, hidden=256, batch=16),
}
VOCAB = 256
EPS = 1e-5


def build(torch, p):
    """Parameters as a dict of leaf tensors, initialised like ParamStore (normal with the same stds)."""
    d, E, h, L = p["d"], p["experts"], p["hidden"], p["layers"]

    def normal(*shape, std):
        return (torch.randn(*shape) * std).requires_grad_()

    def ones(n):
        return torch.ones(n).requires_grad_()

    w = {"wte": normal(VOCAB, d, std=0.02), "wpe": normal(p["ctx"], d, std=0.01)}
    for i in range(L):
        w[f"b{i}.norm1"] = ones(d)
        w[f"b{i}.wqkv"] = normal(d, 3 * d, std=0.02)
        w[f"b{i}.wo"] = normal(d, d, std=0.02 / math.sqrt(2 * L))
        w[f"b{i}.norm2"] = ones(d)
        w[f"b{i}.router"] = normal(d, E, std=0.02)
        w[f"b{i}.w1"] = normal(E, d, h, std=0.02)
        w[f"b{i}.w3"] = normal(E, d, h, std=0.02)
        w[f"b{i}.w2"] = normal(E, h, d, std=0.02 / math.sqrt(2 * L))
    w["normF"] = ones(d)
    return w


def rmsnorm(torch, x, g):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g


def moe(torch, x, w, i, p):
    """Router → top-k → renormalised gates → per-expert SwiGLU on its rows → gate-weighted scatter-add."""
    F = torch.nn.functional
    T = x.shape[0]
    E, K = p["experts"], p["k"]
    scores = torch.softmax(x @ w[f"b{i}.router"], dim=-1)
    top = torch.topk(scores.detach(), K, dim=-1).indices  # selection is outside the gradient, as in Loadscope
    gates = scores.gather(1, top)
    gates = gates / (gates.sum(-1, keepdim=True) + 1e-9)
    flat = top.reshape(-1)
    order = torch.argsort(flat, stable=True)  # rows grouped by expert, token order inside an expert
    tok = order // K
    counts = torch.bincount(flat, minlength=E).tolist()
    rows = x[tok]
    outs = []
    start = 0
    for e in range(E):
        n = counts[e]
        if n == 0:
            continue
        xe = rows[start : start + n]
        outs.append((F.silu(xe @ w[f"b{i}.w1"][e]) * (xe @ w[f"b{i}.w3"][e])) @ w[f"b{i}.w2"][e])
        start += n
    y = torch.cat(outs, 0) * gates.reshape(-1)[order].unsqueeze(1)
    return torch.zeros(T, x.shape[1]).index_add(0, tok, y)


def forward_loss(torch, w, p, inputs, targets, mask):
    B, S = inputs.shape
    d, H = p["d"], p["heads"]
    hd = d // H
    x = (w["wte"][inputs] + w["wpe"][:S]).reshape(B * S, d)
    for i in range(p["layers"]):
        a = rmsnorm(torch, x, w[f"b{i}.norm1"])
        qkv = (a @ w[f"b{i}.wqkv"]).reshape(B, S, 3 * H, hd).transpose(1, 2)
        q, k, v = qkv.split(H, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(hd)) + mask, dim=-1)
        x = x + (att @ v).transpose(1, 2).reshape(B * S, d) @ w[f"b{i}.wo"]
        x = x + moe(torch, rmsnorm(torch, x, w[f"b{i}.norm2"]), w, i, p)
    logits = rmsnorm(torch, x, w["normF"]) @ w["wte"].t()
    return torch.nn.functional.cross_entropy(logits, targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0:
        print("torch_reference.py: --steps must be ≥ 1 and --warmup ≥ 0", file=sys.stderr)
        sys.exit(2)
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]
    w = build(torch, p)
    matrices = [t for t in w.values() if t.dim() >= 2]
    vectors = [t for t in w.values() if t.dim() < 2]
    # decay on matrices only, as Loadscope's AdamW (the expert stacks are matrices there too)
    opt = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": 0.01}, {"params": vectors, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
    )
    S, B = p["ctx"], p["batch"]
    mask = torch.full((S, S), -1e9).triu(1)
    # windows of a repeated English sentence at random offsets: the work per step does not depend on the
    # text, but a learnable one lets the quick test see the loss fall
    text = torch.tensor(list(b"the quick brown fox jumps over the lazy dog; " * 400), dtype=torch.long)
    starts = torch.randint(0, len(text) - S - 1, (args.warmup + args.steps, B))
    data = torch.stack([torch.stack([text[o : o + S + 1] for o in row]) for row in starts.tolist()])
    losses, times = [], []
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        batch = data[step]
        loss = forward_loss(torch, w, p, batch[:, :-1], batch[:, 1:], mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        value = loss.item()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
            losses.append(value)
    step_s = sorted(times)[len(times) // 2]
    print(json.dumps({
        "preset": args.preset,
        "tokensPerSec": B * S / step_s,
        "stepMs": step_s * 1000,
        "steps": args.steps,
        "losses": losses,
        "params": sum(t.numel() for t in w.values()),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
