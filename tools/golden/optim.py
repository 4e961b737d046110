"""Optimiser trajectories from PyTorch 1.13 (tests/golden/optim.json).

A fixed two-layer network, written functionally so that vigil rebuilds it from the same ops:
    h = x @ fc1.weight + fc1.bias          x [16, 5], fc1.weight [5, 8], fc1.bias [8]
    y = h @ fc2.weight + fc2.bias          fc2.weight [8, 3], fc2.bias [3]
    loss = sum((y - target)^2) / 16
Every case starts from the same weights and data, runs 50 steps of one optimiser configuration (zero_grad,
backward, optional gradient clipping, step) and records each parameter after steps 1, 10, 25 and 50, plus the
loss before those steps and, with norm clipping, the total norm clip_grad_norm_ returned. Each case runs twice:
in float32 ("checkpoints", ...) and in float64 ("checkpoints_float64", ...; the same float32 initial values and
data, widened), so that vigil's float64 path is checked tightly too.

Decoupled weight decay: PyTorch offers it only in AdamW. For the other optimisers the cases emulate it by hand,
exactly as AdamW does internally: before each step, every parameter that has a gradient is multiplied by
(1 - lr * wd) with its group's lr, and the optimiser itself runs with weight_decay=0. Its gradient does not depend
on the decay, so this is the update vigil's WeightDecay::Decoupled makes.

Option names in the JSON are vigil's (beta1/beta2 rather than torch's betas tuple).
"""
import json
import os
import sys

import torch
from common import GOLDEN_DIR, encode

STEPS = 50
CHECKPOINTS = [1, 10, 25, 50]
N = 16

gen = torch.Generator().manual_seed(1234)
X = torch.randn(N, 5, generator=gen)
TARGET = torch.randn(N, 3, generator=gen)
INIT = {
    "fc1.weight": torch.randn(5, 8, generator=gen) * 0.5,
    "fc1.bias": torch.randn(8, generator=gen) * 0.1,
    "fc2.weight": torch.randn(8, 3, generator=gen) * 0.5,
    "fc2.bias": torch.randn(3, generator=gen) * 0.1,
}
PATHS = list(INIT)


def loss_of(p):
    x, target = X.to(p["fc1.weight"].dtype), TARGET.to(p["fc1.weight"].dtype)
    h = x @ p["fc1.weight"] + p["fc1.bias"]
    y = h @ p["fc2.weight"] + p["fc2.bias"]
    d = y - target
    return (d * d).sum() / N


def torch_kwargs(options):
    kw = dict(options)
    if "beta1" in kw or "beta2" in kw:
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    return kw


TORCH_CLASSES = {
    "SGD": torch.optim.SGD,
    "Adagrad": torch.optim.Adagrad,
    "Adadelta": torch.optim.Adadelta,
    "RMSprop": torch.optim.RMSprop,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
}


def trajectory(optimizer, options, decoupled, groups, clip, lr_change, dtype):
    """Runs the 50 steps in dtype; returns (checkpoints, losses, clip norms)."""
    params = {k: v.to(dtype).clone().requires_grad_(True) for k, v in INIT.items()}
    kw = torch_kwargs(options)
    wd = kw.get("weight_decay", 0.0)
    emulate = decoupled and optimizer != "AdamW"
    if emulate:
        kw["weight_decay"] = 0.0
    spec_groups = groups or [{"params": PATHS}]
    torch_groups = []
    for g in spec_groups:
        tg = {"params": [params[p] for p in g["params"]]}
        if "lr" in g:
            tg["lr"] = g["lr"]
        if "weight_decay" in g:
            tg["weight_decay"] = 0.0 if emulate else g["weight_decay"]
        torch_groups.append(tg)
    opt = TORCH_CLASSES[optimizer](torch_groups, **kw)
    group_wd = [g.get("weight_decay", wd) for g in spec_groups]

    checkpoints, losses, norms = {}, [], []
    for step in range(1, STEPS + 1):
        opt.zero_grad(set_to_none=True)
        loss = loss_of(params)
        loss.backward()
        norm = None
        if clip is not None and clip["kind"] == "norm":
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), clip["max_norm"], float(clip["norm_type"]))
        elif clip is not None:
            torch.nn.utils.clip_grad_value_(list(params.values()), clip["value"])
        if emulate:
            with torch.no_grad():
                for tg, gwd in zip(opt.param_groups, group_wd):
                    for p in tg["params"]:
                        if p.grad is not None:
                            p.mul_(1 - tg["lr"] * gwd)
        opt.step()
        if step in CHECKPOINTS:
            checkpoints[str(step)] = {k: encode(v) for k, v in params.items()}
            losses.append(float(loss))
            if norm is not None:
                norms.append(float(norm))
        if lr_change is not None and step == lr_change["after_step"]:
            for tg in opt.param_groups:
                tg["lr"] = lr_change["lr"]
    return checkpoints, losses, norms


