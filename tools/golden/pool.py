"""Golden values for pooling, upsampling and batch norm (tests/golden/pool.json).

Batch norm cases record the running statistics before (params running_mean, running_var) and after the step
(running_mean_after, running_var_after), read back from a torch BatchNorm module's buffers.
"""
import torch
import torch.nn.functional as F
from common import Golden, Input, encode

g = Golden("pool")
r = g.randn

# ---- max pooling: odd sizes, stride != kernel, padding, ties, a transposed input ----
def max_case(name, x, kernel, stride=None, padding=0):
    g.case(name, lambda t: F.max_pool2d(t, kernel, stride, padding), [x],
           {"op": "max_pool2d", "kernel": list(kernel), "stride": list(stride or (0, 0)), "padding": list(padding if isinstance(padding, tuple) else (padding, padding))})

max_case("max_2x2", r(2, 3, 6, 6), (2, 2))
max_case("max_odd_stride1", r(1, 2, 7, 5), (3, 3), (1, 1))
max_case("max_stride_ne_kernel_pad", r(2, 2, 9, 8), (3, 2), (2, 3), (1, 1))
max_case("max_pad_overlap", r(1, 3, 5, 7), (3, 3), (2, 2), (1, 1))
max_case("max_transposed", Input(r(2, 2, 6, 5), layout="transposed"), (2, 2), (1, 2))
# Ties: integers in a small range, many equal maxima per window; torch takes the first.
max_case("max_ties", torch.randint(0, 3, (2, 2, 6, 6), generator=g.gen).float(), (3, 3), (1, 1), (1, 1))
max_case("max_all_equal", torch.ones(1, 1, 4, 4), (2, 2), (1, 1))

# ---- average pooling: count_include_pad both ways ----
def avg_case(name, x, kernel, stride=None, padding=(0, 0), include=True):
    g.case(name, lambda t: F.avg_pool2d(t, kernel, stride, padding, count_include_pad=include), [x],
           {"op": "avg_pool2d", "kernel": list(kernel), "stride": list(stride or (0, 0)), "padding": list(padding), "count_include_pad": include})

avg_case("avg_2x2", r(2, 3, 6, 6), (2, 2))
avg_case("avg_odd_pad", r(1, 2, 7, 5), (3, 3), (2, 2), (1, 1))
avg_case("avg_pad_exclude", r(1, 2, 7, 5), (3, 3), (2, 2), (1, 1), False)
avg_case("avg_rect", r(2, 2, 9, 8), (3, 2), (2, 3), (1, 1))
avg_case("avg_transposed", Input(r(2, 2, 6, 5), layout="transposed"), (3, 2), (1, 1), (1, 0))

# ---- adaptive pooling, non-divisible sizes ----
for name, x, out in [("7x5_to_3x2", r(2, 3, 7, 5), (3, 2)), ("5x5_to_4x4", r(1, 2, 5, 5), (4, 4)),
                     ("3x3_to_5x4", r(1, 2, 3, 3), (5, 4)), ("6x6_to_1x1", r(2, 2, 6, 6), (1, 1))]:
    g.case(f"adaptive_avg_{name}", lambda t, o=out: F.adaptive_avg_pool2d(t, o), [x], {"op": "adaptive_avg_pool2d", "output_size": list(out)})
    g.case(f"adaptive_max_{name}", lambda t, o=out: F.adaptive_max_pool2d(t, o), [x], {"op": "adaptive_max_pool2d", "output_size": list(out)})

def spp(t, levels):
    return torch.cat([F.adaptive_max_pool2d(t, l).flatten(1) for l in levels], 1)

g.case("spp_124_odd", lambda t: spp(t, [1, 2, 4]), [r(2, 3, 9, 7)], {"op": "spp", "levels": [1, 2, 4]})
g.case("spp_123_small", lambda t: spp(t, [1, 2, 3]), [r(1, 2, 5, 6)], {"op": "spp", "levels": [1, 2, 3]})
g.case("global_avg", lambda t: t.mean((2, 3)), [r(2, 3, 5, 4)], {"op": "global_avg"})

