// Differentiable 2-D pooling, matched to PyTorch 1.13 (floor mode, no dilation). Inputs are [N, C, H, W]
// float32 or float64; the window math and the kernels are in vigil/kernels/pool.hpp.
//
// Errors: ShapeError naming the op and the input's shape for a rank other than 4, an empty plane, a kernel larger
// than the padded input, padding above half the kernel, or a non-positive kernel, stride or output size;
// DTypeError for a non-floating input.
#pragma once

#include <vigil/autograd/ops/size2.hpp>
#include <vigil/tensor/tensor.hpp>

#include <array>
#include <cstdint>
#include <vector>

namespace vigil {

// torch.nn.functional.max_pool2d(x, kernel, stride, padding). stride {0, 0} means stride = kernel (PyTorch's
// default). Padding acts as -inf. Backward: dy goes to the argmax of each window, the first maximum in row-major
// window order on ties (PyTorch's rule); overlapping windows add.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0});

// torch.nn.functional.avg_pool2d(x, kernel, stride, padding, count_include_pad). Divisor kernel_h * kernel_w
// with count_include_pad (PyTorch's default: padding counts as zeros), else the input elements covered.
// Backward: dy / divisor to every input element of the window.
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0},
                  bool count_include_pad = true);

// The mean of each (n, c) plane: [N, C, H, W] -> [N, C], or [N, C, 1, 1] with keepdim
// (torch.nn.AdaptiveAvgPool2d(1) keeps them). Backward: dy / (H W) everywhere.
Tensor global_avg_pool2d(const Tensor& x, bool keepdim = false);

// torch.nn.functional.adaptive_avg_pool2d / adaptive_max_pool2d: output [N, C, out_h, out_w] for any input plane;
// output (i, j) pools rows [floor(i H / out_h), ceil((i + 1) H / out_h)) and the like columns. Backward as avg /
// max pooling over those windows.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
Tensor adaptive_max_pool2d(const Tensor& x, Size2 output_size);

// Spatial pyramid pooling (He et al., 2014): for each level l, adaptive_max_pool2d to l x l, flattened per sample,
// concatenated in level order: [N, C, H, W] -> [N, C * sum(l^2)] for any H, W (a fixed-length vector per sample).
// Within a level the layout is [C, l, l] row-major. Requires a non-empty list of positive levels (ShapeError).
Tensor spatial_pyramid_pool(const Tensor& x, const std::vector<std::int64_t>& levels);

}  // namespace vigil
