"""loadscope.torch hooks on real PyTorch modules: a 50-step training run, and stand-ins shaped like the frameworks' routers."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

try:
    import torch
except ImportError:  # the Node runner (scripts/test-python.mjs) picks a Python with torch; plain runs may lack it
    torch = None

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from test_writer import read_loads  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@unittest.skipIf(torch is None, "torch is not installed in this Python (apt-get install python3-torch)")
class TinyTraining(unittest.TestCase):
    def test_50_steps_generic_hook_loads_equal_an_independent_count(self):
        with tempfile.TemporaryDirectory() as tmp:
            run, expected = os.path.join(tmp, "tiny"), os.path.join(tmp, "expected.json")
            subprocess.run([sys.executable, os.path.join(HERE, "..", "examples", "tiny_moe.py"), run, "--steps", "50",
                            "--expected", expected], check=True)
            exp = np.array(json.load(open(expected)))
            header, rows = read_loads(run)
            self.assertEqual([s for s, _ in rows], list(range(1, 51)))
            np.testing.assert_array_equal(np.stack([r for _, r in rows]), exp)
            # every step: 2 micro-batches × 32 tokens × top-2 slots per layer
            self.assertTrue((exp.sum(axis=2) == 128).all())
            self.assertEqual(header[4], 2 * 32 * 2 / 8)


if torch is not None:
    from loadscope.torch import LoadCounter, count_router_logits, hook_deepspeed, hook_hf_model, hook_megatron

    class TopKRouter(torch.nn.Module):
        """Stand-in with Megatron-Core's TopKRouter output: (probs [tokens, E], routing_map bool [tokens, E])."""

        def __init__(self, dim, experts, k):
            super().__init__()
            self.w = torch.nn.Linear(dim, experts)
            self.k = k

        def forward(self, x):
            logits = self.w(x)
            idx = torch.topk(logits, self.k, dim=-1).indices
            routing_map = torch.zeros_like(logits, dtype=torch.bool).scatter(1, idx, True)
            return logits.softmax(-1) * routing_map, routing_map

    class TopKGate(torch.nn.Module):
        """Stand-in with DeepSpeed's TopKGate output: (l_aux, combine_weights, dispatch_mask, exp_counts)."""

        def __init__(self, counts):
            super().__init__()
            self.counts = counts

        def forward(self, x):
            return torch.tensor(0.0), None, None, self.counts

    class HFBlock(torch.nn.Module):
        """Mixtral-style sparse block: `gate` is the router's nn.Linear, the model routes top-k of its logits."""

        def __init__(self, dim, experts):
            super().__init__()
            self.gate = torch.nn.Linear(dim, experts, bias=False)

        def forward(self, x):
            return self.gate(x)


def _dp_worker(rank, world, init_file, folder):
    """One data-parallel rank: counts its own tokens; flush sums over ranks and rank 0 writes."""
    import torch.distributed as dist
    from loadscope import RunWriter
    from loadscope.torch import LoadCounter
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world)
    counter = LoadCounter(1, 4)
    run = RunWriter(folder, 1, 4, 1, tokens_per_step=6, name="dp") if rank == 0 else None
    for step in (1, 2):
        # rank 0 routes its 3 tokens to experts [0, 0, 1], rank 1 to [step, 3, 3]
        counter.add_indices(0, torch.tensor([0, 0, 1]) if rank == 0 else torch.tensor([step, 3, 3]))
        counter.flush(run, step)
    if run:
        run.close()
    dist.destroy_process_group()


@unittest.skipIf(torch is None, "torch is not installed in this Python (apt-get install python3-torch)")
class DataParallel(unittest.TestCase):
    def test_two_gloo_ranks_are_summed_and_only_rank_0_writes(self):
        import torch.multiprocessing as mp
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "dp")
            mp.spawn(_dp_worker, args=(2, os.path.join(tmp, "init"), folder), nprocs=2, join=True)
            _, rows = read_loads(folder)
            self.assertEqual([s for s, _ in rows], [1, 2])
            np.testing.assert_array_equal(rows[0][1], [[2, 2, 0, 2]])
            np.testing.assert_array_equal(rows[1][1], [[2, 1, 1, 2]])


@unittest.skipIf(torch is None, "torch is not installed in this Python (apt-get install python3-torch)")
class FrameworkHooks(unittest.TestCase):
    def test_megatron_routing_map_is_summed_over_tokens_and_micro_batches(self):
        torch.manual_seed(1)
        model = torch.nn.Sequential(TopKRouter(4, 6, 2), TopKRouter(4, 6, 2))
        c = LoadCounter(2, 6)
        hook_megatron(model, c)
        want = np.zeros((2, 6))
        for _ in range(3):  # three micro-batches of one step
            x = torch.randn(10, 4)
            for l, r in enumerate(model):
                _, rm = r(x)
                want[l] += rm.sum(0).numpy()
        np.testing.assert_array_equal(c.step_loads(), want)
        self.assertEqual(want.sum(), 3 * 10 * 2 * 2)
        np.testing.assert_array_equal(c.counts.numpy(), np.zeros((2, 6)))  # reset for the next step

    def test_deepspeed_exp_counts_are_added(self):
        model = torch.nn.ModuleList([TopKGate(torch.tensor([3, 0, 1, 4])), TopKGate(torch.tensor([2, 2, 2, 2]))])
        c = LoadCounter(2, 4)
        hook_deepspeed(model, c)
        for g in model:
            g(torch.zeros(1))
            g(torch.zeros(1))
        np.testing.assert_array_equal(c.step_loads(), [[6, 0, 2, 8], [4, 4, 4, 4]])

    def test_hf_gate_hook_matches_output_router_logits(self):
        torch.manual_seed(2)
        model = torch.nn.ModuleList([HFBlock(8, 4), HFBlock(8, 4), HFBlock(8, 4)])
        hooked, from_logits = LoadCounter(3, 4), LoadCounter(3, 4)
        hook_hf_model(model, hooked, top_k=2)
        x = torch.randn(20, 8)
        logits = [b(x) for b in model]  # what output_router_logits=True returns, one per layer
        count_router_logits(from_logits, logits, top_k=2)
        a, b = hooked.step_loads(), from_logits.step_loads()
        np.testing.assert_array_equal(a, b)
        self.assertTrue((a.sum(axis=1) == 40).all())

    def test_wrong_layer_count_is_one_clear_error(self):
        with self.assertRaisesRegex(ValueError, "found 1 TopKRouter modules, the counter has 2 layers"):
            hook_megatron(torch.nn.Sequential(TopKRouter(4, 6, 2)), LoadCounter(2, 6))


if __name__ == "__main__":
    unittest.main()