# ---- upsampling ----
def up_case(name, x, mode, size=None, scale=None, align=None):
    fn = lambda t: F.interpolate(t, size=size, scale_factor=scale, mode=mode, align_corners=align)
    g.case(name, fn, [x], {"op": "upsample", "mode": mode, "size": list(size or (0, 0)),
                           "scale": list(scale or (0.0, 0.0)), "align_corners": bool(align)})

up_case("nearest_x2", r(2, 2, 3, 4), "nearest", scale=(2.0, 2.0))
up_case("nearest_size_odd", r(1, 2, 5, 3), "nearest", size=(7, 8))
up_case("nearest_scale_frac", r(1, 2, 5, 4), "nearest", scale=(1.5, 2.5))
up_case("nearest_down", r(1, 1, 7, 9), "nearest", size=(3, 4))
up_case("bilinear_x2", r(2, 2, 3, 4), "bilinear", scale=(2.0, 2.0), align=False)
up_case("bilinear_size_odd", r(1, 2, 5, 3), "bilinear", size=(7, 8), align=False)
up_case("bilinear_align_size", r(1, 2, 5, 3), "bilinear", size=(7, 8), align=True)
up_case("bilinear_align_x2", r(1, 2, 3, 4), "bilinear", scale=(2.0, 2.0), align=True)
up_case("bilinear_scale_frac", r(1, 2, 5, 4), "bilinear", scale=(1.5, 2.5), align=False)
up_case("bilinear_transposed", Input(r(1, 2, 4, 5), layout="transposed"), "bilinear", size=(6, 9), align=False)
up_case("bilinear_to_1", r(1, 1, 4, 4), "bilinear", size=(1, 3), align=True)


# ---- batch norm ----
def bn_case(name, shape, training, affine=True, momentum=0.1, eps=1e-5):
    C = shape[1]
    x = r(*shape) * 2.0 + 0.5
    rm, rv = r(C) * 0.3, g.rand(C, low=0.5, high=1.5)
    bn = (torch.nn.BatchNorm1d if len(shape) <= 3 else torch.nn.BatchNorm2d)(C, eps=eps, momentum=momentum, affine=affine)
    with torch.no_grad():
        bn.running_mean.copy_(rm)
        bn.running_var.copy_(rv)
        if affine:
            bn.weight.copy_(g.rand(C, low=0.5, high=1.5))
            bn.bias.copy_(r(C))
    bn.train(training)
    inputs = [x] + ([Input(bn.weight.detach().clone()), Input(bn.bias.detach().clone())] if affine else [])

    def fn(t, *wb):
        # The functional form on the module's own buffers, which it updates in place as BatchNorm's forward does.
        w, b = (wb[0], wb[1]) if affine else (None, None)
        return F.batch_norm(t, bn.running_mean, bn.running_var, w, b, training, momentum, eps)

    g.case(name, fn, inputs, {"op": "batch_norm", "training": training, "affine": affine, "momentum": momentum,
                              "eps": eps, "running_mean": encode(rm), "running_var": encode(rv)})
    g.cases[-1]["params"]["running_mean_after"] = encode(bn.running_mean)
    g.cases[-1]["params"]["running_var_after"] = encode(bn.running_var)


bn_case("bn2d_train", (4, 3, 5, 5), True)
bn_case("bn2d_train_odd", (3, 5, 3, 7), True, momentum=0.3, eps=1e-3)
bn_case("bn2d_eval", (2, 3, 4, 5), False)
bn_case("bn1d_nc_train", (8, 5), True)
bn_case("bn1d_nc_eval", (6, 4), False)
bn_case("bn1d_ncl_train", (4, 3, 7), True)
bn_case("bn1d_ncl_noaffine", (5, 2, 3), True, affine=False)
bn_case("bn1d_ncl_eval_noaffine", (3, 4, 6), False, affine=False)
g.save()
