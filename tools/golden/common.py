"""Shared helpers for the scripts that write vigil's PyTorch reference values (tests/golden/*.json).

Each script builds cases with Golden.case(): inputs, the op applied by PyTorch 1.13, a random upstream gradient,
and the gradients of every input that requires one. Run with Debian's interpreter, which has torch:
    /usr/bin/python3 tools/golden/<family>.py        (or tools/golden/all.sh for every family)
Values are float32 written with full precision; the C++ side (tests/support/golden.cpp) reads them back.

Input layouts, to exercise non-contiguous views:
    "contiguous"  the tensor as given
    "transposed"  stored contiguous with its last two dims swapped, then viewed with transpose(-1, -2)
"""
import json
import os
import sys

import torch

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden")


def encode(t):
    t = t.detach()
    values = t.contiguous().reshape(-1).tolist()
    if t.dtype == torch.float32:  # 9 significant digits identify a float32 exactly
        values = [float(f"{v:.9g}") for v in values]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": values}


class Input:
    """An op input: a tensor, whether it requires a gradient, and the layout it is presented in."""

    def __init__(self, tensor, requires_grad=True, layout="contiguous"):
        self.tensor, self.requires_grad, self.layout = tensor, requires_grad, layout

    def build(self):
        """Returns the tensor PyTorch computes with; its .grad (kept even for a view) is the golden gradient."""
        wants_grad = self.requires_grad and self.tensor.dtype.is_floating_point
        if self.layout == "transposed":
            base = self.tensor.detach().transpose(-1, -2).contiguous().requires_grad_(wants_grad)
            x = base.transpose(-1, -2)
            if wants_grad:
                x.retain_grad()
            return x
        return self.tensor.detach().clone().requires_grad_(wants_grad)

    def encode(self):
        entry = encode(self.tensor)
        entry["layout"] = self.layout
        entry["requires_grad"] = bool(self.requires_grad and self.tensor.dtype.is_floating_point)
        return entry


class Golden:
    def __init__(self, family, seed=0):
        self.family = family
        self.cases = []
        self.gen = torch.Generator().manual_seed(seed)

    def randn(self, *shape, scale=1.0):
        return torch.randn(*shape, generator=self.gen) * scale

    def rand(self, *shape, low=0.0, high=1.0):
        return torch.rand(*shape, generator=self.gen) * (high - low) + low

    def randint(self, low, high, *shape):
        return torch.randint(low, high, shape, generator=self.gen)

    def case(self, name, fn, inputs, params=None, backward=True):
        """Records fn(*inputs) and, when backward, the gradients for a random upstream gradient."""
        inputs = [i if isinstance(i, Input) else Input(i) for i in inputs]
        xs = [i.build() for i in inputs]
        out = fn(*xs)
        entry = {"name": name, "params": params or {}, "inputs": [i.encode() for i in inputs], "output": encode(out)}
        if backward and out.requires_grad:
            g = torch.randn(out.shape, generator=self.gen)
            out.backward(g)
            entry["grad_output"] = encode(g)
            grads = []
            for inp, x in zip(inputs, xs):
                grads.append(encode(x.grad) if inp.requires_grad and x.grad is not None else None)
            entry["grads"] = grads
        self.cases.append(entry)

    def save(self):
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        path = os.path.join(GOLDEN_DIR, f"{self.family}.json")
        with open(path, "w") as f:
            json.dump({"family": self.family, "torch": torch.__version__, "cases": self.cases}, f, separators=(",", ":"))
        print(f"{path}: {len(self.cases)} cases", file=sys.stderr)