def run_case(name, optimizer, options, decoupled=False, groups=None, clip=None, lr_change=None):
    """One configuration, run in float32 and float64.
    decoupled: weight decay by hand (see the module docstring), not for AdamW.
    groups: [{"params": [paths], "lr": ..., "weight_decay": ...}] (missing keys take the options').
    clip: {"kind": "norm", "max_norm": m, "norm_type": q} (q a number or "inf") or {"kind": "value", "value": v}.
    lr_change: {"after_step": k, "lr": new}: set every group's lr to new after step k (as a schedule would)."""
    checkpoints, losses, norms = trajectory(optimizer, options, decoupled, groups, clip, lr_change, torch.float32)
    checkpoints64, losses64, norms64 = trajectory(optimizer, options, decoupled, groups, clip, lr_change,
                                                  torch.float64)
    entry = {
        "name": name,
        "optimizer": optimizer,
        "options": options,
        "weight_decay_kind": "decoupled" if decoupled else "coupled_l2",
        "checkpoints": checkpoints,
        "losses": losses,
        "checkpoints_float64": checkpoints64,
        "losses_float64": losses64,
    }
    if groups is not None:
        entry["groups"] = groups
    if clip is not None:
        entry["clip"] = clip
        if norms:
            entry["clip_norms"] = norms
            entry["clip_norms_float64"] = norms64
    if lr_change is not None:
        entry["lr_change"] = lr_change
    return entry


cases = []
add = lambda *a, **k: cases.append(run_case(*a, **k))

add("sgd_plain", "SGD", {"lr": 0.05})
add("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9})
add("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3})
add("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True})
add("sgd_coupled_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1})
add("sgd_decoupled_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, decoupled=True)

add("adagrad_plain", "Adagrad", {"lr": 0.1})
add("adagrad_lr_decay_wd", "Adagrad",
    {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.05, "initial_accumulator_value": 0.1})
add("adagrad_decoupled_wd", "Adagrad", {"lr": 0.1, "weight_decay": 0.05}, decoupled=True)

add("adadelta_plain", "Adadelta", {"lr": 1.0})
add("adadelta_rho_eps_wd", "Adadelta", {"lr": 1.0, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.05})
add("adadelta_decoupled_wd", "Adadelta", {"lr": 1.0, "weight_decay": 0.05}, decoupled=True)

add("rmsprop_plain", "RMSprop", {"lr": 0.01})
add("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9})
add("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True})
add("rmsprop_centered_momentum", "RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5})
add("rmsprop_coupled_wd", "RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1})
add("rmsprop_decoupled_wd", "RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}, decoupled=True)

add("adam_plain", "Adam", {"lr": 0.01})
add("adam_amsgrad", "Adam", {"lr": 0.01, "amsgrad": True, "beta1": 0.9, "beta2": 0.9})
add("adam_coupled_wd", "Adam", {"lr": 0.01, "weight_decay": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6})
add("adamw_plain", "AdamW", {"lr": 0.01, "weight_decay": 0.1}, decoupled=True)
add("adamw_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "beta1": 0.8, "beta2": 0.99},
    decoupled=True)

add("sgd_groups", "SGD", {"lr": 0.02, "momentum": 0.9},
    groups=[{"params": ["fc1.weight", "fc1.bias"], "lr": 0.1, "weight_decay": 0.01},
            {"params": ["fc2.weight", "fc2.bias"]}])
add("adamw_groups", "AdamW", {"lr": 0.01, "weight_decay": 0.1},
    groups=[{"params": ["fc1.weight", "fc1.bias"], "lr": 0.001, "weight_decay": 0.0},
            {"params": ["fc2.weight", "fc2.bias"]}], decoupled=True)

add("sgd_clip_norm", "SGD", {"lr": 0.05, "momentum": 0.9}, clip={"kind": "norm", "max_norm": 0.5, "norm_type": 2.0})
add("sgd_clip_norm1", "SGD", {"lr": 0.05}, clip={"kind": "norm", "max_norm": 1.0, "norm_type": 1.0})
add("adam_clip_norm_inf", "Adam", {"lr": 0.01},
    clip={"kind": "norm", "max_norm": 0.1, "norm_type": "inf"})
add("adam_clip_value", "Adam", {"lr": 0.01}, clip={"kind": "value", "value": 0.05})

add("sgd_lr_change", "SGD", {"lr": 0.05, "momentum": 0.9}, lr_change={"after_step": 25, "lr": 0.01})
add("adam_lr_change", "Adam", {"lr": 0.01}, lr_change={"after_step": 25, "lr": 0.002})

doc = {
    "family": "optim",
    "torch": torch.__version__,
    "steps": STEPS,
    "network": {"x": encode(X), "target": encode(TARGET), "params": {k: encode(v) for k, v in INIT.items()},
                "order": PATHS},
    "cases": cases,
}
path = os.path.join(GOLDEN_DIR, "optim.json")
with open(path, "w") as f:
    json.dump(doc, f, separators=(",", ":"))
print(f"{path}: {len(cases)} cases", file=sys.stderr)
