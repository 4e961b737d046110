"""Golden values for the convolutions (tests/golden/conv.json): conv2d, conv1d and conv_transpose2d, forward and the
gradients of input, weight and bias.

params: "op" (conv2d | conv1d | conv_transpose2d) and the op's keyword arguments as PyTorch takes them: stride,
padding (a number, a list, "same" or "valid"), dilation, groups, output_padding; "padding_sides" [top, bottom, left,
right] is asymmetric padding, which PyTorch has no argument for: F.pad then an unpadded conv2d. Inputs are x, weight
and (when the case has one) bias.
"""
import torch.nn.functional as F
from common import Golden, Input

g = Golden("conv")
r = g.randn


def conv2d(name, x, w, b=None, **kw):
    inputs = [x, w] + ([b] if b is not None else [])
    g.case(name, lambda x, w, b=None: F.conv2d(x, w, b, **kw), inputs, {"op": "conv2d", **kw})


def conv1d(name, x, w, b=None, **kw):
    inputs = [x, w] + ([b] if b is not None else [])
    g.case(name, lambda x, w, b=None: F.conv1d(x, w, b, **kw), inputs, {"op": "conv1d", **kw})


def conv_transpose2d(name, x, w, b=None, **kw):
    inputs = [x, w] + ([b] if b is not None else [])
    g.case(name, lambda x, w, b=None: F.conv_transpose2d(x, w, b, **kw), inputs, {"op": "conv_transpose2d", **kw})


# conv2d: odd sizes, stride 2, dilation 2, groups, depthwise, "same" with even kernels, "valid", 1x1, a transposed
# (non-contiguous) input, and channel counts wide enough for oneDNN's blocked kernels.
conv2d("basic_pad1", r(2, 3, 7, 9), r(4, 3, 3, 3), r(4), padding=1)
conv2d("odd_no_bias", r(2, 5, 11, 13), r(7, 5, 3, 5))
conv2d("stride2", r(2, 3, 9, 10), r(4, 3, 3, 3), r(4), stride=2, padding=1)
conv2d("stride_2x1_pad_1x2", r(2, 3, 9, 8), r(5, 3, 3, 4), r(5), stride=[2, 1], padding=[1, 2])
conv2d("dilation2", r(2, 3, 11, 9), r(4, 3, 3, 3), r(4), padding=2, dilation=2)
conv2d("stride2_dilation2", r(1, 2, 13, 12), r(3, 2, 3, 2), r(3), stride=2, dilation=2, padding=1)
conv2d("groups3", r(2, 6, 8, 7), r(9, 2, 3, 3), r(9), padding=1, groups=3)
conv2d("depthwise", r(2, 5, 9, 9), r(5, 1, 3, 3), r(5), padding=1, groups=5)
conv2d("depthwise_multiplier_same", r(2, 4, 7, 7), r(8, 1, 5, 5), r(8), padding="same", groups=4)
conv2d("depthwise_stride2", r(2, 3, 10, 11), r(3, 1, 3, 3), None, stride=2, padding=1, groups=3)
conv2d("same_even_kernel", r(2, 3, 8, 9), r(4, 3, 4, 2), r(4), padding="same")
conv2d("same_even_dilated", r(1, 2, 10, 9), r(3, 2, 4, 2), r(3), padding="same", dilation=[3, 2])
conv2d("valid", r(2, 3, 6, 7), r(2, 3, 3, 3), r(2), padding="valid")
conv2d("pointwise", r(2, 8, 5, 5), r(16, 8, 1, 1), r(16))
conv2d("kernel_equals_input", r(2, 3, 4, 5), r(6, 3, 4, 5), r(6))
conv2d("transposed_input", Input(r(2, 3, 6, 8), layout="transposed"), r(4, 3, 3, 3), r(4), padding=1)
conv2d("wide_channels", r(1, 16, 5, 5), r(16, 16, 3, 3), r(16), padding=1)
conv2d("wide_channels_stride2", r(1, 16, 7, 7), r(16, 16, 3, 3), None, stride=2, padding=1)

x = r(2, 3, 7, 8)
g.case("padding_sides", lambda x, w, b: F.conv2d(F.pad(x, (2, 0, 1, 3)), w, b), [x, r(4, 3, 3, 3), r(4)],
       {"op": "conv2d", "padding_sides": [1, 3, 2, 0]})

# conv1d: padding, stride, "same" with an even kernel, dilation with groups.
conv1d("conv1d_basic", r(2, 3, 17), r(5, 3, 4), r(5), stride=2, padding=1)
conv1d("conv1d_same_even", r(2, 4, 12), r(6, 4, 4), r(6), padding="same")
conv1d("conv1d_dilation_groups", r(3, 4, 15), r(6, 2, 3), None, dilation=2, groups=2, padding=[3])
conv1d("conv1d_depthwise", r(2, 6, 10), r(6, 1, 5), r(6), groups=6, padding=2)

# conv_transpose2d: stride with output_padding, groups, dilation, rectangular strides, output_padding >= stride
# (allowed below the dilation).
conv_transpose2d("transpose_stride2_outpad1", r(2, 4, 5, 6), r(4, 3, 3, 3), r(3), stride=2, padding=1,
                 output_padding=1)
conv_transpose2d("transpose_groups2", r(2, 4, 5, 5), r(4, 3, 3, 3), r(6), stride=2, groups=2)
conv_transpose2d("transpose_dilation2", r(1, 3, 6, 5), r(3, 2, 3, 3), r(2), dilation=2, padding=1)
conv_transpose2d("transpose_stride_2x3_outpad_1x2", r(2, 2, 4, 3), r(2, 3, 4, 3), r(3), stride=[2, 3],
                 padding=[1, 0], output_padding=[1, 2])
conv_transpose2d("transpose_outpad_below_dilation", r(1, 2, 5, 4), r(2, 2, 3, 3), r(2), dilation=2,
                 output_padding=1)
conv_transpose2d("transpose_no_bias_even_kernel", r(2, 3, 4, 4), r(3, 2, 2, 2), None, stride=2)
conv_transpose2d("transpose_wide_channels", r(1, 16, 3, 3), r(16, 16, 3, 3), r(16), stride=2, padding=1,
                 output_padding=1)

g.save()
