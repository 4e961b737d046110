// 2-D pooling kernels: max and average pooling over sliding windows, and adaptive pooling to a fixed output size.
//
// Dims: x [N, C, H, W] -> y [N, C, OH, OW]. Every (n, c) plane is pooled on its own.
//
// Sliding windows (Window2d): output row oh reads input rows oh * stride_h - pad_h + [0, kernel_h), clipped to
// the input; OH = floor((H + 2 pad_h - kernel_h) / stride_h) + 1 (PyTorch's floor mode), likewise for W.
//   max:  y = max over the window's input elements (padding never wins: it acts as -inf); the argmax is the first
//         maximum in row-major window order, and a NaN wins over every number (PyTorch's rule).
//   avg:  y = sum over the window's input elements / divisor, divisor = kernel_h * kernel_w when count_include_pad
//         (padding counts as zeros, PyTorch's default), else the number of input elements the window covers.
// Adaptive windows: output index i of O over an input extent I covers [floor(i I / O), ceil((i + 1) I / O)),
// PyTorch's formula: windows of varying size that tile the input (overlapping by one when O does not divide I).
//
// Max pooling returns the argmax as int64 indices of y's shape, each a flat position h * W + w in its input plane
// (PyTorch's convention); the backward routes dy there: dx[n, c, idx] += dy. Average pooling's backward spreads
// dy / divisor over the window.
//
// Fast kernels take a row-major copy of x when it is not one, split the N * C planes across OpenMP threads and
// accumulate in T; the *_reference twins read x through its strides, single-threaded, accumulate in double and
// recompute each window from the formulas above. Tests compare the two.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>

namespace vigil::kernels {

struct Window2d {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
};

// True for the 2x2 window with stride 2 and no padding: it has its own fast path, and a fused form after a batch
// norm and ReLU (kernels/batch_norm.hpp).
bool is_max_pool_2x2(const Window2d& w);

// floor((in + 2 pad - kernel) / stride) + 1.
std::int64_t pooled_extent(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad);

// Checks x is [N, C, H, W] floating with H, W > 0, the window's kernel and stride positive, 0 <= pad <= kernel / 2
// (PyTorch's limit) and an output of at least 1 x 1; throws ShapeError (or DTypeError) naming `op` and the shapes.
// Returns the output shape [N, C, OH, OW].
Shape check_pool2d(const Tensor& x, const Window2d& w, const char* op);
// Checks x is [N, C, H, W] floating with H, W > 0 and out_h, out_w positive; returns [N, C, out_h, out_w].
Shape check_adaptive_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w, const char* op);

struct MaxPoolResult {
  Tensor y;        // [N, C, OH, OW], x's dtype
  Tensor indices;  // int64 [N, C, OH, OW]: h * W + w of the argmax in its input plane
};

MaxPoolResult max_pool2d_forward(const Tensor& x, const Window2d& w);
MaxPoolResult max_pool2d_forward_reference(const Tensor& x, const Window2d& w);

// dx [input_shape] with dx[n, c, indices[n, c, i, j]] += dy[n, c, i, j]; also adaptive max pooling's backward.
Tensor max_pool2d_backward(const Tensor& dy, const Tensor& indices, const Shape& input_shape);
Tensor max_pool2d_backward_reference(const Tensor& dy, const Tensor& indices, const Shape& input_shape);

Tensor avg_pool2d_forward(const Tensor& x, const Window2d& w, bool count_include_pad);
Tensor avg_pool2d_forward_reference(const Tensor& x, const Window2d& w, bool count_include_pad);
Tensor avg_pool2d_backward(const Tensor& dy, const Shape& input_shape, const Window2d& w, bool count_include_pad);
Tensor avg_pool2d_backward_reference(const Tensor& dy, const Shape& input_shape, const Window2d& w,
                                     bool count_include_pad);

// Start and end (exclusive) of adaptive window i: floor(i in / out), ceil((i + 1) in / out).
std::int64_t adaptive_start(std::int64_t i, std::int64_t in, std::int64_t out);
std::int64_t adaptive_end(std::int64_t i, std::int64_t in, std::int64_t out);

Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w);
Tensor adaptive_avg_pool2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w);
// dy [N, C, out_h, out_w] -> dx [input_shape]: each output's gradient shared evenly by its window.
Tensor adaptive_avg_pool2d_backward(const Tensor& dy, const Shape& input_shape);
Tensor adaptive_avg_pool2d_backward_reference(const Tensor& dy, const Shape& input_shape);

// Backward: max_pool2d_backward with the returned indices.
MaxPoolResult adaptive_max_pool2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w);
MaxPoolResult adaptive_max_pool2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w);

}  // namespace vigil::kernels
