// Differentiable 2-D upsampling (torch.nn.functional.interpolate in "nearest" and "bilinear" modes, PyTorch 1.13).
// Inputs are [N, C, H, W] float32 or float64; the index formulas and kernels are in vigil/kernels/upsample.hpp.
//
// Errors: ShapeError naming the op and the input's shape for a rank other than 4, an empty plane or output, or
// both or neither of size and scale given; DTypeError for a non-floating input; Error for align_corners with
// nearest.
#pragma once

#include <vigil/autograd/ops/pool.hpp>

#include <array>

namespace vigil {

enum class UpsampleMode { Nearest, Bilinear };

struct UpsampleOptions {
  UpsampleMode mode = UpsampleMode::Nearest;
  // Exactly one of: the output size (OH, OW), or scale factors (OH = floor(H scale_h), OW = floor(W scale_w)).
  // As in PyTorch, a scale also sets the coordinate map (src = dst / scale), which differs from the map of the
  // size it produces when the scale does not divide.
  Size2 size{0, 0};
  std::array<double, 2> scale{0.0, 0.0};
  // Bilinear only: true maps the corner pixels' centres onto each other, false (PyTorch's default) maps pixel
  // areas (half-pixel centres).
  bool align_corners = false;
};

// y [N, C, OH, OW]. Backward: each output's gradient goes back to the input pixels it was read from, with the same
// weights (1 for nearest; the bilinear weights, which sum to 1).
Tensor upsample2d(const Tensor& x, const UpsampleOptions& options);

inline Tensor upsample_nearest2d(const Tensor& x, Size2 size) {
  return upsample2d(x, {UpsampleMode::Nearest, size, {0.0, 0.0}, false});
}
inline Tensor upsample_bilinear2d(const Tensor& x, Size2 size, bool align_corners = false) {
  return upsample2d(x, {UpsampleMode::Bilinear, size, {0.0, 0.0}, align_corners});
}

}  // namespace vigil
