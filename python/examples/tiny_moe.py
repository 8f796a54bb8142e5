"""A tiny PyTorch MoE trained with the generic hook: writes a Loadscope run and an independent count of its routing."""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loadscope import RunWriter  # noqa: E402
from loadscope.torch import LoadCounter, generic_hook  # noqa: E402


class Router(torch.nn.Module):
    def __init__(self, dim, experts, k):
        super().__init__()
        self.proj = torch.nn.Linear(dim, experts, bias=False)
        self.k = k

    def forward(self, x):
        logits = self.proj(x)
        weights, idx = torch.topk(logits.softmax(-1), self.k, dim=-1)
        return weights, idx


class MoE(torch.nn.Module):
    def __init__(self, dim, experts, k):
        super().__init__()
        self.router = Router(dim, experts, k)
        self.experts = torch.nn.ModuleList(torch.nn.Linear(dim, dim) for _ in range(experts))
        self.chosen = []  # the model's own record of its routing (what the test compares the hook with)

    def forward(self, x):
        w, idx = self.router(x)
        self.chosen.append(idx.detach().clone())
        out = torch.zeros_like(x)
        for slot in range(idx.shape[1]):
            for e, expert in enumerate(self.experts):
                m = idx[:, slot] == e
                if m.any():
                    out[m] += w[m, slot : slot + 1] * expert(x[m])
        return x + out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--micro", type=int, default=2, help="gradient-accumulation micro-batches per step")
    ap.add_argument("--tokens", type=int, default=32, help="tokens per micro-batch")
    ap.add_argument("--expected", help="write the independent count of router choices here (JSON)")
    a = ap.parse_args()
    torch.manual_seed(0)
    dim = 16
    layers = torch.nn.ModuleList(MoE(dim, a.experts, a.top_k) for _ in range(a.layers))
    head = torch.nn.Linear(dim, 1)
    opt = torch.optim.SGD(list(layers.parameters()) + list(head.parameters()), lr=0.05)
    counter = LoadCounter(a.layers, a.experts)
    for l, moe in enumerate(layers):
        generic_hook(moe.router, l, counter, lambda m, inputs, out: out[1])
    expected = []
    with RunWriter(a.folder, a.layers, a.experts, a.top_k, tokens_per_step=a.micro * a.tokens, name="tiny torch MoE",
                   config={"model": {"dim": dim}}) as run:
        for step in range(1, a.steps + 1):
            opt.zero_grad()
            total = 0.0
            for _ in range(a.micro):
                x = torch.randn(a.tokens, dim)
                h = x
                for moe in layers:
                    h = moe(h)
                loss = ((head(h) - x.sum(-1, keepdim=True)) ** 2).mean() / a.micro
                loss.backward()
                total += loss.item()
            opt.step()
            # independent count: numpy over what the model itself recorded, not the hook's counter
            count = np.zeros((a.layers, a.experts))
            for l, moe in enumerate(layers):
                for idx in moe.chosen:
                    np.add.at(count[l], idx.numpy().reshape(-1), 1)
                moe.chosen.clear()
            expected.append(count.tolist())
            counter.flush(run, step, loss=total)
    if a.expected:
        with open(a.expected, "w") as f:
            json.dump(expected, f)


if __name__ == "__main__":
    main()
