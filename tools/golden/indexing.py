"""Golden values for gather, scatter_add, index_select and one_hot (tests/golden/indexing.json)."""
import torch
import torch.nn.functional as F
from common import Golden, Input

g = Golden("indexing")
r, ri = g.randn, g.randint


def transposed(t):
    return Input(t, layout="transposed")


# gather: index values along dim in [0, x.size(dim)); index may be smaller than x on the other dims
g.case("gather_dim0", lambda x, i: torch.gather(x, 0, i), [r(4, 5), ri(0, 4, 6, 5)], {"op": "gather", "dim": 0})
g.case("gather_dim1_smaller", lambda x, i: torch.gather(x, 1, i), [r(4, 7), ri(0, 7, 3, 4)], {"op": "gather", "dim": 1})
g.case("gather_neg_3d", lambda x, i: torch.gather(x, -1, i), [r(2, 3, 5), ri(0, 5, 2, 3, 8)], {"op": "gather", "dim": -1})
g.case("gather_transposed", lambda x, i: torch.gather(x, 0, i), [transposed(r(5, 3)), transposed(ri(0, 5, 4, 3))],
       {"op": "gather", "dim": 0})
g.case("gather_prime", lambda x, i: torch.gather(x, 1, i), [r(7, 13), ri(0, 13, 7, 11)], {"op": "gather", "dim": 1})

# scatter_add: repeated indices accumulate
g.case("scatter_add_dim0", lambda x, i, s: torch.scatter_add(x, 0, i, s), [r(3, 4), ri(0, 3, 5, 4), r(5, 4)],
       {"op": "scatter_add", "dim": 0})
g.case("scatter_add_dim1_smaller", lambda x, i, s: torch.scatter_add(x, 1, i, s), [r(4, 6), ri(0, 6, 3, 5), r(3, 5)],
       {"op": "scatter_add", "dim": 1})
g.case("scatter_add_neg_3d", lambda x, i, s: torch.scatter_add(x, -2, i, s), [r(2, 3, 4), ri(0, 3, 2, 5, 4), r(2, 5, 4)],
       {"op": "scatter_add", "dim": -2})
g.case("scatter_add_transposed", lambda x, i, s: torch.scatter_add(x, 1, i, s),
       [transposed(r(4, 5)), ri(0, 5, 4, 7), transposed(r(4, 7))], {"op": "scatter_add", "dim": 1})
g.case("scatter_add_src_larger", lambda x, i, s: torch.scatter_add(x, 0, i, s), [r(3, 4), ri(0, 3, 2, 3), r(4, 5)],
       {"op": "scatter_add", "dim": 0}, backward=False)

# index_select
g.case("index_select_dim0", lambda x, i: torch.index_select(x, 0, i), [r(5, 3), ri(0, 5, 7)], {"op": "index_select", "dim": 0})
g.case("index_select_dim1_repeats", lambda x, i: torch.index_select(x, 1, i), [r(3, 4), torch.tensor([3, 0, 3, 3, 1])],
       {"op": "index_select", "dim": 1})
g.case("index_select_neg_3d", lambda x, i: torch.index_select(x, -1, i), [r(2, 3, 5), ri(0, 5, 4)],
       {"op": "index_select", "dim": -1})
g.case("index_select_transposed", lambda x, i: torch.index_select(x, 0, i), [transposed(r(6, 4)), ri(0, 6, 9)],
       {"op": "index_select", "dim": 0})
g.case("index_select_scalar_index", lambda x, i: torch.index_select(x, 1, i), [r(3, 4), torch.tensor(2)],
       {"op": "index_select", "dim": 1})

# one_hot (float, no gradient)
g.case("one_hot_1d", lambda i: F.one_hot(i, 5).float(), [ri(0, 5, 7)], {"op": "one_hot", "num_classes": 5}, backward=False)
g.case("one_hot_2d", lambda i: F.one_hot(i, 3).float(), [ri(0, 3, 2, 4)], {"op": "one_hot", "num_classes": 3}, backward=False)
g.case("one_hot_transposed", lambda i: F.one_hot(i, 4).float(), [transposed(ri(0, 4, 3, 2))],
       {"op": "one_hot", "num_classes": 4}, backward=False)
g.save()
