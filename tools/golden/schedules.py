"""Golden learning-rate sequences for vigil::optim schedules (tests/golden/schedules.json).

Each case drives one torch.optim.lr_scheduler on a dummy SGD optimiser the way a training loop does: the rate
after construction is the rate of step 0, and each scheduler.step() advances to the next step, so rates[k] is the
rate the optimiser uses for its step k. For ReduceLROnPlateau, rates[k] is the rate after step(metrics[k]).
Rates are Python floats (doubles) and are written as such.

Format: {"family": "schedules", "torch": version, "cases": [{"name", "schedule", "params", "rates"[, "metrics"]}]}
where "schedule" names the vigil class and "params" holds its constructor arguments under torch's keyword names
(plus base_lr, the optimiser's rate; SequentialSchedule's hold the warm-up's and the cosine's).
Run with Debian's interpreter, which has torch:  /usr/bin/python3 tools/golden/schedules.py
"""
import json
import math
import os
import sys
import warnings

import torch
from torch.optim import lr_scheduler as sched

from common import GOLDEN_DIR

# SequentialLR restarts its next scheduler with step(0), which torch flags as the deprecated epoch argument.
warnings.filterwarnings("ignore", message="The epoch parameter")

STEPS = 100
cases = []


def optimiser(base_lr):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr, momentum=0.9)


def lr_of(opt):
    return opt.param_groups[0]["lr"]


def record(name, schedule, params, make, steps=STEPS):
    """Runs make(optimiser) for `steps` optimiser steps and records the rate each step uses."""
    opt = optimiser(params.get("base_lr", 0.1))
    scheduler = make(opt)
    rates = []
    for step in range(steps):
        if step > 0:
            opt.step()
            scheduler.step()
        rates.append(lr_of(opt))
    cases.append({"name": name, "schedule": schedule, "params": params, "rates": rates})
    return rates


def closed_form_agrees(rates, scheduler_type, params_for_torch, base_lr):
    """torch's chainable step() is recursive; check it against the scheduler's own closed form (the form vigil
    implements) so a drift in the recursion would show up here rather than as a puzzling C++ failure."""
    opt = optimiser(base_lr)
    scheduler = scheduler_type(opt, **params_for_torch)
    for step, rate in enumerate(rates):
        scheduler.last_epoch = step
        closed = scheduler._get_closed_form_lr()[0]
        assert math.isclose(closed, rate, rel_tol=1e-9, abs_tol=1e-15), (scheduler_type.__name__, step, closed, rate)


def simple(name, schedule, scheduler_type, base_lr, **kwargs):
    params = {"base_lr": base_lr, **kwargs}
    rates = record(name, schedule, params, lambda opt: scheduler_type(opt, **kwargs))
    closed_form_agrees(rates, scheduler_type, kwargs, base_lr)


# Constant (torch's ConstantLR: `factor` until `total_iters`, then the base rate).
simple("constant_plain", "ConstantLR", sched.ConstantLR, 0.05, factor=1.0, total_iters=0)
simple("constant_torch_defaults", "ConstantLR", sched.ConstantLR, 0.1, factor=1.0 / 3, total_iters=5)
simple("constant_half_40", "ConstantLR", sched.ConstantLR, 0.3, factor=0.5, total_iters=40)

simple("step_10_half", "StepLR", sched.StepLR, 0.1, step_size=10, gamma=0.5)
simple("step_7_tenth", "StepLR", sched.StepLR, 1.0, step_size=7, gamma=0.1)
simple("step_1_growth", "StepLR", sched.StepLR, 1e-3, step_size=1, gamma=1.03)

simple("multistep_30_80", "MultiStepLR", sched.MultiStepLR, 0.05, milestones=[30, 80], gamma=0.1)
simple("multistep_repeated", "MultiStepLR", sched.MultiStepLR, 0.2, milestones=[0, 13, 13, 50, 99], gamma=0.5)

simple("exponential_95", "ExponentialLR", sched.ExponentialLR, 0.1, gamma=0.95)
simple("exponential_999", "ExponentialLR", sched.ExponentialLR, 3e-4, gamma=0.999)

# CosineAnnealingLR past t_max: the closed form keeps following the cosine (back up towards base_lr).
simple("cosine_100", "CosineAnnealingLR", sched.CosineAnnealingLR, 0.1, T_max=100, eta_min=0.0)
simple("cosine_30_eta", "CosineAnnealingLR", sched.CosineAnnealingLR, 0.1, T_max=30, eta_min=0.001)
simple("cosine_7", "CosineAnnealingLR", sched.CosineAnnealingLR, 1.0, T_max=7, eta_min=0.0)


def warm_restarts(name, base_lr, t_0, t_mult, eta_min):
    record(name, "CosineAnnealingWarmRestarts", {"base_lr": base_lr, "T_0": t_0, "T_mult": t_mult, "eta_min": eta_min},
           lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=t_0, T_mult=t_mult, eta_min=eta_min), steps=120)


