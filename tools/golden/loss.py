"""Golden values for the nn losses (tests/golden/loss.json).

params: "loss" names the function, "reduction" is mean / sum / none (kl_div also batchmean); the other keys are
that loss's options. Class labels and class weights are inputs that require no gradient.
"""
import torch
import torch.nn.functional as F
from common import Golden, Input

g = Golden("loss")
r = g.randn


def fixed(t):
    return Input(t, requires_grad=False)


REDUCTIONS = ["mean", "sum", "none"]

# Cross-entropy from logits with class indices: every option alone and combined, odd sizes, a transposed input.
labels = g.randint(0, 7, 9)
labels_ignored = labels.clone()
labels_ignored[[1, 4, 5]] = -100
labels_custom_ignore = labels.clone()
labels_custom_ignore[[0, 8]] = 3
weight = g.rand(7, low=0.2, high=2.0)
for red in REDUCTIONS:
    for ls in [0.0, 0.1]:
        for use_weight in [False, True]:
            for ignore in [False, True]:
                y = labels_ignored if ignore else labels
                inputs = [r(9, 7, scale=2.0), fixed(y)] + ([fixed(weight)] if use_weight else [])
                name = f"ce_{red}_ls{ls}" + ("_weight" if use_weight else "") + ("_ignore" if ignore else "")
                g.case(name, lambda x, t, w=None, red=red, ls=ls: F.cross_entropy(
                    x, t, weight=w, reduction=red, label_smoothing=ls), inputs,
                       {"loss": "cross_entropy", "reduction": red, "label_smoothing": ls})
g.case("ce_custom_ignore_index", lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=3, label_smoothing=0.2),
       [r(9, 7), fixed(labels_custom_ignore), fixed(weight)],
       {"loss": "cross_entropy", "reduction": "mean", "label_smoothing": 0.2, "ignore_index": 3})
g.case("ce_transposed", lambda x, t: F.cross_entropy(x, t),
       [Input(r(5, 3), layout="transposed"), fixed(g.randint(0, 3, 5))], {"loss": "cross_entropy", "reduction": "mean"})
g.case("ce_extreme_logits", lambda x, t: F.cross_entropy(x, t, reduction="none"),
       [torch.tensor([[80.0, -80.0, 0.0], [-60.0, 60.0, 59.0], [1e-3, 0.0, -1e-3]]), fixed(torch.tensor([1, 2, 0]))],
       {"loss": "cross_entropy", "reduction": "none"})
# Spatial: [N, C, d1, d2] logits with [N, d1, d2] labels.
spatial = g.randint(0, 5, 2, 3, 4)
spatial[0, 1, 2] = -100
for red in REDUCTIONS:
    g.case(f"ce_spatial_{red}", lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=0.05),
           [r(2, 5, 3, 4), fixed(spatial), fixed(g.rand(5, low=0.5, high=1.5))],
           {"loss": "cross_entropy", "reduction": red, "label_smoothing": 0.05})
# Unbatched: [C] logits with a 0-d label or [C] probabilities.
for red in ["mean", "none"]:
    g.case(f"ce_unbatched_{red}", lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=0.1),
           [r(6), fixed(torch.tensor(4)), fixed(g.rand(6, low=0.5, high=1.5))],
           {"loss": "cross_entropy", "reduction": red, "label_smoothing": 0.1})
    g.case(f"ce_unbatched_soft_{red}", lambda x, t, red=red: F.cross_entropy(x, t, reduction=red),
           [r(6), torch.softmax(r(6), 0)], {"loss": "cross_entropy", "reduction": red})
    g.case(f"nll_unbatched_{red}", lambda x, t, red=red: F.nll_loss(x, t, reduction=red),
           [torch.log_softmax(r(6), 0), fixed(torch.tensor(2))], {"loss": "nll_loss", "reduction": red})
# Soft targets (mixup): probabilities, with weight and smoothing.
soft = torch.softmax(r(6, 5), dim=1)
for red in REDUCTIONS:
    g.case(f"ce_soft_{red}", lambda x, t, red=red: F.cross_entropy(x, t, reduction=red), [r(6, 5), soft.clone()],
           {"loss": "cross_entropy", "reduction": red})
    g.case(f"ce_soft_weight_ls_{red}", lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=0.1),
           [r(6, 5), soft.clone(), fixed(g.rand(5, low=0.5, high=1.5))],
           {"loss": "cross_entropy", "reduction": red, "label_smoothing": 0.1})
g.case("ce_soft_spatial", lambda x, t: F.cross_entropy(x, t, reduction="none"),
       [r(2, 4, 3), torch.softmax(r(2, 4, 3), dim=1)], {"loss": "cross_entropy", "reduction": "none"})

# NLL on log-probabilities.
for red in REDUCTIONS:
    g.case(f"nll_{red}", lambda x, t, red=red: F.nll_loss(x, t, reduction=red),
           [torch.log_softmax(r(9, 7), 1), fixed(labels_ignored)], {"loss": "nll_loss", "reduction": red})
    g.case(f"nll_weight_{red}", lambda x, t, w, red=red: F.nll_loss(x, t, weight=w, reduction=red),
           [torch.log_softmax(r(9, 7), 1), fixed(labels_ignored), fixed(weight)], {"loss": "nll_loss", "reduction": red})
