"""Golden values for pointwise math: exp .. sign, clamp, minimum/maximum, where, comparisons (tests/golden/unary.json)."""
import torch
from common import Golden, Input

g = Golden("unary")
r = g.randn

# Inputs inside each function's domain, plus an "extreme" row per op: very large/small magnitudes and exact zeros
# where the op has a kink or a special value there (abs and sign at 0).
positive = lambda *s: r(*s).abs() + 0.1
domains = {
    "exp": (r, torch.tensor([-1e4, -50.0, -1e-7, 0.0, 1e-7, 30.0])),
    "log": (positive, torch.tensor([1e-30, 1e-4, 1.0, 1e4, 3e38])),
    "log1p": (lambda *s: g.rand(*s, low=-0.9, high=3.0), torch.tensor([-0.5, -1e-7, 0.0, 1e-7, 1e4])),
    "sqrt": (positive, torch.tensor([1e-6, 1.0, 2.0, 1e4, 1e30])),
    "rsqrt": (positive, torch.tensor([1e-6, 1.0, 2.0, 1e4, 1e30])),
    "abs": (r, torch.tensor([-1e4, -1.5, -0.0, 0.0, 2.5, 1e4])),
    "sign": (r, torch.tensor([-1e4, -1.5, -0.0, 0.0, 2.5, 1e4])),
}
for name, (make, extreme) in domains.items():
    fn = getattr(torch, name)
    g.case(f"{name}_basic", fn, [make(3, 5)], {"op": name})
    g.case(f"{name}_prime", fn, [make(37)], {"op": name})
    g.case(f"{name}_transposed", fn, [Input(make(4, 7), layout="transposed")], {"op": name})
    g.case(f"{name}_3d", fn, [make(2, 3, 5)], {"op": name})
    g.case(f"{name}_extreme", fn, [extreme], {"op": name})


def clamp_case(name, x, lo, hi):
    g.case(name, lambda t: torch.clamp(t, lo, hi), [x], {"op": "clamp", "min": lo, "max": hi})


clamp_case("clamp_both", r(4, 6), -0.5, 0.5)
clamp_case("clamp_min_only", r(5, 3), 0.1, None)
clamp_case("clamp_max_only", r(3, 7), None, -0.2)
clamp_case("clamp_on_bounds", torch.tensor([-1e4, -1.0, -0.5, 0.0, 0.5, 1.0, 1e4]), -0.5, 0.5)
clamp_case("clamp_min_above_max", r(2, 5), 0.5, -0.5)
clamp_case("clamp_transposed", Input(r(5, 4), layout="transposed"), -0.3, 0.8)

# Ties are built in (values on a half-integer grid) so the half/half split of the gradient is exercised, also where
# broadcasting sums several tied positions into one input element.
tied = lambda *s: (g.randint(-2, 3, *s).float() / 2)
for name in ["minimum", "maximum"]:
    fn = getattr(torch, name)
    g.case(f"{name}_same", fn, [r(4, 5), r(4, 5)], {"op": name})
    g.case(f"{name}_broadcast", fn, [r(4, 1, 5), r(3, 1)], {"op": name})
    g.case(f"{name}_prime", fn, [r(13, 17), r(17)], {"op": name})
    g.case(f"{name}_transposed", fn, [Input(r(6, 4), layout="transposed"), r(6, 4)], {"op": name})
    g.case(f"{name}_ties", fn, [tied(4, 6), tied(4, 6)], {"op": name})
    g.case(f"{name}_ties_broadcast", fn, [tied(5, 3), tied(3)], {"op": name})
    g.case(f"{name}_extreme", fn, [torch.tensor([-1e4, 0.0, 1e4, 3.0]), torch.tensor([1e4, -0.0, -1e4, 3.0])],
           {"op": name})

mask = lambda *s: g.rand(*s) > 0.5
g.case("where_same", torch.where, [Input(mask(3, 4), requires_grad=False), r(3, 4), r(3, 4)], {"op": "where"})
g.case("where_broadcast", torch.where, [Input(mask(3, 1), requires_grad=False), r(5), r(2, 3, 5)], {"op": "where"})
g.case("where_cond_broadcast", torch.where, [Input(mask(7), requires_grad=False), r(4, 7), r(4, 1)], {"op": "where"})
g.case("where_transposed", torch.where,
       [Input(mask(5, 3), requires_grad=False), Input(r(5, 3), layout="transposed"), r(3)], {"op": "where"})

for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
    fn = getattr(torch, name)
    g.case(f"{name}_broadcast", fn, [tied(4, 5), tied(5)], {"op": name})
    g.case(f"{name}_transposed", fn, [Input(tied(3, 6), layout="transposed"), tied(3, 1)], {"op": name})
    g.case(f"{name}_scalar", lambda t, f=fn: f(t, 0.5), [tied(2, 7)], {"op": name, "value": 0.5})
g.save()