warm_restarts("restarts_10_1", 0.1, 10, 1, 0.0)
warm_restarts("restarts_5_2", 0.1, 5, 2, 1e-4)
warm_restarts("restarts_3_3", 0.5, 3, 3, 0.0)
warm_restarts("restarts_1_2", 0.05, 1, 2, 0.0)

simple("linear_warmup_5", "LinearWarmup", sched.LinearLR, 0.1, start_factor=1.0 / 3, end_factor=1.0, total_iters=5)
simple("linear_warmup_40", "LinearWarmup", sched.LinearLR, 0.4, start_factor=0.01, end_factor=1.0, total_iters=40)
simple("linear_decay", "LinearWarmup", sched.LinearLR, 0.2, start_factor=1.0, end_factor=0.05, total_iters=60)


def one_cycle(name, max_lr, total_steps, steps, **kwargs):
    params = {"max_lr": max_lr, "total_steps": total_steps, **kwargs}
    record(name, "OneCycleLR", params,
           lambda opt: sched.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps, **kwargs), steps=steps)


one_cycle("onecycle_cos", 0.1, 100, 100)
one_cycle("onecycle_linear", 0.1, 100, 100, anneal_strategy="linear")
one_cycle("onecycle_cos_three_phase", 0.5, 97, 97, pct_start=0.25, three_phase=True)
one_cycle("onecycle_linear_three_phase", 0.5, 80, 80, anneal_strategy="linear", three_phase=True, div_factor=10.0,
          final_div_factor=100.0)
# total_steps + 1 rates: torch allows the step counter to reach total_steps (the rate after the last step).
one_cycle("onecycle_short_to_end", 1.0, 60, 61, pct_start=0.4, div_factor=5.0, final_div_factor=50.0)


def sequential(name, base_lr, warmup_iters, start_factor, t_max, eta_min):
    params = {"base_lr": base_lr,
              "warmup": {"start_factor": start_factor, "end_factor": 1.0, "total_iters": warmup_iters},
              "cosine": {"T_max": t_max, "eta_min": eta_min}, "milestones": [warmup_iters]}

    def make(opt):
        warmup = sched.LinearLR(opt, start_factor=start_factor, end_factor=1.0, total_iters=warmup_iters)
        cosine = sched.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
        return sched.SequentialLR(opt, schedulers=[warmup, cosine], milestones=[warmup_iters])

    record(name, "SequentialSchedule", params, make)


sequential("warmup_then_cosine", 0.1, 10, 0.1, 90, 0.0)
sequential("warmup_then_cosine_eta", 0.3, 25, 0.01, 60, 1e-3)


def plateau(name, base_lr, metrics, **kwargs):
    params = {"base_lr": base_lr, **kwargs}
    opt = optimiser(base_lr)
    scheduler = sched.ReduceLROnPlateau(opt, **kwargs)
    rates = []
    for m in metrics:
        scheduler.step(m)
        rates.append(lr_of(opt))
    cases.append({"name": name, "schedule": "ReduceOnPlateau", "params": params, "metrics": metrics, "rates": rates})


# A loss-like sequence: improves, plateaus (with sub-threshold wiggles), improves again, plateaus for long.
loss = []
value = 2.0
for i in range(100):
    if i < 20 or 45 <= i < 55:
        value *= 0.93
    elif i % 7 == 3:
        value *= 0.99995  # an "improvement" below the default relative threshold of 1e-4
    loss.append(round(value + 0.01 * ((i * 37) % 5 == 0), 9))
accuracy = [round(1.0 - v / 2.5, 9) for v in loss]

plateau("plateau_min_defaults", 0.1, loss, mode="min")
plateau("plateau_min_patience_cooldown", 0.1, loss, mode="min", factor=0.5, patience=3, cooldown=4)
plateau("plateau_min_abs", 0.2, loss, mode="min", factor=0.3, patience=2, threshold=0.01, threshold_mode="abs",
        cooldown=1, min_lr=0.002)
plateau("plateau_max_rel", 0.1, accuracy, mode="max", factor=0.5, patience=4, threshold=1e-3, cooldown=2)
plateau("plateau_max_abs_min_lr", 0.05, accuracy, mode="max", factor=0.2, patience=1, threshold=0.0,
        threshold_mode="abs", min_lr=1e-4)
plateau("plateau_eps", 1e-6, loss, mode="min", factor=0.5, patience=0, eps=1e-7)

os.makedirs(GOLDEN_DIR, exist_ok=True)
path = os.path.join(GOLDEN_DIR, "schedules.json")
with open(path, "w") as f:
    json.dump({"family": "schedules", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
print(f"{path}: {len(cases)} cases", file=sys.stderr)
