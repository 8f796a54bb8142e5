"""PyTorch hooks that count expert loads of a live MoE model and feed a RunWriter (docs/trainers.md)."""
import torch
import torch.distributed as dist


class LoadCounter:
    """
    Token-slot assignments per (layer, expert), summed over every forward pass since the last flush: the
    micro-batches of one optimizer step. flush() sums over data-parallel ranks and rank 0 writes.
    """

    def __init__(self, layers, experts, device="cpu", group=None):
        """group: the process group whose ranks see different tokens (Megatron: the data-parallel group); default: all."""
        self.layers, self.experts = layers, experts
        self.group = group
        self.counts = torch.zeros(layers, experts, dtype=torch.float64, device=device)
        self.handles = []
        self.enabled = True

    def add_indices(self, layer, indices):
        """indices: any shape of chosen expert ids (e.g. [tokens, k])."""
        if not self.enabled:
            return
        idx = indices.detach().reshape(-1).to(torch.long)
        self.counts[layer] += torch.bincount(idx, minlength=self.experts)[: self.experts].to(self.counts)

    def add_counts(self, layer, counts):
        """counts: [experts] assignments already counted (DeepSpeed's exp_counts, a routing map summed over tokens)."""
        if self.enabled:
            self.counts[layer] += counts.detach().reshape(-1).to(self.counts)

    def step_loads(self):
        """This step's loads summed over ranks (a collective: every rank calls it), then reset to zero."""
        total = self.counts.clone()
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(total, op=dist.ReduceOp.SUM, group=self.group)
        self.counts.zero_()
        return total.cpu().numpy()

    def flush(self, writer, step, **scalars):
        """End of an optimizer step: every rank calls this; rank 0 (or the only process) writes the step."""
        loads = self.step_loads()
        if writer is not None and (not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0):
            writer.log_step(step, loads, **scalars)
        return loads

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []


def generic_hook(module, layer, counter, indices_of):
    """Count after every forward of `module`: indices_of(module, inputs, output) returns the chosen expert ids."""
    def hook(mod, inputs, output):
        counter.add_indices(layer, indices_of(mod, inputs, output))
    h = module.register_forward_hook(hook)
    counter.handles.append(h)
    return h


def count_router_logits(counter, router_logits, top_k):
    """From a Hugging Face forward with output_router_logits=True: one [tokens, experts] tensor per MoE layer."""
    for layer, logits in enumerate(router_logits):
        counter.add_indices(layer, torch.topk(logits, top_k, dim=-1).indices)


def hf_gate_modules(model, experts):
    """The router linear layers of Mixtral / Qwen-MoE / OLMoE style models, in layer order."""
    gates = []
    for name, mod in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "gate" and isinstance(mod, torch.nn.Linear) and mod.out_features == experts:
            gates.append(mod)
    return gates


def hook_hf_model(model, counter, top_k):
    """Forward hooks on every router gate: top-k over its logits, as the model itself routes."""
    gates = hf_gate_modules(model, counter.experts)
    if len(gates) != counter.layers:
        raise ValueError("found %d router gates with %d outputs, the counter has %d layers" % (len(gates), counter.experts, counter.layers))
    for layer, gate in enumerate(gates):
        generic_hook(gate, layer, counter, lambda m, i, out: torch.topk(out, top_k, dim=-1).indices)
    return gates


def _megatron_counts(counter, layer, output):
    # Megatron-Core's TopKRouter returns (probs, routing_map): routing_map is a bool [tokens, experts]
    # (before capacity dropping); older versions return (scores, indices [tokens, k])
    second = output[1]
    if second.dtype == torch.bool:
        counter.add_counts(layer, second.sum(dim=0))
    else:
        counter.add_indices(layer, second)


def hook_megatron(model, counter):
    """Forward hooks on every Megatron-Core TopKRouter in the model, in module order."""
    routers = [m for _, m in model.named_modules() if type(m).__name__ == "TopKRouter"]
    if len(routers) != counter.layers:
        raise ValueError("found %d TopKRouter modules, the counter has %d layers" % (len(routers), counter.layers))
    for layer, r in enumerate(routers):
        h = r.register_forward_hook(lambda m, i, out, layer=layer: _megatron_counts(counter, layer, out))
        counter.handles.append(h)
    return routers


def hook_deepspeed(model, counter):
    """Forward hooks on every DeepSpeed TopKGate: its 4th output, exp_counts, is the per-expert count."""
    gates = [m for _, m in model.named_modules() if type(m).__name__ == "TopKGate"]
    if len(gates) != counter.layers:
        raise ValueError("found %d TopKGate modules, the counter has %d layers" % (len(gates), counter.layers))
    for layer, g in enumerate(gates):
        h = g.register_forward_hook(lambda m, i, out, layer=layer: counter.add_counts(layer, out[3]))
        counter.handles.append(h)
    return gates