g.case("nll_spatial", lambda x, t: F.nll_loss(x, t), [torch.log_softmax(r(2, 5, 3, 4), 1), fixed(spatial)],
       {"loss": "nll_loss", "reduction": "mean"})

# Binary cross-entropy on probabilities and on logits.
for red in REDUCTIONS:
    g.case(f"bce_{red}", lambda p, t, red=red: F.binary_cross_entropy(p, t, reduction=red),
           [g.rand(4, 5, low=0.05, high=0.95), g.rand(4, 5)], {"loss": "binary_cross_entropy", "reduction": red})
    g.case(f"bce_weight_{red}", lambda p, t, w, red=red: F.binary_cross_entropy(p, t, weight=w, reduction=red),
           [g.rand(4, 5, low=0.05, high=0.95), (g.rand(4, 5) > 0.5).float(), fixed(g.rand(5, low=0.5, high=2.0))],
           {"loss": "binary_cross_entropy", "reduction": red})
    g.case(f"bce_logits_{red}", lambda x, t, red=red: F.binary_cross_entropy_with_logits(x, t, reduction=red),
           [r(4, 5, scale=3.0), g.rand(4, 5)], {"loss": "binary_cross_entropy_with_logits", "reduction": red})
    g.case(f"bce_logits_pos_weight_{red}",
           lambda x, t, w, pw, red=red: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=red),
           [r(4, 5, scale=3.0), (g.rand(4, 5) > 0.5).float(), fixed(g.rand(4, 1, low=0.5, high=2.0)),
            fixed(g.rand(5, low=0.5, high=3.0))],
           {"loss": "binary_cross_entropy_with_logits", "reduction": red, "weight": True, "pos_weight": True})
g.case("bce_logits_extreme", lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
       [torch.tensor([-200.0, -30.0, -1e-4, 0.0, 25.0, 200.0]), torch.tensor([1.0, 0.0, 1.0, 0.5, 1.0, 0.0])],
       {"loss": "binary_cross_entropy_with_logits", "reduction": "none"})
g.case("bce_logits_transposed", lambda x, t: F.binary_cross_entropy_with_logits(x, t),
       [Input(r(5, 3), layout="transposed"), g.rand(5, 3)], {"loss": "binary_cross_entropy_with_logits", "reduction": "mean"})

# Regression losses.
for red in REDUCTIONS:
    g.case(f"mse_{red}", lambda a, b, red=red: F.mse_loss(a, b, reduction=red), [r(3, 7), r(3, 7)],
           {"loss": "mse_loss", "reduction": red})
    g.case(f"l1_{red}", lambda a, b, red=red: F.l1_loss(a, b, reduction=red), [r(3, 7), r(3, 7)],
           {"loss": "l1_loss", "reduction": red})
    for delta in [1.0, 0.3]:
        g.case(f"huber_{red}_{delta}", lambda a, b, red=red, delta=delta: F.huber_loss(a, b, reduction=red, delta=delta),
               [r(3, 7, scale=2.0), r(3, 7)], {"loss": "huber_loss", "reduction": red, "delta": delta})
    for beta in [1.0, 0.5, 0.0]:
        g.case(f"smooth_l1_{red}_{beta}", lambda a, b, red=red, beta=beta: F.smooth_l1_loss(a, b, reduction=red, beta=beta),
               [r(3, 7, scale=2.0), r(3, 7)], {"loss": "smooth_l1_loss", "reduction": red, "beta": beta})
g.case("mse_transposed", F.mse_loss, [Input(r(6, 4), layout="transposed"), r(6, 4)], {"loss": "mse_loss", "reduction": "mean"})
g.case("l1_transposed", F.l1_loss, [Input(r(6, 4), layout="transposed"), r(6, 4)], {"loss": "l1_loss", "reduction": "mean"})

# KL divergence: probabilities (with exact zeros, which need no gradient) and log-probabilities as targets.
for red in REDUCTIONS + ["batchmean"]:
    g.case(f"kl_{red}", lambda x, t, red=red: F.kl_div(x, t, reduction=red),
           [torch.log_softmax(r(4, 6), 1), torch.softmax(r(4, 6), 1)], {"loss": "kl_div", "reduction": red})
    g.case(f"kl_log_target_{red}", lambda x, t, red=red: F.kl_div(x, t, reduction=red, log_target=True),
           [torch.log_softmax(r(4, 6), 1), torch.log_softmax(r(4, 6), 1)],
           {"loss": "kl_div", "reduction": red, "log_target": True})
g.case("kl_zero_targets", lambda x, t: F.kl_div(x, t, reduction="batchmean"),
       [torch.log_softmax(r(3, 4), 1), fixed(torch.tensor([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25] * 4]))],
       {"loss": "kl_div", "reduction": "batchmean"})
g.save()
