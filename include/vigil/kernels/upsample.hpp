// 2-D upsampling (resizing) kernels: nearest-neighbour and bilinear, PyTorch 1.13's index formulas.
//
// Dims: x [N, C, H, W] -> y [N, C, OH, OW]. `scale_h`, `scale_w` are the scale factors the caller asked for, or
// 0 when it gave an output size: PyTorch maps coordinates with 1 / scale when one was given, else with H / OH, and
// so does vigil (they differ when the scale does not divide: H = 5, scale 1.5 gives OH = 7 but maps with 1 / 1.5).
//
// nearest:   src = min(floor(dst * r), in - 1),  r = 1 / scale or in / out  (computed in float, as PyTorch's
//            kernel does, so that the same source pixel is chosen).
// bilinear:  align_corners: src = dst * (in - 1) / (out - 1) (0 when out == 1): corner pixels' centres match;
//            otherwise:     src = max((dst + 0.5) r - 0.5, 0): pixel areas match (half-pixel centres).
//            i0 = floor(src), i1 = min(i0 + 1, in - 1), lambda = src - i0;
//            y = (1 - lh) ((1 - lw) x[h0, w0] + lw x[h0, w1]) + lh ((1 - lw) x[h1, w0] + lw x[h1, w1]).
// Both are linear in x; each backward scatters dy through the same weights (nearest: weight 1 at src).
//
// Fast kernels: row-major planes split over OpenMP threads, source indices and weights tabulated once per axis.
// The *_reference twins read through strides, one thread, recompute the indices per element and accumulate the
// backward in double.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>

namespace vigil::kernels {

// Checks x is [N, C, H, W] floating with a non-empty plane and out_h, out_w positive; throws ShapeError or
// DTypeError naming `op`. Returns [N, C, out_h, out_w].
Shape check_upsample2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w, const char* op);

Tensor upsample_nearest2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w, double scale_h = 0,
                                  double scale_w = 0);
Tensor upsample_nearest2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w,
                                            double scale_h = 0, double scale_w = 0);
Tensor upsample_nearest2d_backward(const Tensor& dy, const Shape& input_shape, double scale_h = 0, double scale_w = 0);
Tensor upsample_nearest2d_backward_reference(const Tensor& dy, const Shape& input_shape, double scale_h = 0,
                                             double scale_w = 0);

Tensor upsample_bilinear2d_forward(const Tensor& x, std::int64_t out_h, std::int64_t out_w, bool align_corners,
                                   double scale_h = 0, double scale_w = 0);
Tensor upsample_bilinear2d_forward_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w,
                                             bool align_corners, double scale_h = 0, double scale_w = 0);
Tensor upsample_bilinear2d_backward(const Tensor& dy, const Shape& input_shape, bool align_corners,
                                    double scale_h = 0, double scale_w = 0);
Tensor upsample_bilinear2d_backward_reference(const Tensor& dy, const Shape& input_shape, bool align_corners,
                                              double scale_h = 0, double scale_w = 0);

}  // namespace vigil::kernels
