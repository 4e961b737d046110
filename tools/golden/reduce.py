"""Golden values for reductions and softmax (tests/golden/reduce.json): mean, max/min (values, indices, all
elements), argmax/argmin, var, std, logsumexp, softmax, log_softmax."""
import torch
from common import Golden, Input

g = Golden("reduce")
r = g.randn


def ties(*shape):
    """Small integers as floats: many equal values, to pin down which index a tie selects."""
    return g.randint(0, 4, *shape).float()


def transposed(t):
    return Input(t, layout="transposed")


# mean
g.case("mean_all", lambda x: x.mean(), [r(5, 7)], {"op": "mean", "dims": []})
g.case("mean_dim0", lambda x: x.mean(0), [r(6, 5)], {"op": "mean", "dims": [0]})
g.case("mean_neg_keep", lambda x: x.mean(-1, keepdim=True), [r(3, 4, 5)], {"op": "mean", "dims": [-1], "keepdim": True})
g.case("mean_two_dims", lambda x: x.mean((0, 2)), [r(3, 4, 5)], {"op": "mean", "dims": [0, 2]})
g.case("mean_prime", lambda x: x.mean(1), [r(13, 17)], {"op": "mean", "dims": [1]})
g.case("mean_transposed", lambda x: x.mean(0), [transposed(r(7, 3))], {"op": "mean", "dims": [0]})

# max / min along a dim: values (with backward) and indices (no backward)
for name in ["max", "min"]:
    fn = getattr(torch, name)
    for label, x, dim, keep in [("dim1", r(4, 6), 1, False), ("neg_keep", r(3, 4, 5), -1, True),
                                ("dim0_transposed", transposed(r(5, 3)), 0, False), ("ties", ties(5, 7), 1, False),
                                ("ties_dim0", ties(6, 4), 0, True), ("prime", r(11, 13), 0, False)]:
        params = {"op": name, "dim": dim, "keepdim": keep}
        g.case(f"{name}_{label}", lambda t, f=fn, d=dim, k=keep: f(t, d, keepdim=k).values, [x], params)
        g.case(f"{name}_{label}_indices", lambda t, f=fn, d=dim, k=keep: f(t, d, keepdim=k).indices, [x],
               {**params, "op": name + "_indices"}, backward=False)
    g.case(f"{name}_all", lambda t, f=fn: f(t), [r(4, 5)], {"op": name + "_all"})
    g.case(f"{name}_all_ties", lambda t, f=fn: f(t), [ties(3, 5)], {"op": name + "_all"})
    g.case(f"{name}_all_transposed", lambda t, f=fn: f(t), [transposed(ties(4, 3))], {"op": name + "_all"})

# argmax / argmin
for name in ["argmax", "argmin"]:
    fn = getattr(torch, name)
    g.case(f"{name}_dim1", lambda t, f=fn: f(t, 1), [ties(4, 6)], {"op": name, "dim": 1}, backward=False)
    g.case(f"{name}_neg_keep", lambda t, f=fn: f(t, -1, keepdim=True), [r(2, 3, 5)],
           {"op": name, "dim": -1, "keepdim": True}, backward=False)
    g.case(f"{name}_transposed", lambda t, f=fn: f(t, 0), [transposed(ties(5, 3))], {"op": name, "dim": 0}, backward=False)
    g.case(f"{name}_all", lambda t, f=fn: f(t), [ties(3, 4)], {"op": name + "_all"}, backward=False)
    g.case(f"{name}_all_transposed", lambda t, f=fn: f(t), [transposed(r(4, 3))], {"op": name + "_all"}, backward=False)

# var / std
for name in ["var", "std"]:
    fn = getattr(torch, name)
    g.case(f"{name}_all", lambda t, f=fn: f(t), [r(5, 7)], {"op": name, "dims": []})
    g.case(f"{name}_dim1_pop", lambda t, f=fn: f(t, 1, correction=0), [r(4, 6)], {"op": name, "dims": [1], "correction": 0})
    g.case(f"{name}_two_dims_keep", lambda t, f=fn: f(t, (0, 2), keepdim=True), [r(3, 4, 5)],
           {"op": name, "dims": [0, 2], "keepdim": True})
    g.case(f"{name}_neg", lambda t, f=fn: f(t, -2), [r(2, 5, 3)], {"op": name, "dims": [-2]})
    g.case(f"{name}_prime", lambda t, f=fn: f(t, 0, correction=2), [r(13, 7)], {"op": name, "dims": [0], "correction": 2})
    g.case(f"{name}_transposed", lambda t, f=fn: f(t, 1), [transposed(r(6, 4))], {"op": name, "dims": [1]})
    # |mean| >> std: the forward must not cancel (two passes). Forward only: in float32 the backward's x - mean is
    # limited by the rounding of the mean to float32 (torch's float32 gradient is itself off by ~1e-3 here).
    g.case(f"{name}_offset_mean", lambda t, f=fn: f(t, 1), [r(3, 9) * 0.01 + 1000.0], {"op": name, "dims": [1]},
           backward=False)
g.case("std_constant_lane", lambda t: torch.std(t, 1), [torch.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])],
       {"op": "std", "dims": [1]})

# logsumexp
g.case("logsumexp_dim1", lambda t: torch.logsumexp(t, 1), [r(4, 6)], {"op": "logsumexp", "dims": [1]})
g.case("logsumexp_two_dims_keep", lambda t: torch.logsumexp(t, (0, 2), keepdim=True), [r(3, 4, 5)],
       {"op": "logsumexp", "dims": [0, 2], "keepdim": True})
g.case("logsumexp_neg", lambda t: torch.logsumexp(t, -1), [r(2, 3, 7)], {"op": "logsumexp", "dims": [-1]})
g.case("logsumexp_transposed", lambda t: torch.logsumexp(t, 0), [transposed(r(5, 3))], {"op": "logsumexp", "dims": [0]})
g.case("logsumexp_large", lambda t: torch.logsumexp(t, 1), [r(3, 5, scale=1e4)], {"op": "logsumexp", "dims": [1]})
g.case("logsumexp_prime", lambda t: torch.logsumexp(t, 1), [r(11, 13)], {"op": "logsumexp", "dims": [1]})

# softmax / log_softmax
for name in ["softmax", "log_softmax"]:
    fn = getattr(torch, name)
    g.case(f"{name}_last", lambda t, f=fn: f(t, -1), [r(4, 7)], {"op": name, "dim": -1})
    g.case(f"{name}_dim0", lambda t, f=fn: f(t, 0), [r(5, 3)], {"op": name, "dim": 0})
    g.case(f"{name}_middle", lambda t, f=fn: f(t, 1), [r(2, 5, 3)], {"op": name, "dim": 1})
    g.case(f"{name}_transposed", lambda t, f=fn: f(t, 1), [transposed(r(4, 6))], {"op": name, "dim": 1})
    g.case(f"{name}_prime", lambda t, f=fn: f(t, -1), [r(13, 17)], {"op": name, "dim": -1})
    big = torch.tensor([[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, -1e4, 5.0], [3.0, 1e4, -1e4, 2.0]])
    g.case(f"{name}_extreme", lambda t, f=fn: f(t, 1), [big], {"op": name, "dim": 1})
    g.case(f"{name}_extreme_dim0", lambda t, f=fn: f(t, 0), [big], {"op": name, "dim": 0})
g.save()
