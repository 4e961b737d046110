// 2-D convolution kernels: forward, backward-data and backward-weights, and the transposed convolution.
//
// Dims: N batch, C input channels, H W input extents, O output channels, G groups, KH KW kernel extents,
// OH OW output extents. Layouts are PyTorch's: x [N, C, H, W], weight [O, C / G, KH, KW], bias [O],
// y [N, O, OH, OW]. Group g maps input channels [g C/G, (g+1) C/G) to output channels [g O/G, (g+1) O/G).
//
//   y[n, o, i, j] = bias[o] + sum_{c, a, b} w[o, c, a, b] x[n, g C/G + c, i sh - pt + a dh, j sw - pl + b dw]
//
// (x read as 0 outside [0, H) x [0, W)), with OH = floor((H + pt + pb - dh (KH - 1) - 1) / sh) + 1 and likewise OW.
// The backward passes are that sum read the other way: dx scatters dy through w, dw correlates dy with x.
//
// The fast functions run oneDNN 2.6 convolution primitives (float32), created once per shape and cached per thread
// like kernels::matmul (see src/kernels/conv.cpp); float64 (gradcheck) and anything oneDNN declines run the *_reference
// twins, direct loops that tests compare with the fast path. Inputs may be strided views (copied to contiguous);
// results are fresh contiguous tensors. Every function throws ShapeError naming `op`-style names ("conv2d",
// "conv_transpose2d") and both shapes when the shapes do not fit, DTypeError when dtypes differ.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <array>
#include <cstdint>

namespace vigil::kernels {

// Geometry of a convolution. Padding is per side (top, bottom, left, right), so PyTorch's "same" with an even
// kernel (one more on the bottom/right) is expressible. pad_bottom/pad_right may be negative (rows cut from the
// input's end): conv_transpose2d's output_padding reads as such a cut (see conv_transpose2d below); oneDNN takes a
// cut smaller than the stride, larger ones run the reference loops. The autograd ops take only padding >= 0 from
// users.
struct ConvParams {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
};

// floor((in + pad_lo + pad_hi - dilation (k - 1) - 1) / stride) + 1; may be <= 0 when the kernel does not fit.
std::int64_t conv_output_extent(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad_lo,
                                std::int64_t pad_hi, std::int64_t dilation);

// y's shape [N, O, OH, OW] for x [N, C, H, W] and weight [O, C/G, KH, KW]. Throws ShapeError naming `op` and both
// shapes when x or weight is not 4-D, C != G * weight[1], G does not divide O, strides/dilations/groups are not
// positive, or the dilated kernel is larger than the padded input (OH or OW < 1).
Shape conv2d_output_shape(const Shape& x, const Shape& weight, const ConvParams& p, const char* op = "conv2d");

// y = conv(x, weight) + bias. `bias` [O] may be undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p);
Tensor conv2d_reference(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p);

// dx [x_shape] from dy [N, O, OH, OW]: dx[n, c, h, w] = sum over the (o, i, j, a, b) that read x[n, c, h, w] of
// dy[n, o, i, j] w[o, c', a, b]. Requires conv2d_output_shape(x_shape, weight) == dy's shape (ShapeError otherwise).
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& weight, const Shape& x_shape, const ConvParams& p);
Tensor conv2d_backward_data_reference(const Tensor& dy, const Tensor& weight, const Shape& x_shape,
                                      const ConvParams& p);

// dw [weight_shape] = sum_{n, i, j} dy[n, o, i, j] x[n, g C/G + c, i sh - pt + a dh, j sw - pl + b dw], and, when
// with_bias, db [O] = sum_{n, i, j} dy[n, o, i, j] (undefined otherwise). Computed in one pass on the fast path.
struct ConvWeightGrads {
  Tensor dweight;
  Tensor dbias;
};
ConvWeightGrads conv2d_backward_weights(const Tensor& dy, const Tensor& x, const Shape& weight_shape,
                                        const ConvParams& p, bool with_bias);
ConvWeightGrads conv2d_backward_weights_reference(const Tensor& dy, const Tensor& x, const Shape& weight_shape,
                                                  const ConvParams& p, bool with_bias);

// Transposed convolution (PyTorch's conv_transpose2d): x [N, C, H, W], weight [C, O/G, KH, KW], bias [O] -> y
// [N, O, OH, OW] with OH = (H - 1) sh - pt - pb + dh (KH - 1) + output_padding_h + 1 (likewise OW). It is the
// backward-data pass of the convolution that maps y's shape to x's with weight, so the fast path is exactly that:
//   conv_transpose2d(x, w, p, op) = conv2d_backward_data(x, w, [N, O, OH, OW], transposed_as_conv(p, op)) + bias,
// where transposed_as_conv cuts output_padding from pad_bottom/pad_right: the extra rows sit past the last window,
// and the cut makes that convolution's output extent exactly H. Its gradients are convolutions too (see the
// autograd op). Throws ShapeError when output_padding is not below stride or dilation (per dim), or OH/OW < 1.
Shape conv_transpose2d_output_shape(const Shape& x, const Shape& weight, const ConvParams& p,
                                    std::array<std::int64_t, 2> output_padding);
ConvParams transposed_as_conv(const ConvParams& p, std::array<std::int64_t, 2> output_padding);
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p,
                        std::array<std::int64_t, 2> output_padding);
// Direct scatter loop: y[n, o, i sh - pt + a dh, j sw - pl + b dw] += x[n, c, i, j] w[c, o', a, b].
Tensor conv_transpose2d_reference(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p,
                                  std::array<std::int64_t, 2> output_padding);

}  // namespace vigil::kernels
