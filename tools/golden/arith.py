"""Golden values for arithmetic, views, sum and matmul (tests/golden/arith.json)."""
import torch
from common import Golden, Input

g = Golden("arith")
r = g.randn

for name, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)]:
    g.case(f"{name}_same", fn, [r(3, 5), r(3, 5)], {"op": name})
    g.case(f"{name}_broadcast", fn, [r(4, 1, 7), r(3, 1)], {"op": name})
    g.case(f"{name}_transposed", fn, [Input(r(5, 3), layout="transposed"), r(3)], {"op": name})
    g.case(f"{name}_prime", fn, [r(13, 17), r(1, 17)], {"op": name})
g.case("div_same", torch.div, [r(4, 6), r(4, 6).abs() + 0.5], {"op": "div"})
g.case("div_broadcast", torch.div, [r(2, 3, 4), r(4).abs() + 0.5], {"op": "div"})
g.case("neg", torch.neg, [r(7, 3)], {"op": "neg"})
g.case("pow_tensor", torch.pow, [r(3, 4).abs() + 0.1, r(3, 4)], {"op": "pow"})
g.case("pow_scalar", lambda x: torch.pow(x, 3.0), [r(5, 5)], {"op": "pow_scalar", "exponent": 3.0})
g.case("pow_half", lambda x: torch.pow(x, 0.5), [r(6).abs() + 0.1], {"op": "pow_scalar", "exponent": 0.5})
g.case("scalar_ops", lambda x: (x + 2.0) * 3.0 - 1.5 / (x.abs() + 1.0) - (4.0 - x) / 2.0, [r(4, 3)], {"op": "scalar_ops"})

g.case("sum_all", lambda x: x.sum(), [r(5, 7)], {"op": "sum", "dims": []})
g.case("sum_dim0", lambda x: x.sum(0), [r(6, 5)], {"op": "sum", "dims": [0]})
g.case("sum_dim1_keep", lambda x: x.sum(1, keepdim=True), [r(6, 5)], {"op": "sum", "dims": [1], "keepdim": True})
g.case("sum_middle", lambda x: x.sum((0, 2)), [r(3, 4, 5)], {"op": "sum", "dims": [0, 2]})
g.case("sum_transposed", lambda x: x.sum(1), [Input(r(7, 3), layout="transposed")], {"op": "sum", "dims": [1]})

g.case("reshape_permute", lambda x: x.reshape(4, 6).t().reshape(2, 12) * 1.0, [r(2, 3, 4)], {"op": "reshape_permute"})
g.case("narrow_slice", lambda x: x.narrow(1, 1, 3)[:, ::2] * 2.0, [r(4, 6)], {"op": "narrow_slice"})
g.case("expand_unsqueeze", lambda x: x.unsqueeze(0).expand(3, 4, 5) * 1.0, [r(4, 5)], {"op": "expand_unsqueeze"})

g.case("matmul_2d", torch.matmul, [r(5, 7), r(7, 3)], {"op": "matmul"})
g.case("matmul_prime", torch.matmul, [r(13, 31), r(31, 17)], {"op": "matmul"})
g.case("matmul_batched_broadcast", torch.matmul, [r(2, 1, 4, 6), r(3, 6, 5)], {"op": "matmul"})
g.case("matmul_transposed", torch.matmul, [Input(r(4, 6), layout="transposed"), Input(r(6, 5), layout="transposed")], {"op": "matmul"})
g.case("matmul_vec_mat", torch.matmul, [r(6), r(6, 4)], {"op": "matmul"})
g.case("matmul_mat_vec", torch.matmul, [r(3, 6), r(6)], {"op": "matmul"})
g.case("matmul_dot", torch.matmul, [r(9), r(9)], {"op": "matmul"})
g.case("matmul_mlp_shape", torch.matmul, [r(16, 784, scale=0.5), r(784, 24, scale=0.05)], {"op": "matmul"})
g.save()
