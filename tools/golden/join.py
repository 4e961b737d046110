"""Golden values for cat, stack, split, chunk and pad (tests/golden/join.json). split and chunk return several
tensors; their cases weight part k by k + 1 and concatenate, so one output carries every part's values and each
part's gradient is distinct."""
import torch
import torch.nn.functional as F
from common import Golden, Input

g = Golden("join")
r = g.randn


def transposed(t):
    return Input(t, layout="transposed")


def weighted_cat(parts, dim):
    return torch.cat([p * (k + 1) for k, p in enumerate(parts)], dim)


# cat / stack
g.case("cat_dim0", lambda a, b: torch.cat([a, b], 0), [r(2, 3), r(4, 3)], {"op": "cat", "dim": 0})
g.case("cat_dim1_three", lambda a, b, c: torch.cat([a, b, c], 1), [r(3, 2), r(3, 5), r(3, 1)], {"op": "cat", "dim": 1})
g.case("cat_neg_3d", lambda a, b: torch.cat([a, b], -1), [r(2, 3, 4), r(2, 3, 7)], {"op": "cat", "dim": -1})
g.case("cat_transposed", lambda a, b: torch.cat([a, b], 0), [transposed(r(3, 5)), r(2, 5)], {"op": "cat", "dim": 0})
g.case("cat_one_no_grad", lambda a, b: torch.cat([a, b], 1), [Input(r(3, 2), requires_grad=False), r(3, 3)],
       {"op": "cat", "dim": 1})
g.case("stack_dim0", lambda a, b: torch.stack([a, b], 0), [r(2, 3), r(2, 3)], {"op": "stack", "dim": 0})
g.case("stack_dim1_three", lambda a, b, c: torch.stack([a, b, c], 1), [r(4, 5), r(4, 5), r(4, 5)], {"op": "stack", "dim": 1})
g.case("stack_neg", lambda a, b: torch.stack([a, b], -1), [r(3, 2), transposed(r(3, 2))], {"op": "stack", "dim": -1})

# split / chunk
g.case("split_size", lambda x: weighted_cat(torch.split(x, 2, 1), 1), [r(3, 7)], {"op": "split", "split_size": 2, "dim": 1})
g.case("split_sizes", lambda x: weighted_cat(torch.split(x, [1, 3, 2], 0), 0), [r(6, 4)],
       {"op": "split_sizes", "sizes": [1, 3, 2], "dim": 0})
g.case("split_neg_transposed", lambda x: weighted_cat(torch.split(x, 3, -1), -1), [transposed(r(4, 5))],
       {"op": "split", "split_size": 3, "dim": -1})
g.case("chunk_uneven", lambda x: weighted_cat(torch.chunk(x, 3, 1), 1), [r(2, 7)], {"op": "chunk", "chunks": 3, "dim": 1})
g.case("chunk_fewer", lambda x: weighted_cat(torch.chunk(x, 4, 0), 0), [r(6, 3)], {"op": "chunk", "chunks": 4, "dim": 0})

# pad
g.case("pad_constant_last", lambda x: F.pad(x, (1, 2)), [r(2, 3, 4)], {"op": "pad", "pads": [1, 2], "mode": "constant"})
g.case("pad_constant_two_dims_value", lambda x: F.pad(x, (2, 0, 1, 3), value=1.5), [r(3, 4)],
       {"op": "pad", "pads": [2, 0, 1, 3], "mode": "constant", "value": 1.5})
g.case("pad_constant_negative", lambda x: F.pad(x, (-1, 2, 1, -2)), [r(5, 6)],
       {"op": "pad", "pads": [-1, 2, 1, -2], "mode": "constant"})
g.case("pad_constant_transposed", lambda x: F.pad(x, (1, 1, 2, 0), value=-3.0), [transposed(r(4, 3))],
       {"op": "pad", "pads": [1, 1, 2, 0], "mode": "constant", "value": -3.0})
g.case("pad_reflect_3d", lambda x: F.pad(x, (2, 3), mode="reflect"), [r(2, 3, 5)], {"op": "pad", "pads": [2, 3], "mode": "reflect"})
g.case("pad_reflect_4d", lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), [r(1, 2, 4, 5)],
       {"op": "pad", "pads": [1, 2, 2, 1], "mode": "reflect"})
g.case("pad_reflect_transposed", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [transposed(r(1, 2, 5, 4))],
       {"op": "pad", "pads": [2, 1, 1, 2], "mode": "reflect"})
g.case("pad_replicate_3d", lambda x: F.pad(x, (3, 1), mode="replicate"), [r(2, 2, 4)],
       {"op": "pad", "pads": [3, 1], "mode": "replicate"})
g.case("pad_replicate_4d", lambda x: F.pad(x, (2, 2, 0, 3), mode="replicate"), [r(2, 1, 3, 3)],
       {"op": "pad", "pads": [2, 2, 0, 3], "mode": "replicate"})
g.case("pad_replicate_5d", lambda x: F.pad(x, (1, 0, 0, 1, 2, 1), mode="replicate"), [r(1, 1, 2, 3, 2)],
       {"op": "pad", "pads": [1, 0, 0, 1, 2, 1], "mode": "replicate"})
g.save()
