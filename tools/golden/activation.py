"""Golden values for activation functions (torch.nn.functional) and maxout (tests/golden/activation.json)."""
import torch
import torch.nn.functional as F
from common import Golden, Input

g = Golden("activation")
r = g.randn

# Large magnitudes (where naive sigmoid/softplus/mish overflow), exact zeros (relu'(0) = 0, leaky_relu'(0) = slope,
# elu'(0) = alpha) and values just around 0.
extreme = torch.tensor([-1e4, -30.0, -1.0, -1e-7, 0.0, 0.0, 1e-7, 1.0, 30.0, 1e4])

# case name: (vigil op, its parameters, the PyTorch function)
ops = {
    "relu": ("relu", {}, F.relu),
    "leaky_relu": ("leaky_relu", {}, F.leaky_relu),
    "leaky_relu_slope": ("leaky_relu", {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    "elu": ("elu", {}, F.elu),
    "elu_alpha": ("elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5)),
    "selu": ("selu", {}, F.selu),
    "celu": ("celu", {}, F.celu),
    "celu_alpha": ("celu", {"alpha": 2.0}, lambda x: F.celu(x, 2.0)),
    "gelu": ("gelu", {}, F.gelu),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
    "silu": ("silu", {}, F.silu),
    "mish": ("mish", {}, F.mish),
    "sigmoid": ("sigmoid", {}, torch.sigmoid),
    "tanh": ("tanh", {}, torch.tanh),
    "hardtanh": ("hardtanh", {}, F.hardtanh),
    "hardtanh_range": ("hardtanh", {"min_val": -2.0, "max_val": 0.5}, lambda x: F.hardtanh(x, -2.0, 0.5)),
    "softplus": ("softplus", {}, F.softplus),
    "softplus_beta": ("softplus", {"beta": 2.0, "threshold": 5.0}, lambda x: F.softplus(x, 2.0, 5.0)),
    "softsign": ("softsign", {}, F.softsign),
}
for name, (op, params, fn) in ops.items():
    p = {"op": op, **params}
    g.case(f"{name}_basic", fn, [r(3, 5, scale=2.0)], p)
    g.case(f"{name}_prime", fn, [r(41, scale=3.0)], p)
    g.case(f"{name}_transposed", fn, [Input(r(4, 7, scale=2.0), layout="transposed")], p)
    g.case(f"{name}_extreme", fn, [extreme], p)
# On the bounds themselves hardtanh passes no gradient (unlike clamp).
g.case("hardtanh_on_bounds", F.hardtanh, [torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])], {"op": "hardtanh"})
# Crossing the threshold: beta * x = 5 exactly stays on the log branch, above it is linear.
g.case("softplus_threshold", lambda x: F.softplus(x, 2.0, 5.0), [torch.tensor([2.0, 2.4, 2.5, 2.6, 3.0])],
       {"op": "softplus", "beta": 2.0, "threshold": 5.0})

with_zeros = lambda *s: r(*s) * (g.rand(*s) > 0.2)
g.case("prelu_channels_4d", F.prelu, [with_zeros(2, 3, 4, 5), g.rand(3)], {"op": "prelu"})
g.case("prelu_shared", F.prelu, [with_zeros(2, 3, 4, 5), g.rand(1)], {"op": "prelu"})
g.case("prelu_2d", F.prelu, [with_zeros(6, 7), g.rand(7)], {"op": "prelu"})
g.case("prelu_1d", F.prelu, [with_zeros(11), g.rand(1)], {"op": "prelu"})
g.case("prelu_transposed", F.prelu, [Input(with_zeros(2, 5, 3), layout="transposed"), g.rand(5)], {"op": "prelu"})


def maxout(x, pieces, dim):
    d = dim % x.dim()
    return x.unflatten(d, (x.shape[d] // pieces, pieces)).max(d + 1).values


for name, shape, pieces, dim in [("channels", (2, 6, 3), 2, 1), ("last", (4, 9), 3, -1), ("first", (6, 5), 3, 0),
                                 ("one_piece", (3, 4), 1, 1), ("image", (2, 8, 3, 3), 4, 1)]:
    g.case(f"maxout_{name}", lambda x, p=pieces, d=dim: maxout(x, p, d), [r(*shape)],
           {"op": "maxout", "pieces": pieces, "dim": dim})
g.case("maxout_transposed", lambda x: maxout(x, 3, 1), [Input(r(5, 6), layout="transposed")],
       {"op": "maxout", "pieces": 3, "dim": 1})
# Ties: the whole gradient goes to the first maximum of each group.
g.case("maxout_ties", lambda x: maxout(x, 4, 1), [g.randint(0, 2, 3, 8).float()], {"op": "maxout", "pieces": 4, "dim": 1})
g.save()
