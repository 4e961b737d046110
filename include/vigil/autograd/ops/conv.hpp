// Differentiable convolutions, as torch.nn.functional.conv1d / conv2d / conv_transpose2d.
//
//   conv2d:           x [N, C, H, W], weight [O, C/G, KH, KW], bias [O] -> y [N, O, OH, OW]
//                     OH = floor((H + pad_top + pad_bottom - dilation_h (KH - 1) - 1) / stride_h) + 1, same for OW
//   conv1d:           x [N, C, L],    weight [O, C/G, K],      bias [O] -> y [N, O, OL]   (conv2d with H = 1)
//   conv_transpose2d: x [N, C, H, W], weight [C, O/G, KH, KW], bias [O] -> y [N, O, OH, OW]
//                     OH = (H - 1) stride_h - 2 padding_h + dilation_h (KH - 1) + output_padding_h + 1
// (G = groups; groups == C == O is a depthwise convolution.) `bias` may be undefined (no bias).
//
// Backward (see kernels/conv.hpp for the sums):
//   conv2d:           dx = conv2d_backward_data(dy, w), dw = conv2d_backward_weights(dy, x), db = sum_{n,i,j} dy
//   conv_transpose2d: the transposed convolution is conv2d's backward-data pass, so its gradients are the other
//                     two passes of that convolution: dx = conv2d(dy, w), dw = conv2d_backward_weights(x, dy),
//                     db = sum_{n,i,j} dy.
// float32 runs on oneDNN, float64 on the reference loops (gradcheck), with the same results to rounding.
//
// Errors: ShapeError naming the op and showing the input and weight shapes when the ranks are wrong, the channels do
// not match the weight (C != G weight[1]), groups does not divide the channels, the dilated kernel is larger than the
// padded input, or padding="same" is combined with a stride > 1 (as PyTorch); Error for a padding string other
// than "same" / "valid". DTypeError when dtypes differ.
#pragma once

#include <vigil/autograd/ops/size2.hpp>
#include <vigil/tensor/tensor.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace vigil {


// A convolution's padding, as PyTorch takes it: numbers, "same" or "valid" (implicit constructors, as Size2).
//   one number p          p on every side;
//   two numbers (a, b)    2-D: a on top and bottom, b on left and right; 1-D: a on the left, b on the right;
//   sides(t, b, l, r)     2-D: each side given (what "same" resolves to);
//   "valid"               no padding;
//   "same"                the output has the input's extent (stride 1 only): the dilated kernel's overhang
//                         d (k - 1) is split with the smaller half first, so an even kernel pads one more on the
//                         bottom/right, as PyTorch does.
class ConvPadding {
 public:
  ConvPadding(std::int64_t all = 0);
  ConvPadding(int all) : ConvPadding(std::int64_t{all}) {}  // makes a literal 0 a number, not a null const char*
  ConvPadding(std::int64_t first, std::int64_t second);
  ConvPadding(const char* mode);    
  ConvPadding(std::string mode);    
  static ConvPadding sides(std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right);

  // Throws Error naming `op` unless the padding is numbers >= 0, "same" or "valid".
  void check(const char* op) const;
  // Per side {top, bottom, left, right} for a convolution of spatial rank 1 (top = bottom = 0) or 2 with the given
  // kernel extents, dilations and strides (height first; a 1-D convolution passes its dims as the width).
  // Checks as check(), and throws ShapeError for "same" with a stride > 1.
  std::array<std::int64_t, 4> resolve(const char* op, int spatial_rank, Size2 kernel, Size2 dilation,
                                       Size2 stride) const;
  // As PyTorch prints it: "1", "(1, 2)", "(0, 1, 0, 1)", "same".
  std::string str() const;
  bool is_zero() const;

 private:
  std::string mode_;  // empty for numbers
  std::array<std::int64_t, 4> values_{};
  int count_ = 1;  // how many of values_ were given
};

struct Conv2dOptions {
  Size2 stride = 1;
  ConvPadding padding = 0;
  Size2 dilation = 1;
  std::int64_t groups = 1;
};

struct Conv1dOptions {
  std::int64_t stride = 1;
  ConvPadding padding = 0;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
};

struct ConvTranspose2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;  // removed from each side of the output
  Size2 output_padding = 0;  // added to the bottom/right of the output; below stride or dilation
  Size2 dilation = 1;
  std::int64_t groups = 1;
};

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const Conv2dOptions& options = {});
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const Conv1dOptions& options = {});
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const ConvTranspose2dOptions& options = {});

}  // namespace vigil
