"""Golden values for the nn layers (tests/golden/layers.json): PReLU, LayerNorm, Embedding, GELU and Flatten.

params: "layer" names the layer; the other keys are its constructor arguments. Inputs are in the order the vigil
functions take them: prelu(x, weight), layer_norm(x, weight, bias), embedding(weight, indices).
"""
import torch
import torch.nn.functional as F
from common import Golden, Input

g = Golden("layers")
r = g.randn


def fixed(t):
    return Input(t, requires_grad=False)


# PReLU: one shared slope, one slope per channel (dim 1) for 2-D, 3-D and 4-D inputs, a transposed input.
g.case("prelu_shared", F.prelu, [r(4, 3, 5), torch.tensor([0.25])], {"layer": "prelu", "num_parameters": 1})
g.case("prelu_channels_3d", F.prelu, [r(4, 3, 5), g.rand(3, low=-0.5, high=0.5)], {"layer": "prelu", "num_parameters": 3})
g.case("prelu_channels_2d", F.prelu, [r(6, 5), g.rand(5, low=0.0, high=0.5)], {"layer": "prelu", "num_parameters": 5})
g.case("prelu_channels_4d", F.prelu, [r(2, 3, 4, 5), g.rand(3, low=0.0, high=0.5)], {"layer": "prelu", "num_parameters": 3})
g.case("prelu_transposed", F.prelu, [Input(r(5, 7), layout="transposed"), g.rand(7)], {"layer": "prelu", "num_parameters": 7})

# LayerNorm: over 1 and 2 trailing dims, with and without affine parameters, odd sizes, a transposed input, a
# custom eps, rows with a large offset and a tiny spread.
def ln(shape, eps=1e-5):
    return lambda x, w=None, b=None: F.layer_norm(x, shape, w, b, eps)


g.case("layer_norm_1d_affine", ln([7]), [r(4, 7, scale=2.0), g.rand(7, low=0.5, high=1.5), r(7)],
       {"layer": "layer_norm", "normalized_shape": [7], "affine": True})
g.case("layer_norm_1d_plain", ln([5]), [r(3, 5)], {"layer": "layer_norm", "normalized_shape": [5], "affine": False})
g.case("layer_norm_2d_affine", ln([5, 3]), [r(2, 3, 5, 3), g.rand(5, 3, low=0.5, high=1.5), r(5, 3)],
       {"layer": "layer_norm", "normalized_shape": [5, 3], "affine": True})
g.case("layer_norm_2d_plain", ln([3, 7]), [r(5, 3, 7) + 3.0], {"layer": "layer_norm", "normalized_shape": [3, 7], "affine": False})
g.case("layer_norm_all_dims", ln([2, 3, 5]), [r(2, 3, 5), r(2, 3, 5), r(2, 3, 5)],
       {"layer": "layer_norm", "normalized_shape": [2, 3, 5], "affine": True})
g.case("layer_norm_transposed", ln([6]), [Input(r(6, 6), layout="transposed"), g.rand(6), r(6)],
       {"layer": "layer_norm", "normalized_shape": [6], "affine": True})
g.case("layer_norm_eps", ln([9], eps=1e-2), [r(3, 9, scale=0.1), g.rand(9), r(9)],
       {"layer": "layer_norm", "normalized_shape": [9], "affine": True, "eps": 1e-2})
g.case("layer_norm_offset", ln([11]), [r(4, 11) + 50.0, g.rand(11), r(11)],
       {"layer": "layer_norm", "normalized_shape": [11], "affine": True})

# Embedding: repeated indices (their gradients accumulate), a padding row (no gradient), negative padding_idx,
# a 3-D index tensor and a 0-d one.
ids = torch.tensor([[1, 2, 1, 7], [2, 2, 0, 9], [4, 1, 1, 3]])
g.case("embedding", lambda w, i: F.embedding(i, w), [r(10, 5), fixed(ids)], {"layer": "embedding"})
g.case("embedding_padding", lambda w, i: F.embedding(i, w, padding_idx=2), [r(10, 5), fixed(ids)],
       {"layer": "embedding", "padding_idx": 2})
g.case("embedding_padding_negative", lambda w, i: F.embedding(i, w, padding_idx=9), [r(10, 3), fixed(ids)],
       {"layer": "embedding", "padding_idx": -1})
g.case("embedding_3d", lambda w, i: F.embedding(i, w), [r(6, 4), fixed(g.randint(0, 6, 2, 3, 2))], {"layer": "embedding"})
g.case("embedding_scalar", lambda w, i: F.embedding(i, w), [r(4, 3), fixed(torch.tensor(3))], {"layer": "embedding"})

# GELU, exact and tanh-approximated, as layers.
for approximate in ["none", "tanh"]:
    g.case(f"gelu_{approximate}", lambda x, a=approximate: F.gelu(x, approximate=a), [r(5, 7, scale=3.0)],
           {"layer": "gelu", "approximate": approximate})
    g.case(f"gelu_{approximate}_transposed", lambda x, a=approximate: F.gelu(x, approximate=a),
           [Input(r(3, 4, 5), layout="transposed")], {"layer": "gelu", "approximate": approximate})

# Flatten of non-contiguous (transposed) inputs: defaults, a middle range, and negative dims.
g.case("flatten_default", lambda x: torch.flatten(x, 1, -1), [Input(r(3, 4, 5), layout="transposed")],
       {"layer": "flatten", "start_dim": 1, "end_dim": -1})
g.case("flatten_middle", lambda x: torch.flatten(x, 1, 2), [Input(r(2, 3, 4, 5), layout="transposed")],
       {"layer": "flatten", "start_dim": 1, "end_dim": 2})
g.case("flatten_tail", lambda x: torch.flatten(x, -2, -1), [Input(r(2, 3, 4, 5), layout="transposed")],
       {"layer": "flatten", "start_dim": -2, "end_dim": -1})
g.case("flatten_all", lambda x: torch.flatten(x, 0, -1), [Input(r(4, 3), layout="transposed")],
       {"layer": "flatten", "start_dim": 0, "end_dim": -1})
g.save()
